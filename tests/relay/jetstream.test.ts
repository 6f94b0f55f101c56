import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminal } from '../../src/model/job';
import { startRelayWith } from '../../relay/main';
import { startNats } from '../support/nats';
import { startStack } from '../support/stack';
import { openRelayStream, relayApi } from '../support/relayStream';
import { inject } from '../support/suite';
import * as v from 'valibot';
import { RelayConnectionsSchema } from '../../src/feeds/feedConnection';

const TOKEN = 'relay-test-token-jetstream-01';
const FAST = { reconnect: { baseMs: 100, maxMs: 500, maxReconnects: 3 }, pollIntervalMs: 300 };

let nats: Awaited<ReturnType<typeof startNats>>;
let stack: Awaited<ReturnType<typeof startStack>>;
const relays: Awaited<ReturnType<typeof startRelayWith>>[] = [];

const startOne = async (relayId: string) => {
  const relay = await startRelayWith({
    sources: stack.sources(),
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

beforeAll(async () => {
  nats = await startNats();
  stack = await startStack({ codebegen: { jobDurationMs: 8000 }, takoss: { jobDurationMs: 8000 } });
});

afterAll(async () => {
  for (const relay of relays) await relay.closeAll().catch(() => undefined);
  await stack?.close();
  await nats?.close();
});

const until = async (check: () => boolean, timeoutMs = 30_000) => {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('relays on NATS JetStream', () => {
  it('share the work, serve any viewer, and take over the jobs of a relay that died', async () => {
    const a = await startOne('relay-a');
    const b = await startOne('relay-b');
    const viewer = await openRelayStream(b.url, TOKEN);
    await until(() => viewer.state.connection !== '');

    const keys: string[] = [];
    for (let i = 0; i < 6; i++) {
      const relay = i % 2 === 0 ? a : b;
      const { status, body } = await relayApi(relay.url, TOKEN)('/v1/jobs', {
        sourceId: 'codebegen-demo',
        values: { prompt: `shared work number ${i} through two relays` },
      });
      expect(status).toBe(201);
      keys.push(`codebegen-demo/${body.jobId}`);
    }
    // every job is followed upstream by exactly one relay
    await until(() => keys.every((key) => a.jobs.get(key)?.link === 'live' && b.jobs.get(key)?.link === 'live'));
    const followedBy = (relay: typeof a) => new Set(relay.collector.upstream().map((feed) => feed.key));
    for (const key of keys) expect(Number(followedBy(a).has(key)) + Number(followedBy(b).has(key))).toBe(1);
    expect(followedBy(a).size).toBeGreaterThan(0);
    expect(followedBy(b).size).toBeGreaterThan(0);

    // relay b's viewer sees the jobs relay a follows
    const fromA = keys.filter((key) => followedBy(a).has(key));
    await until(() => fromA.every((key) => viewer.state.events.some((event) => event.key === key && event.kind === 'update')));

    // a dies without releasing anything; what JetStream acknowledged stays
    const acknowledged = new Map<string, number>();
    for (const key of fromA) acknowledged.set(key, (await a.log.history(key)).length);
    const killedAt = Date.now();
    await a.closeAll({ crash: true });

    await until(() => fromA.every((key) => followedBy(b).has(key) || isTerminal(b.jobs.get(key)!.status)), 15_000);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    await until(() => keys.every((key) => isTerminal(b.jobs.get(key)!.status)), 40_000);
    for (const key of keys) expect(b.jobs.get(key)!.status).toBe('completed');
    for (const key of fromA) {
      const history = await b.log.history(key);
      expect(history.length).toBeGreaterThanOrEqual(acknowledged.get(key)!);
      expect(history.some((event) => event.kind === 'notice' && event.text.includes('relay-b took this job over'))).toBe(true);
    }
    // the viewer saw every job end, through the take-over
    await until(
      () => keys.every((key) => viewer.state.events.some((event) => event.key === key && event.kind === 'update' && event.update.status === 'completed')),
      5000,
    );
    await viewer.close();
  });

  it('resumes a viewer from its Last-Event-ID, which is the JetStream sequence', async () => {
    const relay = relays.at(-1)!;
    const first = await openRelayStream(relay.url, TOKEN);
    await until(() => first.state.lastEventId !== '');
    const snapshotSeq = Number(first.state.lastEventId);
    expect(snapshotSeq).toBe(relay.log.lastSeq());
    await first.close();
    const { body } = await relayApi(relay.url, TOKEN)('/v1/jobs', { sourceId: 'codebegen-demo', values: { prompt: 'after the viewer went away' } });
    const key = `codebegen-demo/${body.jobId}`;
    await until(() => relay.jobs.get(key)?.status === 'completed', 30_000);
    const second = await openRelayStream(relay.url, TOKEN, { open: [key], lastEventId: String(snapshotSeq) });
    await until(() => second.state.events.some((event) => event.key === key && event.kind === 'update' && event.update.status === 'completed'));
    expect(second.state.snapshot).toBeUndefined();
    const history = await relay.log.history(key);
    expect(second.state.events.filter((event) => event.key === key).map((event) => event.seq)).toEqual(history.map((event) => event.seq));
    await second.close();
  });

  it('cancels a job through any relay: the one that follows it closes its stream', async () => {
    const follower = await startOne('relay-c');
    const other = await startOne('relay-d');
    const { status, body } = await relayApi(follower.url, TOKEN)('/v1/jobs', {
      sourceId: 'takoss-demo',
      values: { projectName: 'Cancelled elsewhere', description: 'Started on one relay', requirements: 'Cancelled through the other' },
    });
    expect(status).toBe(201);
    expect(body.cancellable).toBe(true);
    const key = `takoss-demo/${body.jobId}`;
    await until(() => other.jobs.get(key)?.status === 'running');
    const cancelled = await relayApi(other.url, TOKEN)(`/v1/jobs/${encodeURIComponent(key)}/cancel`, {});
    expect(cancelled.status).toBe(202);
    await until(() => other.jobs.get(key)?.status === 'cancelled', 10_000);
    // a job nobody streams cannot be cancelled, and says so
    const refused = await relayApi(other.url, TOKEN)(`/v1/jobs/${encodeURIComponent(key)}/cancel`, {});
    expect(refused.status).toBe(409);
  });

  it('lists the upstream connections of every relay, and takes a new platform token through any relay', async () => {
    await startOne('relay-e');
    const other = await startOne('relay-f');
    // the platform refuses the first stream of this job: its follower halts it and asks for a token
    const jobId = stack.platform.startGeneration({ prompt: 'Refused once, renewed through another relay', __durationMs: 4000, __fail: false });
    await inject(stack.platform.url, { kind: 'status', status: 401, job: jobId, times: 1 });
    const key = `codebegen-demo/${jobId}`;
    await until(() => other.jobs.get(key)?.needsToken === true && other.jobs.get(key)?.link === 'error', 15_000);
    // any relay of this file still running may have taken it
    const holder = relays.find((relay) => relay.collector.upstream().some((feed) => feed.key === key))!;
    expect(holder).toBeDefined();

    const { status, body } = await relayApi(other.url, TOKEN)('/v1/connections');
    expect(status).toBe(200);
    const answered = v.parse(v.object({ relays: v.array(RelayConnectionsSchema) }), body).relays;
    // every relay alive on the NATS answered, each for what it follows
    expect(answered.map((relay) => relay.relayId)).toEqual(expect.arrayContaining(['relay-e', 'relay-f']));
    const row = answered.flatMap((relay) => relay.feeds).find((feed) => feed.key === key)!;
    expect(row).toMatchObject({ relayId: holder.relayId, state: 'error', health: 'down', platform: 'codebegen' });
    expect(answered.find((relay) => relay.relayId === 'relay-e')!.budget.map((entry) => entry.origin)).toContain(new URL(stack.platform.url).origin);
    expect(JSON.stringify(body)).not.toContain(stack.platform.devToken);

    // given to the relay that does not follow the job, the token reaches the one that does
    const wrong = await relayApi(other.url, TOKEN)('/v1/sources/no-such-source/token', { token: 'x' });
    expect(wrong.status).toBe(404);
    const renewed = await relayApi(other.url, TOKEN)('/v1/sources/codebegen-demo/token', { token: stack.platform.devToken });
    expect(renewed.status).toBe(204);
    await until(() => other.jobs.get(key)?.status === 'completed', 20_000);
    expect(other.jobs.get(key)?.link).not.toBe('error');
  });
});
