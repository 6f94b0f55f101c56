import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startCodebegenPlatform } from '../../server/codebegen/platform.js';
import { startComfyuiPlatform } from '../../server/comfyui/platform.js';
import { startImagegenPlatform } from '../../server/imagegen/platform.js';
import { startSmartforgePlatform } from '../../server/smartforge/platform.js';
import { startTakossPlatform } from '../../server/takoss/platform.js';
import { listingsOf, settleDeparted, SourceDiscovery, type DiscoveryState } from '../../src/feeds/discovery';
import { FeedManager } from '../../src/feeds/feedManager';
import type { FeedSettings } from '../../src/feeds/feedSettings';
import type { JobFeed } from '../../src/feeds/jobFeed';
import type { JobEvent } from '../../src/model/events';
import { displayStatus, isTerminal, newJob, type Job } from '../../src/model/job';
import { reduceJob } from '../../src/model/reducer';
import { dialectFor } from '../../src/protocols';
import type { JobSighting } from '../../src/protocols/dialect';
import { launchRequest } from '../../src/protocols/launch';
import { routeBook } from '../../src/protocols/routes';
import type { Source } from '../../src/protocols/source';
import { postJson } from '../support/http';
import { startScriptServer } from '../support/scriptServer';

// Jobs started by another client and opened by id, against the demo platforms as their own code
// serves them: the platform is asked what the id is before anything is opened, and an id it has
// no job by says so, instead of a stream that answers any id with heartbeats being taken for life.

const settings: FeedSettings = {
  reconnect: { baseMs: 20, maxMs: 100, maxReconnects: 3 },
  pollIntervalMs: 100,
  WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  confirmWithinMs: 600,
};

const requestLog: string[] = [];
const log = (line: string) => requestLog.push(line);
let codebegen: Awaited<ReturnType<typeof startCodebegenPlatform>>;
let takoss: Awaited<ReturnType<typeof startTakossPlatform>>;
let smartforge: Awaited<ReturnType<typeof startSmartforgePlatform>>;
let imagegen: Awaited<ReturnType<typeof startImagegenPlatform>>;
let comfyui: Awaited<ReturnType<typeof startComfyuiPlatform>>;
const managers: FeedManager[] = [];

beforeAll(async () => {
  codebegen = await startCodebegenPlatform({ jobDurationMs: 1200, log });
  takoss = await startTakossPlatform({ jobDurationMs: 600, log });
  smartforge = await startSmartforgePlatform({ jobDurationMs: 1200, heartbeatMs: 100, log });
  imagegen = await startImagegenPlatform({ stepMs: 20, log });
  comfyui = await startComfyuiPlatform({ stepMs: 5, nodeMs: 2, log });
});
beforeEach(() => routeBook.reset());
afterAll(async () => {
  for (const manager of managers) manager.stopAll();
  await Promise.all([codebegen.close(), takoss.close(), smartforge.close(), imagegen.close(), comfyui.close()]);
});

const sources = () =>
  ({
    codebegen: { id: 'cb', name: 'CodeBegen', kind: 'codebegen', baseUrl: codebegen.url, token: codebegen.devToken },
    takoss: { id: 'tk', name: 'Takoss', kind: 'takoss', baseUrl: takoss.url, token: takoss.devToken },
    smartforge: { id: 'sf', name: 'Smart Forge', kind: 'smartforge', baseUrl: smartforge.url, token: (smartforge as { devToken?: string }).devToken },
    imagegen: { id: 'im', name: 'Image generation', kind: 'imagegen', baseUrl: imagegen.url, token: imagegen.devToken },
    comfyui: { id: 'cu', name: 'ComfyUI', kind: 'comfyui', baseUrl: comfyui.url },
  }) satisfies Record<string, Source>;

/**
 * Opens an id as a dashboard does for one it has never seen: through the feed manager, asking
 * first. Resolves with the job folded from what came, once `until` holds of it.
 */
async function open(source: Source, jobId: string, until: (job: Job) => boolean, timeoutMs = 15_000) {
  const events: JobEvent[] = [];
  let job = newJob(source.id, jobId, source.kind);
  let check!: () => void;
  const reached = new Promise<void>((resolve) => (check = () => until(job) && resolve()));
  const manager = new FeedManager((batch) => {
    events.push(...batch);
    job = batch.reduce(reduceJob, job);
    check();
  }, settings);
  managers.push(manager);
  const feed: JobFeed = manager.watch(source, dialectFor(source.kind), { jobId }, { identify: true });
  await Promise.race([reached, new Promise((_, reject) => setTimeout(() => reject(new Error(`not reached: ${JSON.stringify(job)}`)), timeoutMs))]);
  return { job, events, feed, manager, current: () => job };
}

