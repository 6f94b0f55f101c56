import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCodebegenPlatform } from '../../server/codebegen/platform.js';
import { FeedManager } from '../../src/feeds/feedManager';
import type { FeedSettings } from '../../src/feeds/feedSettings';
import { JobFeed } from '../../src/feeds/jobFeed';
import type { JobEvent } from '../../src/model/events';
import { isTerminal } from '../../src/model/job';
import { codebegenDialect } from '../../src/protocols/codebegen';
import type { Source } from '../../src/protocols/source';

// Feeds against the real demo platform over loopback: no mocks between the feed and the wire.

let platform: Awaited<ReturnType<typeof startCodebegenPlatform>>;
const requestLog: string[] = [];
const fast: FeedSettings = { reconnect: { baseMs: 10, maxMs: 50, maxReconnects: 3 }, pollIntervalMs: 100 };
const feeds: { stop(): void }[] = [];

beforeAll(async () => {
  platform = await startCodebegenPlatform({ wire: 'guide', jobDurationMs: 1500, heartbeatMs: 200, log: (line: string) => requestLog.push(line) });
});
afterEach(() => feeds.splice(0).forEach((feed) => feed.stop()));
afterAll(() => platform.close());

const sourceWith = (token: string, extra: Partial<Source> = {}): Source => ({
  id: 'demo',
  name: 'Demo',
  kind: 'codebegen',
  baseUrl: platform.url,
  token,
  ...extra,
});

function watch(source: Source, jobId: string) {
  const events: JobEvent[] = [];
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const feed = new JobFeed({
    source,
    dialect: codebegenDialect,
    ref: { jobId },
    emit: (batch) => events.push(...batch),
    onModeChange: (changed) => {
      if (!changed.active) settle();
    },
    settings: fast,
  });
  feeds.push(feed);
  return { feed, events, settled };
}

const updates = (events: JobEvent[]) => events.flatMap((event) => (event.kind === 'update' ? [event.update] : []));
const links = (events: JobEvent[]) => events.flatMap((event) => (event.kind === 'link' ? [`${event.transport}:${event.link}`] : []));

describe('JobFeed against the demo platform', () => {
  it('streams a generation to completion, then closes', async () => {
    const jobId = platform.startGeneration({ prompt: 'p', __fail: false });
    const { feed, events, settled } = watch(sourceWith(platform.devToken), jobId);
    feed.stream();
    await settled;
    expect(feed.done).toBe(true);
    expect(updates(events).at(-1)).toMatchObject({ status: 'completed', progress: 100 });
    expect(links(events)).toEqual(['sse:connecting', 'sse:live', 'none:closed']);
    expect(events.filter((event) => event.kind === 'protocol-error')).toEqual([]);
  });

  it('falls back to polling after three failed reconnects and still sees the end', async () => {
    const jobId = platform.startGeneration({ prompt: 'p', __fail: false, __durationMs: 2500 });
    await fetch(`${platform.url}/__faults`, { method: 'POST', body: JSON.stringify({ job: jobId, kind: 'reset', times: 100 }) });
    const { feed, events, settled } = watch(sourceWith(platform.devToken), jobId);
    feed.stream();
    await settled;
    const linkEvents = events.filter((event) => event.kind === 'link');
    expect(linkEvents.filter((event) => event.kind === 'link' && event.reconnect)).toHaveLength(3);
    const fallback = linkEvents.find((event) => event.kind === 'link' && event.transport === 'polling');
    expect(fallback && fallback.kind === 'link' && fallback.detail).toMatch(/Stream failed 3 reconnects/);
    expect(updates(events).at(-1)).toMatchObject({ status: 'completed' });
    expect(requestLog.filter((line) => line === `GET /api/v2/generation/${jobId}/stream`)).toHaveLength(4);
  });

  it('counts a malformed message, shows it in the log, and carries on to the end', async () => {
    const jobId = platform.startGeneration({ prompt: 'p', __fail: false, __durationMs: 1500 });
    await fetch(`${platform.url}/__faults`, { method: 'POST', body: JSON.stringify({ job: jobId, kind: 'malformed', times: 1 }) });
    const { feed, events, settled } = watch(sourceWith(platform.devToken), jobId);
    feed.stream();
    await settled;
    const invalid = events.filter((event) => event.kind === 'protocol-error');
    expect(invalid).toHaveLength(1);
    expect(invalid[0].kind === 'protocol-error' && invalid[0].error).toMatch(/Malformed JSON/);
    expect(invalid[0].raw).toContain('"progress": ');
    expect(updates(events).at(-1)).toMatchObject({ status: 'completed' });
  });

  it('turns SSE comments into heartbeats (signs of life, not log lines)', async () => {
    const jobId = platform.startGeneration({ prompt: 'p', __fail: false, __durationMs: 1500 });
    const { feed, events, settled } = watch(sourceWith(platform.devToken), jobId);
    feed.stream();
    await settled;
    expect(events.filter((event) => event.kind === 'heartbeat').length).toBeGreaterThan(0);
  });

  it.each([
    ['a rejected token', () => 'not-a-valid-jwt', () => platform.startGeneration({ prompt: 'p' }), /^401 /],
    ['another user’s job', () => platform.otherUserToken, () => platform.startGeneration({ prompt: 'p' }), /^403 /],
    ['an unknown job', () => platform.devToken, () => 'gen_does_not_exist', /^404 .*Generation not found/],
  ])('halts on %s with a visible reason and no retry loop', async (_name, token, job, pattern) => {
    const jobId = job();
    const { feed, events, settled } = watch(sourceWith(token()), jobId);
    feed.stream();
    await settled;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(feed.halted).toBe(true);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ kind: 'link', link: 'error', fatal: true });
    expect(last.kind === 'link' && last.detail).toMatch(pattern);
    expect(requestLog.filter((line) => line.includes(`/${jobId}/`))).toHaveLength(1);
  });
});

