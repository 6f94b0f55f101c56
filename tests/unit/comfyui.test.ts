import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startComfyuiPlatform } from '../../server/comfyui/platform.js';
import type { FeedSettings } from '../../src/feeds/feedSettings';
import { JobFeed } from '../../src/feeds/jobFeed';
import type { JobEvent } from '../../src/model/events';
import { newJob, type Job } from '../../src/model/job';
import { reduceJob } from '../../src/model/reducer';
import { comfyuiDialect, COMFYUI_STOCK_STAGES } from '../../src/protocols/comfyui';
import type { JobRef, Launched } from '../../src/protocols/dialect';
import { launchRequest } from '../../src/protocols/launch';
import { routeBook } from '../../src/protocols/routes';
import type { Source } from '../../src/protocols/source';
import { errorDetail } from '../../src/transports/http';

// The ComfyUI dialect against the demo ComfyUI over real sockets: a prompt queued as the
// dashboard queues it (socket first, then POST /prompt), read to its end; a failing one; one
// followed by a viewer that did not queue it (history only); a socket lost mid-prompt.

const fast: FeedSettings = {
  reconnect: { baseMs: 10, maxMs: 50, maxReconnects: 3 },
  pollIntervalMs: 50,
  WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
};

let platform: Awaited<ReturnType<typeof startComfyuiPlatform>>;
const feeds: JobFeed[] = [];
beforeEach(async () => {
  routeBook.reset();
  platform = await startComfyuiPlatform({ stepMs: 5, nodeMs: 2 });
});
afterEach(async () => {
  for (const feed of feeds.splice(0)) feed.stop();
  await platform.close();
});

const source = (): Source => ({ id: 'comfy', name: 'ComfyUI', kind: 'comfyui', baseUrl: platform.url });

/** Follows a job until its feed stops, folding what it emitted. */
async function follow(ref: JobRef, launched?: Launched): Promise<{ job: Job; events: JobEvent[] }> {
  const events: JobEvent[] = [...(launched?.events ?? [])];
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const feed = new JobFeed({
    source: source(),
    dialect: comfyuiDialect,
    ref,
    emit: (batch) => events.push(...batch),
    onModeChange: (changed) => {
      if (!changed.active) settle();
    },
    settings: fast,
  });
  feeds.push(feed);
  feed.stream();
  if (launched?.start) {
    await feed.whenOpen;
    events.push(...(await launched.start()));
  }
  await Promise.race([settled, new Promise((_, reject) => setTimeout(() => reject(new Error('the prompt did not end')), 15_000))]);
  return { job: events.reduce(reduceJob, newJob('comfy', ref.jobId, 'comfyui')), events };
}

const launch = (values: Record<string, unknown>) => comfyuiDialect.launch!(source(), launchRequest(comfyuiDialect, values));