const finished = (job: Job) => isTerminal(job.status);
const answered = (job: Job) => job.notFound !== undefined || finished(job);

describe('an id opened that the dashboard has never seen', () => {
  it('CodeBegen generation started by another client: looked up, then followed live to its end', async () => {
    const jobId = codebegen.startGeneration({ prompt: 'Started by a backend, opened by id', __fail: false });
    const { job, events } = await open(sources().codebegen, jobId, finished);
    expect(job.status).toBe('completed');
    expect(job.title).toBe('Started by a backend, opened by id');
    expect(events.find((event) => event.kind === 'update' && event.label === 'lookup')).toBeDefined();
    expect(requestLog).toContain(`GET /generations/${jobId}`);
    expect(job.phases.length).toBeGreaterThan(5);
  });

  it('CodeBegen generation finished before it was opened: its history comes first, the row’s end after it', async () => {
    const jobId = codebegen.startGeneration({ prompt: 'Over before anyone looked', __durationMs: 200, __fail: false });
    await new Promise((resolve) => setTimeout(resolve, 600));
    const { job, events } = await open(sources().codebegen, jobId, finished);
    expect(job.status).toBe('completed');
    const updates = events.filter((event) => event.kind === 'update');
    const firstEnd = updates.findIndex((event) => event.kind === 'update' && event.update.status === 'completed');
    // the replayed stages came before any end, so none was dropped as after it
    expect(updates.slice(0, firstEnd).filter((event) => event.kind === 'update' && event.update.stage !== undefined).length).toBeGreaterThan(4);
    expect(job.phases.length).toBeGreaterThan(5);
    expect(job.title).toBe('Over before anyone looked');
  });

  it('CodeBegen iteration started by another client: its row says it is one, so its own stream is followed, never the v2 one', async () => {
    const parent = codebegen.startGeneration({ prompt: 'Parent generation', __durationMs: 200, __fail: false });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { body } = await postJson(
      `${codebegen.url}/generations/iterate`,
      { parent_generation_id: parent, modification_prompt: 'Iterated by a colleague', __durationMs: 1500 },
      codebegen.devToken,
    );
    const childId = body.generation_id as string;
    const { job } = await open(sources().codebegen, childId, finished);
    expect(job.status).toBe('completed');
    expect(job.variant).toBe('iteration');
    expect(job.parentKey).toBe(`cb/${parent}`);
    expect(requestLog).toContain(`POST /generations/generate/${childId}/stream-token`);
    expect(requestLog.filter((line) => line === `GET /api/v2/generation/generate/${childId}/stream`)).toEqual([]);
  }, 30_000);

  it.each([
    ['CodeBegen', 'codebegen', '0b7c4c5e-0000-4000-8000-00000000dead', /404 Not found \(Generation not found\)/],
    ['Smart Forge, not a project id', 'smartforge', 'not-a-uuid', /400 Bad request \(id: Invalid uuid\)/],
    ['Smart Forge', 'smartforge', '0b7c4c5e-0000-4000-8000-00000000dead', /404 Not found \(Project not found\)/],
    ['Takoss, a finished project’s id', 'takoss', 'proj-1', /404 Not found \(Project not found\)/],
  ] as const)('%s: an id it has no job by is said not found, in its own words, and nothing is opened', async (_name, kind, jobId, answer) => {
    const before = requestLog.length;
    const { job, feed } = await open(sources()[kind], jobId, answered, 5000);
    expect(displayStatus(job)).toBe('not found');
    expect(job.notFound).toMatchObject({ final: true });
    expect(job.notFound!.answer).toMatch(answer);
    expect(feed.halted).toBe(true);
    expect(feed.mode).toBe('idle');
    // a lookup, and no stream
    expect(requestLog.slice(before).filter((line) => line.includes('/stream'))).toEqual([]);
    expect(requestLog.length - before).toBeLessThanOrEqual(2);
  });

  it('Takoss: an id of a generation still running elsewhere is not one the platform can know yet, and says so', async () => {
    const { job } = await open(sources().takoss, 'tk-started-elsewhere', answered, 5000);
    expect(displayStatus(job)).toBe('not found');
    expect(job.notFound).toMatchObject({ final: false });
    expect(job.notFound!.answer).toMatch(/only the request that started it/);
  });

  it('Takoss: a finished project found by its id', async () => {
    const response = await fetch(`${takoss.url}/api/generate/stream`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${takoss.devToken}` },
      body: JSON.stringify({ projectName: 'Shop', description: 'A shop', requirements: 'Sell things' }),
    });
    await response.text();
    const projectId = (takoss as unknown as { projects(): { projectId: string }[] }).projects().at(-1)!.projectId;
    const { job } = await open(sources().takoss, projectId, finished);
    expect(job.status).toBe('completed');
    expect(job.title).toBe('Shop');
  });

  it('Smart Forge: a project running elsewhere is found by its row and followed to Complete on its stream', async () => {
    const projectId = smartforge.startProject('Inventory API with stock alerts', { durationMs: 1500 });
    const { job } = await open(sources().smartforge, projectId, finished);
    expect(job.status).toBe('completed');
    expect(requestLog.some((line) => line.startsWith('GET /api/trpc/projects.getOne'))).toBe(true);
  });

  it('image generation: a task id it knows nothing of is shown not found once its socket shows no sign of it, and found when it starts', async () => {
    const taskId = `task-opened-before-it-started-${Date.now()}`;
    const { job: missing, feed, current } = await open(sources().imagegen, taskId, (job) => job.notFound !== undefined);
    expect(missing.notFound).toMatchObject({ final: false });
    expect(missing.notFound!.answer).toMatch(/Waiting for generation to start/);
    expect(feed.active).toBe(true);
    // the task starts after all: the socket still listening takes it to its end
    const done = postJson(
      `${imagegen.url}/api/media/generate-image`,
      { prompt: 'A fox reading a newspaper', task_id: taskId, use_pexels: false, use_generation: true, num_inference_steps: 20, __stepMs: 80 },
      imagegen.devToken,
    );
    await expect.poll(() => current().status, { timeout: 10_000 }).toBe('completed');
    expect((await done).status).toBe(200);
    expect(current().notFound).toBeUndefined();
    expect(current().samples.length).toBeGreaterThan(0);
  });

  it('ComfyUI: a prompt queued by another client is found in its queue or history and followed to its end; an unknown one is not found yet', async () => {
    const source = sources().comfyui;
    const dialect = dialectFor('comfyui');
    const launched = await dialect.launch!(source, launchRequest(dialect, { prompt: 'A lighthouse at dusk' }));
    await launched.start!();
    const { job } = await open(source, launched.ref.jobId, finished);
    expect(job.status).toBe('completed');
    const { job: unknown } = await open(source, '5f0c0000-0000-4000-8000-00000000beef', answered, 5000);
    expect(displayStatus(unknown)).toBe('not found');
    expect(unknown.notFound).toMatchObject({ final: false, answer: 'ComfyUI has no prompt by this id, in its queue or in its history' });
  });

  it('a refused token stops the lookup once and asks for a new one; nothing is opened', async () => {
    const jobId = codebegen.startGeneration({ prompt: 'Needs a valid token', __fail: false });
    const before = requestLog.length;
    const { job, feed } = await open({ ...sources().codebegen, token: 'revoked' }, jobId, (current) => current.link === 'error');
    expect(job.needsToken).toBe(true);
    expect(feed.unidentified).toBe(true);
    expect(requestLog.slice(before).filter((line) => line.includes(jobId))).toEqual([`GET /generations/${jobId}`]);
  });

  it('a lookup the platform fails (a 500) leaves the id unknown: the operator is told, and what its stream sends decides', async () => {
    // a CodeBegen that cannot answer for the id, and whose stream answers any id with pings
    const platform = await startScriptServer((req, res) => {
      if (!req.url?.endsWith('/stream')) {
        res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"detail":"Internal Server Error"}');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const ping = setInterval(() => res.write(': ping\n\n'), 100);
      res.on('close', () => clearInterval(ping));
    });
    try {
      const source: Source = { ...sources().codebegen, id: 'cb500', baseUrl: platform.url.replace(/\/stream$/, '') };
      const { job, events, feed } = await open(source, 'a-generation-nobody-can-vouch-for', (current) => current.notFound !== undefined, 5000);
      const notices = events.flatMap((event) => (event.kind === 'notice' ? [event.text] : []));
      expect(notices.some((text) => /could not say what this id is \(.*500.*\): what it sends will/.test(text))).toBe(true);
      expect(job.notFound).toMatchObject({ final: false, answer: expect.stringContaining('only heartbeats') });
      // still listened to: a job that starts late is still seen
      expect(feed.active).toBe(true);
      expect(feed.mode).toBe('stream');
    } finally {
      await platform.close();
    }
  });
});

describe('the platforms’ own listings', () => {
  /** every sighting one read of each of a source's listings brings, by listing */
  async function readListings(source: Source): Promise<Map<string, { state: DiscoveryState; sightings: JobSighting[] }>> {
    const dialect = dialectFor(source.kind);
    const read = new Map<string, { state: DiscoveryState; sightings: JobSighting[] }>();
    await Promise.all(
      listingsOf(source, dialect, 60_000).map(
        (listing) =>
          new Promise<void>((resolve) => {
            const entry = { state: { state: 'starting' } as DiscoveryState, sightings: [] as JobSighting[] };
            read.set(listing.id, entry);
            const discovery = new SourceDiscovery({
              source,
              dialect,
              listing,
              onSightings: (sightings) => entry.sightings.push(...sightings),
              onState: (state) => {
                entry.state = state;
                if (state.state !== 'starting') {
                  discovery.stop();
                  resolve();
                }
              },
            });
            discovery.start();
          }),
      ),
    );
    return read;
  }

  it('CodeBegen: GET /generations/?status=… brings a generation started elsewhere, an iteration marked as one', async () => {
    const jobId = codebegen.startGeneration({ prompt: 'Found by the listing', __durationMs: 5000, __fail: false });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const read = await readListings(sources().codebegen);
    expect([...read.keys()]).toEqual(['running', 'pending']);
    expect(read.get('running')!.state).toMatchObject({ state: 'ok' });
    const sighting = read.get('running')!.sightings.find((item) => item.jobId === jobId);
    expect(sighting).toMatchObject({ finished: false });
    expect(sighting!.events[0]).toMatchObject({ kind: 'update', update: { status: 'running', title: 'Found by the listing' } });
  });

  it('CodeBegen: a generation gone from the running list is read once more, and its row says how it ended', async () => {
    const source = sources().codebegen;
    const dialect = dialectFor('codebegen');
    const jobId = codebegen.startGeneration({ prompt: 'Ends while only listed', __durationMs: 600, __fail: false });
    const running = listingsOf(source, dialect, 150).find((listing) => listing.id === 'running')!;
    const departed = await new Promise<string[]>((resolve, reject) => {
      const discovery = new SourceDiscovery({
        source,
        dialect,
        listing: running,
        onSightings: () => undefined,
        onState: (state) => state.state === 'error' && reject(new Error(state.detail)),
        // the other tests' generations leave the list too: wait for this one's
        onDeparted: (jobIds) => {
          if (!jobIds.includes(jobId)) return;
          discovery.stop();
          resolve(jobIds);
        },
      });
      discovery.start();
    });
    expect(departed).toContain(jobId);
    const events = await settleDeparted(source, dialect, jobId);
    expect(events.at(-1)).toMatchObject({ kind: 'update', update: { status: 'completed' } });
    expect(await settleDeparted(source, dialect, '0b7c4c5e-0000-4000-8000-00000000dead')).toEqual([]);
  });

  it('Smart Forge: tRPC projects.getMany; Takoss: its finished projects; ComfyUI: its queue and history', async () => {
    const projectId = smartforge.startProject('Webhook relay with retries', { durationMs: 3000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const forge = await readListings(sources().smartforge);
    expect(forge.get('projects')!.sightings.find((item) => item.jobId === projectId)).toBeDefined();

    const tk = await readListings(sources().takoss);
    expect(tk.get('projects')!.state).toMatchObject({ state: 'ok' });
    expect(tk.get('projects')!.sightings.every((item) => item.finished)).toBe(true);

    const source = sources().comfyui;
    const dialect = dialectFor('comfyui');
    const launched = await dialect.launch!(source, launchRequest(dialect, { prompt: 'Listed when done' }));
    await launched.start!();
    await expect
      .poll(async () => ((await (await fetch(`${comfyui.url}/history/${launched.ref.jobId}`)).json()) as object)[launched.ref.jobId as never], {
        timeout: 10_000,
      })
      .toBeDefined();
    const cu = await readListings(source);
    expect(cu.get('history')!.sightings.find((item) => item.jobId === launched.ref.jobId)).toMatchObject({ finished: true });
  });

  it('a deployment that does not serve a listing (the guide’s CodeBegen) marks it absent, and reads it no more', async () => {
    const guide = await startCodebegenPlatform({ wire: 'guide', jobDurationMs: 500 });
    try {
      const read = await readListings({ id: 'guide', name: 'Guide', kind: 'codebegen', baseUrl: guide.url, token: guide.devToken });
      expect(read.get('running')!.state).toMatchObject({ state: 'absent' });
    } finally {
      await guide.close();
    }
  });

  it('a source turns a listing off, or sets its interval', () => {
    const source: Source = { ...sources().codebegen, listings: { pending: false, running: 20_000 } };
    expect(listingsOf(source, dialectFor('codebegen')).map((listing) => [listing.id, listing.intervalMs])).toEqual([['running', 20_000]]);
  });
});
