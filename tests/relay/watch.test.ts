import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { startRelayWith } from '../../relay/main';
import { RelayConnectionsSchema } from '../../src/feeds/feedConnection';
import { isTerminal } from '../../src/model/job';
import type { Source } from '../../src/protocols/source';
import { startNats } from '../support/nats';
import { openRelayStream, relayApi, type Relayed } from '../support/relayStream';
import { startStack } from '../support/stack';
import { postJson } from '../support/http';

// Jobs started by another client (a product's backend, a script, a colleague), not through
// genwatch, against the demo platforms as their own code serves them, behind relays sharing a
// real `nats-server -js`: a viewer opening one makes a relay follow it, a backend can register
// one, and the platforms' own listings find them with no id typed.

const TOKEN = 'relay-test-token-watch-0000001';
const FAST = { reconnect: { baseMs: 100, maxMs: 500, maxReconnects: 3 }, pollIntervalMs: 300, confirmWithinMs: 2000 };
const EVERY_LISTING_OFF = { running: false, pending: false, projects: false, queue: false, history: false };

let nats: Awaited<ReturnType<typeof startNats>>;
let stack: Awaited<ReturnType<typeof startStack>>;
const relays: Awaited<ReturnType<typeof startRelayWith>>[] = [];

/** sources no listing reads: a job reaches these relays only when opened or registered */
const unlisted = (): Source[] => stack.sources({}, { listed: false }).map((source) => ({ ...source, listings: EVERY_LISTING_OFF }));

const startOne = async (relayId: string, sources: Source[] = unlisted()) => {
  const relay = await startRelayWith({
    sources,
    token: TOKEN,
    nats: nats.url,
    relayId,
    leaseSeconds: 2,
    maintainEveryMs: 300,
    feed: FAST,
    discoveryIntervalMs: 500,
  });
  relays.push(relay);
  return relay;
};

let a: Awaited<ReturnType<typeof startRelayWith>>;
let b: Awaited<ReturnType<typeof startRelayWith>>;

beforeAll(async () => {
  nats = await startNats();
  stack = await startStack({ codebegen: { jobDurationMs: 3000 }, imagegen: { stepMs: 60 } });
  a = await startOne('relay-watch-a');
  b = await startOne('relay-watch-b');
}, 30_000);

afterAll(async () => {
  for (const relay of relays) await relay.closeAll().catch(() => undefined);
  await stack?.close();
  await nats?.close();
});