describe('ComfyUI', () => {
  it('a prompt queued from the dashboard: socket first, every node in order, the sampler’s steps, the saved image', async () => {
    const launched = await launch({ prompt: 'A red fox in fresh snow', steps: 12 });
    expect(launched.ref.session).toMatch(/^genwatch-/);
    const { job, events } = await follow(launched.ref, launched);
    expect(job).toMatchObject({ status: 'completed', progress: 100, protocolErrors: 0, unrecognized: 0, title: 'A red fox in fresh snow' });
    expect(job.phases.map((phase) => phase.stage)).toEqual(COMFYUI_STOCK_STAGES);
    expect(job.step).toMatchObject({ current: 12, total: 12, label: 'sampling' });
    // two preview frames (every fifth step) arrive as signs of life, not as errors
    expect(events.filter((event) => event.kind === 'heartbeat' && event.wireType === 'preview image')).toHaveLength(2);
    expect(job.imageUrl).toMatch(new RegExp(`^${platform.url}/view\\?filename=genwatch_\\d{5}_\\.png&subfolder=&type=output$`));
    const image = await fetch(job.imageUrl!);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await image.arrayBuffer()).slice(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
  });

  it('a failing prompt: failed at the sampler with ComfyUI’s exception, and nothing after it', async () => {
    const launched = await launch({ prompt: 'Too big [fail]', steps: 10 });
    const { job } = await follow(launched.ref, launched);
    expect(job.status).toBe('failed');
    expect(job.error).toBe('KSampler (node 3) failed: torch.OutOfMemoryError: Allocation on device would exceed allowed memory. (out of memory)');
    expect(job.phases.map((phase) => phase.stage)).not.toContain('save_image');
    expect(job.imageUrl).toBeUndefined();
  });

  it('a viewer that did not queue it: no socket (ComfyUI would send it nothing), the outcome from the history', async () => {
    const launched = await launch({ prompt: 'Koi pond from above', steps: 4 });
    await follow(launched.ref, launched);
    const viewer = { jobId: launched.ref.jobId };
    expect(comfyuiDialect.streamRequest(source(), viewer)).toMatchObject({ transport: 'none' });
    const { job } = await follow(viewer);
    expect(job).toMatchObject({ status: 'completed', title: 'Koi pond from above', transport: 'none' });
    expect(job.imageUrl).toMatch(/\/view\?filename=genwatch_/);
    expect(job.createdAt).toBeGreaterThan(0);
    expect(job.finishedAt).toBeGreaterThanOrEqual(job.createdAt!);
  });

  it('a viewer polling the history keeps polling when a stream is tried again, as the feed manager does every few seconds', async () => {
    const launched = await launch({ prompt: 'A lighthouse, probed while it runs', steps: 100 });
    await launched.start!();
    const events: JobEvent[] = [];
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const feed = new JobFeed({
      source: source(),
      dialect: comfyuiDialect,
      ref: { jobId: launched.ref.jobId },
      emit: (batch) => events.push(...batch),
      onModeChange: (changed) => !changed.active && settle(),
      settings: fast,
    });
    feeds.push(feed);
    feed.stream();
    for (let probe = 0; probe < 4; probe++) {
      await new Promise((resolve) => setTimeout(resolve, 60));
      feed.probeStream();
      expect(feed.mode).toBe('poll');
    }
    await Promise.race([settled, new Promise((_, reject) => setTimeout(() => reject(new Error('polling stopped before the prompt ended')), 15_000))]);
    expect(events.reduce(reduceJob, newJob('comfy', launched.ref.jobId, 'comfyui')).status).toBe('completed');
  });

  it('a socket closed with 1011 mid-prompt: reconnected under the same client id, and the prompt still ends', async () => {
    const launched = await launch({ prompt: 'A tiny robot watering a bonsai', steps: 20 });
    await fetch(`${platform.url}/__faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'ws-close', job: launched.ref.session, events: 6, code: 1011, times: 1 }),
    });
    const { job } = await follow(launched.ref, launched);
    expect(job.status).toBe('completed');
    expect(job.reconnects).toBeGreaterThanOrEqual(1);
    expect(job.imageUrl).toBeDefined();
  });

  it('lists the queue for discovery: running first, then pending in order, titled by their prompt text', async () => {
    const post = (text: string) =>
      fetch(`${platform.url}/prompt`, {
        method: 'POST',
        body: JSON.stringify({
          client_id: 'someone-else',
          prompt: {
            '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'x' } },
            '2': { class_type: 'CLIPTextEncode', inputs: { text, clip: ['1', 1] } },
            '3': { class_type: 'SaveImage', inputs: { images: ['2', 0] } },
          },
        }),
      });
    await post('first');
    await post('second');
    await post('third');
    const body = await (await fetch(`${platform.url}/queue`)).text();
    const sightings = comfyuiDialect.parseDiscovery!(source(), body, Date.now());
    if ('error' in sightings) throw new Error(sightings.error);
    const titles = sightings.map((sighting) => {
      const update = sighting.events[0].kind === 'update' ? sighting.events[0].update : {};
      return `${update.title}:${update.status}`;
    });
    expect(titles).toEqual(['first:running', 'second:pending', 'third:pending']);
  });

  it('says why ComfyUI refused a prompt, in its own words', async () => {
    const answer = await fetch(`${platform.url}/prompt`, {
      method: 'POST',
      body: JSON.stringify({ prompt: { '1': { class_type: 'NoSuchNode', inputs: {} } } }),
    });
    expect(answer.status).toBe(400);
    expect(errorDetail(await answer.json())).toBe("Cannot execute because node NoSuchNode does not exist.: Node ID '#1'");
  });
});
