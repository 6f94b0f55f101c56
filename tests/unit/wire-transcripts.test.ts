import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { FeedSettings } from '../../src/feeds/feedSettings';
import { JobFeed } from '../../src/feeds/jobFeed';
import { WireLedger } from '../../src/feeds/wireLedger';
import type { JobEvent } from '../../src/model/events';
import { newJob, type Job } from '../../src/model/job';
import { reduceJob } from '../../src/model/reducer';
import { codebegenDialect } from '../../src/protocols/codebegen';
import type { Dialect, JobRef, StreamRequest } from '../../src/protocols/dialect';
import { imagegenDialect, startImageTask } from '../../src/protocols/imagegen';
import { launchRequest } from '../../src/protocols/launch';
import { routeBook } from '../../src/protocols/routes';
import type { Source } from '../../src/protocols/source';
import { smartforgeDialect } from '../../src/protocols/smartforge';
import { takossDialect } from '../../src/protocols/takoss';
import { loadTranscript, startReplayServer, type Transcript } from '../support/wireReplay';

// Recorded transcripts of every platform (tests/fixtures/wire, made by scripts/record-wire.mjs
// from the demo platforms in both wire variants) played back byte for byte on loopback and
// read through the real transports, feed, dialects and reducer: each job must end in the
// right state with the right phases, files and steps, and without one invalid message.

const fast: FeedSettings = {
  reconnect: { baseMs: 10, maxMs: 50, maxReconnects: 3 },
  pollIntervalMs: 50,
  WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
};

/** The dialect as it is, with its waits shortened (a test's clock, not its logic). */
function hurried<T>(dialect: Dialect<T>): Dialect<T> {
  return {
    ...dialect,
    streamRequest(source, job) {
      const request = dialect.streamRequest(source, job);
      if (request.transport === 'sse') return { ...request, retryFloorMs: 0 };
      if (request.transport === 'websocket' && request.outgoing?.every)
        return { ...request, outgoing: { ...request.outgoing, every: { ...request.outgoing.every, ms: 20 } } };
      return request;
    },
  };
}

let replay: Awaited<ReturnType<typeof startReplayServer>> | undefined;
const feeds: JobFeed[] = [];
beforeEach(() => routeBook.reset());
afterEach(async () => {
  for (const feed of feeds.splice(0)) feed.stop();
  await replay?.close();
  replay = undefined;
});

async function serve(name: string): Promise<{ transcript: Transcript; source: (kind: Source['kind']) => Source }> {
  replay = await startReplayServer(name);
  const { url, transcript } = replay;
  return { transcript, source: (kind) => ({ id: 'replay', name: 'Replay', kind, baseUrl: url, token: 'replay-token' }) };
}

interface Followed {
  job: Job;
  events: JobEvent[];
  ledger: WireLedger;
  feed: JobFeed;
}

/** Follows one job through a JobFeed until it ends (and what trails its end is read), folding its events. */
async function follow(
  source: Source,
  dialect: Dialect,
  ref: JobRef,
  { pinned, first = [], drainMs = 200 }: { pinned?: StreamRequest; first?: JobEvent[]; drainMs?: number } = {},
): Promise<Followed> {
  const events: JobEvent[] = [...first];
  const ledger = new WireLedger();
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const feed = new JobFeed({
    source,
    dialect,
    ref,
    emit: (batch) => events.push(...batch),
    onModeChange: (changed) => {
      if (!changed.active) settle();
    },
    settings: { ...fast, observe: (src, channel, raw, parsed) => ledger.record(src, channel, raw, parsed) },
    pinnedStream: pinned,
  });
  feeds.push(feed);
  feed.stream();
  await Promise.race([
    settled,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`the job did not end; served: ${replay?.served.join(', ')}`)), 15_000)),
  ]);
  await new Promise((resolve) => setTimeout(resolve, drainMs));
  const job = events.reduce(reduceJob, newJob(source.id, ref.jobId, dialect.kind));
  return { job, events, ledger, feed };
}

const kinds = (events: JobEvent[], kind: JobEvent['kind']) => events.filter((event) => event.kind === kind);
const stages = (job: Job) => job.phases.map((phase) => phase.stage);