const until = async (check: () => boolean, timeoutMs = 20_000, what = 'condition') => {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** a CodeBegen generation started as a product's backend starts one: straight at the platform */
async function startGenerationElsewhere(prompt: string, durationMs = 3000): Promise<string> {
  const { status, body } = await postJson(
    `${stack.platform.url}/api/v2/generation/generate`,
    { prompt, __fail: false, __durationMs: durationMs },
    stack.platform.devToken,
  );
  expect(status).toBe(201);
  return body.generation_id as string;
}

type Viewer = Awaited<ReturnType<typeof openRelayStream>>;
const updatesOf = (viewer: Viewer, key: string) => viewer.state.events.filter((event) => event.key === key && event.kind === 'update');
const reachedEnd = (viewer: Viewer, key: string) =>
  updatesOf(viewer, key).some((event) => event.kind === 'update' && isTerminal(event.update.status ?? 'running'));
const saidNotFound = (viewer: Viewer, key: string) => updatesOf(viewer, key).find((event) => event.kind === 'update' && event.update.notFound !== undefined);

describe('jobs started elsewhere, behind relays on NATS JetStream', () => {
  it('a viewer opening a CodeBegen generation started by another client makes a relay follow it live to its end', async () => {
    const jobId = await startGenerationElsewhere('Started by a backend, opened behind the relay');
    const key = `codebegen-demo/${jobId}`;
    const page = await openRelayStream(b.url, TOKEN, { open: [key] });
    await until(() => reachedEnd(page, key), 20_000, 'the generation to end on the page');
    const end = updatesOf(page, key).find((event) => event.kind === 'update' && isTerminal(event.update.status ?? 'running'))!;
    expect(end.kind === 'update' && end.update.status).toBe('completed');
    // live: progress came before the end, not only a final row
    expect(updatesOf(page, key).filter((event) => event.kind === 'update' && event.update.progress !== undefined).length).toBeGreaterThan(2);
    expect(stack.requestLog).toContain(`GET /generations/${jobId}`);
    // one relay followed it, and its log serves the job to any viewer of any relay
    const history = (await relayApi(a.url, TOKEN)(`/v1/jobs/${encodeURIComponent(key)}/events`)).body as Relayed[];
    expect(history.some((event) => event.kind === 'update' && event.update.status === 'completed')).toBe(true);
    await page.close();
  }, 30_000);

  it('an iteration started by another client is followed on its own stream, never the v2 one that answers any id', async () => {
    const parent = await startGenerationElsewhere('Parent generation started elsewhere', 300);
    await new Promise((resolve) => setTimeout(resolve, 800));
    const { status, body } = await postJson(
      `${stack.platform.url}/generations/iterate`,
      { parent_generation_id: parent, modification_prompt: 'Iterated by a colleague, opened behind the relay', __durationMs: 2500 },
      stack.platform.devToken,
    );
    expect(status).toBe(201);
    const childId = body.generation_id as string;
    const key = `codebegen-demo/${childId}`;
    const page = await openRelayStream(a.url, TOKEN, { open: [key] });
    await until(() => reachedEnd(page, key), 20_000, 'the iteration to end on the page');
    expect(updatesOf(page, key).some((event) => event.kind === 'update' && event.update.status === 'completed')).toBe(true);
    expect(stack.requestLog).toContain(`POST /generations/generate/${childId}/stream-token`);
    expect(stack.requestLog.filter((line) => line === `GET /api/v2/generation/generate/${childId}/stream`)).toEqual([]);
    await page.close();
  }, 30_000);

  it('an image task opened before it started is followed from its first step to its last', async () => {
    const taskId = `task-opened-early-${Date.now()}`;
    const key = `imagegen-demo/${taskId}`;
    const page = await openRelayStream(b.url, TOKEN, { open: [key] });
    // the socket is open upstream before the task exists
    await until(() => relays.some((relay) => relay.collector.upstream().some((feed) => feed.key === key)), 10_000, 'a relay to follow the task');
    const done = postJson(
      `${stack.imagegen.url}/api/media/generate-image`,
      { prompt: 'A lighthouse in a storm', task_id: taskId, use_pexels: false, use_generation: true, num_inference_steps: 20, __stepMs: 300 },
      stack.imagegen.devToken,
    );
    await until(() => reachedEnd(page, key), 30_000, 'the task to end on the page');
    expect((await done).status).toBe(200);
    const steps = updatesOf(page, key).flatMap((event) => (event.kind === 'update' && event.update.step ? [event.update.step] : []));
    // the platform sends progress only when asked, once a second here: one step per ask
    expect(steps.length).toBeGreaterThanOrEqual(4);
    expect(steps.at(-1)).toMatchObject({ total: 20 });
    expect(steps.at(-1)!.current).toBe(steps.at(-1)!.total);
    await page.close();
  }, 40_000);

  it.each([
    ['CodeBegen', 'codebegen-demo', '0b7c4c5e-0000-4000-8000-00000000dead'],
    ['Takoss', 'takoss-demo', 'proj-nobody-made'],
    ['Smart Forge', 'smartforge-demo', 'not-a-project-id'],
    ['image generation', 'imagegen-demo', 'task-nobody-started'],
    ['ComfyUI', 'comfyui-demo', 'prompt-nobody-queued'],
  ])(
    '%s: a garbage id opened behind the relay is said not found within 10 s, with the reason',
    async (_name, sourceId, jobId) => {
      const key = `${sourceId}/${jobId}-${Date.now()}`;
      const page = await openRelayStream(a.url, TOKEN, { open: [key] });
      const opened = Date.now();
      await until(() => saidNotFound(page, key) !== undefined, 10_000, 'not found');
      expect(Date.now() - opened).toBeLessThan(10_000);
      const answer = saidNotFound(page, key)!;
      expect(answer.kind === 'update' && answer.update.notFound!.answer.length).toBeGreaterThan(5);
      expect(updatesOf(page, key).some((event) => event.kind === 'update' && event.update.status === 'running')).toBe(false);
      await page.close();
    },
    15_000,
  );

  it('POST /v1/watch: a job a backend registers shows on the board of every viewer of every relay', async () => {
    const boardA = await openRelayStream(a.url, TOKEN);
    const boardB = await openRelayStream(b.url, TOKEN);
    await until(() => boardA.state.connection !== '' && boardB.state.connection !== '');
    const jobId = await startGenerationElsewhere('Registered by its backend', 2500);
    const key = `codebegen-demo/${jobId}`;

    expect((await fetch(`${a.url}/v1/watch`, { method: 'POST', body: JSON.stringify({ source: 'codebegen-demo', id: jobId }) })).status).toBe(401);
    const registered = await relayApi(a.url, TOKEN)('/v1/watch', { source: 'codebegen-demo', id: jobId });
    expect(registered.status).toBe(202);
    expect(registered.body.jobs).toEqual([
      expect.objectContaining({ source: 'codebegen-demo', id: jobId, state: 'following', path: `/jobs/codebegen-demo/${jobId}` }),
    ]);
    for (const board of [boardA, boardB]) await until(() => reachedEnd(board, key), 20_000, 'the registered job to end on a board');
    // registered twice (a retrying backend): still one follower upstream
    expect((await relayApi(b.url, TOKEN)('/v1/watch', [{ source: 'codebegen-demo', id: jobId }])).status).toBe(202);
    expect(relays.filter((relay) => relay.collector.upstream().some((feed) => feed.key === key && !feed.halted)).length).toBeLessThanOrEqual(1);
    await boardA.close();
    await boardB.close();
  }, 30_000);

  it('POST /v1/watch answers each job that cannot be followed with why', async () => {
    const api = relayApi(b.url, TOKEN);
    const unknown = await api('/v1/watch', { jobs: [{ source: 'codebegen-demo', id: '0b7c4c5e-0000-4000-8000-0000000f00d0' }] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.jobs[0]).toMatchObject({ state: 'not-found', detail: expect.stringMatching(/Generation not found/) });
    const noSource = await api('/v1/watch', { source: 'no-such-source', id: 'x' });
    expect(noSource.status).toBe(404);
    expect(noSource.body.jobs[0]).toMatchObject({ state: 'refused', detail: expect.stringMatching(/No source 'no-such-source'/) });
    expect((await api('/v1/watch', { source: 'codebegen-demo' })).status).toBe(400);
    expect((await api('/v1/watch', [])).status).toBe(400);
  });

  it("the platforms' own listings bring a job started elsewhere onto the board with no id typed, each listing with its health row", async () => {
    // a relay reading CodeBegen's own listing of running generations, and no demo listing
    const listed = stack.sources({}, { listed: false }).filter((source) => source.id === 'codebegen-demo');
    const c = await startOne('relay-watch-listing', listed);
    const board = await openRelayStream(c.url, TOKEN);
    await until(() => board.state.connection !== '');
    const jobId = await startGenerationElsewhere('Found on the running list', 3000);
    const key = `codebegen-demo/${jobId}`;
    await until(() => reachedEnd(board, key), 25_000, 'the listed job to end on the board');
    expect(stack.requestLog).toContain('GET /generations/');

    const { status, body } = await relayApi(c.url, TOKEN)('/v1/connections');
    expect(status).toBe(200);
    const listings = v.parse(v.object({ relays: v.array(RelayConnectionsSchema) }), body).relays.flatMap((relay) => relay.listings);
    const running = listings.find((row) => row.sourceId === 'codebegen-demo' && row.listingId === 'running')!;
    expect(running).toMatchObject({ relayId: 'relay-watch-listing', lists: 'running', state: { state: 'ok' } });
    expect(listings.some((row) => row.sourceId === 'codebegen-demo' && row.listingId === 'pending')).toBe(true);
    // the relays reading no listing have no rows
    expect(listings.filter((row) => row.relayId !== 'relay-watch-listing')).toEqual([]);
    await board.close();
  }, 40_000);
});
