import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCodebegenPlatform } from '../../server/codebegen/platform.js';
import { startTakossPlatform } from '../../server/takoss/platform.js';
import { Follower, type FollowerOptions } from '../../src/feeds/follower';
import type { ListingHealth } from '../../src/feeds/discovery';
import type { FeedSettings } from '../../src/feeds/feedSettings';
import type { JobEvent } from '../../src/model/events';
import { isTerminal, jobKey, newJob, type Job } from '../../src/model/job';
import { reduceJob } from '../../src/model/reducer';
import type { Source } from '../../src/protocols/source';

// The one follower the browser and the relay both run, against the demo platforms as their own
// code serves them. What differs between the two is passed in: the relay's leases as `claim`.

const waitFor = (check: () => boolean, timeout: number) =>
  vi.waitFor(
    () => {
      if (!check()) throw new Error('not yet');
    },
    { timeout, interval: 25 },
  );

const settings: FeedSettings = { reconnect: { baseMs: 20, maxMs: 100, maxReconnects: 3 }, pollIntervalMs: 100 };

let codebegen: Awaited<ReturnType<typeof startCodebegenPlatform>>;
let takoss: Awaited<ReturnType<typeof startTakossPlatform>>;
const followers: Follower[] = [];

beforeAll(async () => {
  codebegen = await startCodebegenPlatform({ jobDurationMs: 1500 });
  takoss = await startTakossPlatform({ jobDurationMs: 600 });
});
afterAll(async () => {
  for (const follower of followers) follower.stop();
  await Promise.all([codebegen.close(), takoss.close()]);
});

const codebegenSource = (): Source => ({ id: 'cb', name: 'CodeBegen', kind: 'codebegen', baseUrl: codebegen.url, token: codebegen.devToken });

/** A follower whose published events are reduced as a store or the relay's log reduces them. */
function follower(options: Partial<FollowerOptions> = {}) {
  const jobs = new Map<string, Job>();
  const published: JobEvent[] = [];
  const listings: ListingHealth[] = [];
  const startFailures: string[] = [];
  const instance = new Follower({
    publish: (events) => {
      published.push(...events);
      for (const event of events) jobs.set(event.key, reduceJob(jobs.get(event.key) ?? newJob(event.sourceId, event.jobId, event.platform), event));
    },
    known: (key) => jobs.get(key),
    onStartFailed: (_source, jobId, error) => startFailures.push(`${jobId}: ${error.message}`),
    onListingState: (health) => listings.push(health),
    feed: settings,
    discoveryIntervalMs: 150,
    ...options,
  });
  followers.push(instance);
  return { follower: instance, jobs, published, listings, startFailures };
}

describe('the follower', () => {
  it('a job its listing shows is followed live to its end when claimed', async () => {
    const { follower: following, jobs, listings } = follower();
    following.watchSource(codebegenSource());
    const jobId = codebegen.startGeneration({ prompt: 'Claimed and followed', __fail: false });
    const key = jobKey('cb', jobId);
    await waitFor(() => jobs.get(key)?.status === 'completed', 10_000);
    // the listing shows a status only: the phases came from the job's own stream
    expect(jobs.get(key)!.phases.length).toBeGreaterThan(3);
    expect(listings.some((health) => health.listingId === 'running' && health.state.state === 'ok')).toBe(true);
  });

  it('a job another follower holds (its claim refused) is shown from the listing, never streamed here', async () => {
    const claimed: string[] = [];
    const { follower: following, jobs } = follower({ claim: (key) => (claimed.push(key), false) });
    following.watchSource(codebegenSource());
    const jobId = codebegen.startGeneration({ prompt: 'Held by another relay', __durationMs: 3000, __fail: false });
    const key = jobKey('cb', jobId);
    await waitFor(() => jobs.get(key) !== undefined, 5000);
    expect(jobs.get(key)!.title).toBe('Held by another relay');
    expect(claimed).toContain(key);
    expect(following.feed(key)).toBeUndefined();
  });

  it('a job kept live elsewhere gets no listing news, only the facts its stream lacks', async () => {
    const jobId = codebegen.startGeneration({ prompt: 'Live on another relay', __durationMs: 4000, __fail: false });
    const key = jobKey('cb', jobId);
    // as a relay's log has it: streamed live by a peer, no prompt known yet
    const elsewhere: Job = { ...newJob('cb', jobId, 'codebegen'), status: 'running', link: 'live', updatedAt: Date.now() + 60_000 };
    const published: JobEvent[] = [];
    const following = new Follower({
      publish: (events) => published.push(...events),
      known: (candidate) => (candidate === key ? elsewhere : undefined),
      claim: () => false,
      onStartFailed: () => undefined,
      feed: settings,
      discoveryIntervalMs: 150,
    });
    followers.push(following);
    following.watchSource(codebegenSource());
    await waitFor(() => published.some((event) => event.key === key), 5000);
    const mine = published.filter((event) => event.key === key);
    expect(mine.every((event) => event.kind === 'update' && event.update.status === undefined)).toBe(true);
    expect(mine.some((event) => event.kind === 'update' && event.update.title === 'Live on another relay')).toBe(true);
    expect(following.feed(key)).toBeUndefined();
  });

  it('a job that ends while it waits for a stream slot lets its place go to the running ones', async () => {
    const { follower: following, jobs } = follower();
    // one stream for the origin: the rest wait, as they do behind a browser's six connections
    following.watchSource({ ...codebegenSource(), maxStreams: 1 });
    const long = codebegen.startGeneration({ prompt: 'Holds the only stream', __durationMs: 6000, __fail: false });
    await waitFor(() => following.feed(jobKey('cb', long))?.mode === 'stream', 5000);
    const short = [0, 1].map(() => codebegen.startGeneration({ prompt: 'Over while it waited', __durationMs: 600, __fail: false }));
    await waitFor(() => short.every((jobId) => jobs.get(jobKey('cb', jobId))?.status === 'completed'), 8000);
    // the listing said how they ended: no feed is left queued for a finished job
    expect(short.map((jobId) => following.feed(jobKey('cb', jobId))?.mode)).toEqual([undefined, undefined]);
    expect(following.feed(jobKey('cb', long))?.mode).toBe('stream');
  }, 15_000);

  it('a launch the platform accepts is followed on the stream that is the job, and can be cancelled there', async () => {
    const { follower: following, jobs } = follower();
    const source: Source = { id: 'tk', name: 'Takoss', kind: 'takoss', baseUrl: takoss.url, token: takoss.devToken };
    const { jobId, cancellable } = await following.launch(source, {
      projectName: 'Landing',
      description: 'A small landing page',
      requirements: 'One page, a form',
    });
    expect(cancellable).toBe(true);
    await waitFor(() => isTerminal(jobs.get(jobKey('tk', jobId))?.status ?? 'pending'), 10_000);
    expect(jobs.get(jobKey('tk', jobId))!.status).toBe('completed');
  });

  it('a start the platform refuses rejects, and the job is handed to onStartFailed, not followed', async () => {
    const { follower: following, startFailures } = follower();
    const source: Source = { ...codebegenSource(), token: 'not-a-token' };
    await expect(following.launch(source, { prompt: 'A start with a token the platform refuses' })).rejects.toThrow(/401|token|authori[sz]/i);
    expect(following.feeds.size).toBe(0);
    // refused at the launch itself: no job was made, so there is nothing to fail
    expect(startFailures).toEqual([]);
  });
});