describe('FeedManager fallback and return', () => {
  it('goes back to streaming once the stream works again', async () => {
    const events: JobEvent[] = [];
    const manager = new FeedManager((batch) => events.push(...batch), { ...fast, streamRetryMs: 300 });
    feeds.push({ stop: () => manager.stopAll() });
    const jobId = platform.startGeneration({ prompt: 'p', __fail: false, __durationMs: 4000 });
    await fetch(`${platform.url}/__faults`, { method: 'POST', body: JSON.stringify({ job: jobId, kind: 'reset', times: 4 }) });
    const feed = manager.watch(sourceWith(platform.devToken), codebegenDialect, { jobId });
    const transports = () => events.flatMap((event) => (event.kind === 'link' ? [`${event.transport}:${event.link}`] : []));
    await expect.poll(() => transports(), { timeout: 3000 }).toContain('polling:polling');
    await expect.poll(() => transports().slice(transports().indexOf('polling:polling')), { timeout: 3000 }).toContain('sse:live');
    expect(feed.health.fallbacks).toBe(1);
    await expect.poll(() => feed.done, { timeout: 6000 }).toBe(true);
  });
});

describe('FeedManager stream budget', () => {
  it('holds at most maxStreams streams per origin, polls the rest, and streams the focused job first', async () => {
    const events: JobEvent[] = [];
    const manager = new FeedManager((batch) => events.push(...batch), fast);
    feeds.push({ stop: () => manager.stopAll() });
    const source = sourceWith(platform.devToken, { maxStreams: 2 });
    const ids = Array.from({ length: 5 }, () => platform.startGeneration({ prompt: 'p', __durationMs: 4000 }));
    for (const id of ids) manager.watch(source, codebegenDialect, { jobId: id });
    const modes = () => ids.map((id) => manager.feed(`demo/${id}`)!.mode);
    expect(modes().filter((mode) => mode === 'stream')).toHaveLength(2);
    expect(modes().filter((mode) => mode === 'poll')).toHaveLength(3);
    // streams are not taken away from a job for another that merely arrived later
    expect(manager.feed(`demo/${ids[1]}`)!.mode).toBe('stream');
    expect(manager.feed(`demo/${ids[4]}`)!.mode).toBe('poll');

    manager.focus(new Set([`demo/${ids[4]}`]));
    expect(manager.feed(`demo/${ids[4]}`)!.mode).toBe('stream');
    expect(manager.feed(`demo/${ids[0]}`)!.mode).toBe('poll'); // the oldest stream made room
    expect(modes().filter((mode) => mode === 'stream')).toHaveLength(2);
    expect(manager.streamsByOrigin().get(new URL(platform.url).origin)).toBe(2);

    // every job still reaches its end, streamed or polled
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const finished = new Set(
          events.flatMap((event) => (event.kind === 'update' && event.update.status && isTerminal(event.update.status) ? [event.jobId] : [])),
        );
        if (ids.every((id) => finished.has(id))) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
    });
    expect(manager.size).toBe(0);
  });
});