function clean({ job, events, ledger }: Followed, sourceId = 'replay') {
  expect(kinds(events, 'protocol-error'), 'no invalid message').toEqual([]);
  expect(kinds(events, 'unrecognized'), 'no unrecognized type').toEqual([]);
  expect(job.protocolErrors + job.unrecognized).toBe(0);
  const book = ledger.snapshot(sourceId);
  expect(book.invalid + book.unrecognized).toBe(0);
  expect(book.mismatches).toEqual([]);
}

describe('CodeBegen transcripts', () => {
  it.each(['upstream', 'guide'])('a generation (%s): launched, streamed to `complete`, every stage once', async (variant) => {
    const { transcript, source } = await serve(`codebegen-generation.${variant}.json`);
    const launched = await codebegenDialect.launch!(
      source('codebegen'),
      launchRequest(codebegenDialect, { prompt: 'Create a user management API with FastAPI' }),
    );
    expect(launched.ref.jobId).toBe(transcript.job!.id);
    const followed = await follow(source('codebegen'), codebegenDialect, launched.ref, { first: launched.events });
    clean(followed);
    const { job } = followed;
    expect(job).toMatchObject({ status: 'completed', progress: 100 });
    if (variant === 'upstream') {
      expect(stages(job)).toEqual([
        'initialization',
        'setup',
        'context_analysis',
        'context_analysis_complete',
        'prompt_enhancement',
        'prompt_enhancement_complete',
        'code_generation',
        'hybrid_generation',
        'code_generation_complete',
        'quality_assessment',
        'quality_assessment_complete',
        'file_management',
        'finalizing',
        'complete',
      ]);
      // the heartbeat frames are signs of life; the stream's own last word is logged, not applied
      expect(followed.events.some((event) => event.kind === 'heartbeat' && event.wireType === 'heartbeat')).toBe(true);
      expect(followed.events.some((event) => event.kind === 'notice' && event.wireType === 'stream_closing')).toBe(true);
      expect(replay!.served[1]).toBe(`GET /api/v2/generation/generate/${transcript.job!.id}/stream`);
    } else {
      expect(stages(job)).toEqual(['initializing', 'schema_extraction', 'code_generation', 'code_review', 'documentation', 'finalizing', 'completed']);
      expect(job.output).toMatchObject({ total_files: expect.any(Number) });
    }
  });

  it.each(['upstream', 'guide'])('a failed generation (%s): failed, with the reason, progress kept', async (variant) => {
    const { transcript, source } = await serve(`codebegen-failed.${variant}.json`);
    const followed = await follow(source('codebegen'), codebegenDialect, { jobId: transcript.job!.id });
    clean(followed);
    expect(followed.job.status).toBe('failed');
    expect(followed.job.progress).toBeGreaterThan(0); // the failure's 0.0 and stream_closing's 1.0 change nothing
    expect(followed.job.progress).toBeLessThan(100);
    expect(followed.job.error).toMatch(variant === 'upstream' ? /invalid code/ : /import cycle/i);
    if (variant === 'upstream') expect(stages(followed.job).slice(-2)).toEqual(['code_generation_failed', 'error']);
  });

  it('the /status that answers 500 for every generation: the stream alone carries the job', async () => {
    const { transcript } = await serve('codebegen-generation.upstream.json');
    const status = transcript.exchanges.find((exchange) => exchange.request.path.endsWith('/status'))!;
    expect(status.status).toBe(500);
    const [event] = codebegenDialect.parseStatus!(
      { source: { id: 'r', name: 'r', kind: 'codebegen', baseUrl: replay!.url }, jobId: transcript.job!.id, receivedAt: Date.now() },
      status.chunks!.join(''),
    );
    // a 500 body is never read as a state: the transport reports it as an error before that
    expect(event.kind).toBe('protocol-error');
  });

  it('an iteration (upstream): a fresh single-use token per connection, the early `completed` waited out, the end read from the generation', async () => {
    const { transcript, source } = await serve('codebegen-iteration.upstream.json');
    const followed = await follow(source('codebegen'), hurried(codebegenDialect), { jobId: transcript.job!.id, variant: 'iteration' });
    clean(followed);
    expect(followed.job).toMatchObject({ status: 'completed', progress: 100 });
    expect(stages(followed.job)).toEqual(expect.arrayContaining(['iteration_start', 'merging_files', 'iteration_complete', 'complete']));
    const served = replay!.served;
    const mints = served.filter((line) => line.endsWith('/stream-token'));
    const streams = served.filter((line) => line.endsWith('/stream'));
    // one token for each connection: none is used twice
    expect(streams.length).toBeGreaterThanOrEqual(2);
    expect(mints.length).toBeGreaterThanOrEqual(streams.length);
    const interim = followed.events.filter((event) => event.kind === 'update' && event.label === 'interim completed');
    expect(interim.length).toBeGreaterThanOrEqual(1);
  });

  it('an iteration (guide): the token handed out at launch, phase N of M and files per phase', async () => {
    const { transcript, source } = await serve('codebegen-iteration.guide.json');
    const followed = await follow(source('codebegen'), codebegenDialect, { jobId: transcript.job!.id, variant: 'iteration', secret: 'handed-out-token' });
    clean(followed);
    expect(followed.job).toMatchObject({ status: 'completed', progress: 100, step: { current: 6, label: 'Main Application' } });
    expect(followed.job.phaseFiles).toHaveLength(6);
    expect(replay!.served.some((line) => line.endsWith('/stream-token'))).toBe(false);
  });
});

describe('Takoss transcripts', () => {
  it.each(['upstream', 'guide'])('a generation (%s): the POST is the stream, phases to `complete`, and the result after it', async (variant) => {
    const { source } = await serve(`takoss-generation.${variant}.json`);
    const launched = await takossDialect.launch!(source('takoss'), {
      projectName: 'Blog Platform',
      description: 'A modern blog',
      requirements: 'Blog with auth',
    });
    const followed = await follow(source('takoss'), takossDialect, launched.ref, { pinned: launched.pinnedStream, first: launched.events });
    clean(followed);
    const { job } = followed;
    expect(job).toMatchObject({ status: 'completed', progress: 100 });
    expect(stages(job)).toEqual(['initialization', 'analysis', 'complexity', 'database', 'frontend', 'deployment', 'complete']);
    expect(Object.values(job.phaseProgress).filter((value) => value === 100)).toHaveLength(5);
    // the result frame follows `complete` and is read before the stream is let go
    expect(job.output).toMatchObject({ success: true, projectId: expect.stringMatching(/^proj-/), phases: expect.any(Object) });
    if (variant === 'upstream') expect((job.output as { visualization: string }).visualization).toMatch(/^\[HTML, \d+ KB\]$/);
  });

  it.each(['upstream', 'guide'])('a failed generation (%s): failed with the orchestrator’s reason', async (variant) => {
    const { source } = await serve(`takoss-failed.${variant}.json`);
    const launched = await takossDialect.launch!(source('takoss'), { projectName: 'Doomed', description: 'x', requirements: 'y' });
    const followed = await follow(source('takoss'), takossDialect, launched.ref, { pinned: launched.pinnedStream, first: launched.events });
    clean(followed);
    expect(followed.job.status).toBe('failed');
    expect(followed.job.error).toMatch(/rate limit/);
  });

  it('an exception (upstream): an error without phase or progress still fails the job', async () => {
    const { source } = await serve('takoss-crash.upstream.json');
    const launched = await takossDialect.launch!(source('takoss'), { projectName: 'Odd', description: 'x', requirements: 'y' });
    const followed = await follow(source('takoss'), takossDialect, launched.ref, { pinned: launched.pinnedStream, first: launched.events });
    clean(followed);
    expect(followed.job).toMatchObject({ status: 'failed', error: "Cannot read properties of undefined (reading 'entities')" });
  });

  it('the project list (upstream): finished projects, listed as completed', async () => {
    const transcript = loadTranscript('takoss-projects.upstream.json');
    const source: Source = { id: 'replay', name: 'r', kind: 'takoss', baseUrl: 'http://127.0.0.1:9' };
    const sightings = takossDialect.parseDiscovery!(source, transcript.exchanges[0].chunks!.join(''), Date.now());
    expect('error' in sightings).toBe(false);
    expect(
      Array.isArray(sightings) &&
        sightings.every((sighting) => sighting.finished && sighting.events[0].kind === 'update' && sighting.events[0].update.status === 'completed'),
    ).toBe(true);
  });
});

describe('Smart Forge transcripts', () => {
  it('the launcher’s POST /api/generate (upstream): flat events, code as it is written, files whole, and what trails `complete`', async () => {
    const { source } = await serve('smartforge-generate.upstream.json');
    const launched = await smartforgeDialect.launch!(source('smartforge'), { prompt: 'REST API for a bookstore with authors and reviews' });
    // the guide's project creation is not served: the platform's own start is used
    expect(launched.pinnedStream).toMatchObject({ method: 'POST', urls: [{ url: `${replay!.url}/api/generate` }] });
    const followed = await follow(source('smartforge'), smartforgeDialect, launched.ref, {
      pinned: launched.pinnedStream,
      first: launched.events,
      drainMs: 400,
    });
    clean(followed);
    const { job } = followed;
    expect(job).toMatchObject({ status: 'completed', progress: 100 });
    expect(stages(job)).toEqual(['Planning', 'Generating', 'Validating', 'Complete']);
    expect(job.fileOrder).toEqual(['(model output)', 'package.json', 'src/index.js', 'src/routes/bookstores.js']);
    expect(job.files['src/index.js']).toMatchObject({ done: true, content: expect.stringContaining("import express from 'express';") });
    expect(job.files['(model output)'].content).toContain('// src/routes/bookstores.js');
    // `status` after `complete` is read, and changes nothing
    expect(followed.events.at(-1)).toMatchObject({ kind: 'update', wireType: 'status' });
  });

  it('a second viewer’s /api/stream (upstream): comment heartbeats, no projectId, a stream that never ends', async () => {
    const { transcript, source } = await serve('smartforge-stream.upstream.json');
    const followed = await follow(source('smartforge'), smartforgeDialect, { jobId: transcript.job!.id });
    clean(followed);
    const { job, feed } = followed;
    expect(job).toMatchObject({ status: 'completed', progress: 100 });
    expect(job.files['src/routes/bookstores.js'].done).toBe(true);
    expect(stages(job)).toEqual(['Planning', 'Generating', 'Validating', 'Complete']);
    // the project row came from tRPC before the stream
    expect(replay!.served[0]).toBe('GET /api/trpc/projects.getOne');
    expect(feed.health.heartbeats).toBeGreaterThan(0);
  });

  it('the guide’s typed events: steps, live code in chunks, files in order', async () => {
    const { transcript, source } = await serve('smartforge-stream.guide.json');
    const followed = await follow(source('smartforge'), smartforgeDialect, { jobId: transcript.job!.id });
    clean(followed);
    const { job } = followed;
    expect(job).toMatchObject({ status: 'completed', progress: 100, step: { current: 4, total: 4 } });
    expect(job.fileOrder).toEqual(['package.json', 'index.js', 'routes/bookstores.js', 'test/bookstores.test.js']);
    expect(Object.values(job.files).every((file) => file.done)).toBe(true);
  });
});

describe('image generation transcripts', () => {
  it.each(['upstream', 'guide'])('a task (%s): its socket to the final frame, steps of both stages, and the launch answer', async (variant) => {
    const { transcript, source } = await serve(`imagegen-task.${variant}.json`);
    const ref = { jobId: transcript.job!.id };
    const followed = await follow(source('imagegen'), hurried(imagegenDialect), ref);
    clean(followed);
    const { job } = followed;
    expect(job).toMatchObject({ status: 'completed', progress: 100 });
    expect(new Set(job.samples.map((sample) => sample.stage))).toEqual(new Set(['base_model', 'refiner_model']));
    const served = replay!.served;
    expect(served[0]).toBe(variant === 'upstream' ? `WS /api/ws/image-generation/${ref.jobId}` : `WS /api/ws/image-generation/${ref.jobId}`);
    if (variant === 'guide') expect(served[1]).toBe(`WS /ws/image-generation/${ref.jobId}`);
    // the answer to the launch's POST says the same, from the other side
    const answer = await startImageTask(source('imagegen'), ref.jobId, launchRequest(imagegenDialect, { prompt: 'A lighthouse at dusk, oil painting' }));
    const done = answer.reduce(reduceJob, job);
    expect(done.status).toBe('completed');
    if (variant === 'upstream') {
      // a path on the platform's own disk is no URL: said, not shown
      expect(done.imageUrl).toBeUndefined();
      expect(answer[0].kind === 'update' && answer[0].update.output).toEqual({
        savedAt: `/app/generated_images/sdxl_${ref.jobId}.png`,
        generationTime: expect.any(Number),
      });
    } else {
      expect(done.imageUrl).toBe(`${replay!.url}/media/${ref.jobId}.svg`);
    }
  });
});
