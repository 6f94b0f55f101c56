import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminal } from '../../src/model/job';
import type { JobFacts } from '../../src/model/facts';
import { startRelayWith } from '../../relay/main';
import { startPrometheus } from '../support/prometheus';
import { startStack } from '../support/stack';
import { openRelayStream, relayApi, type Relayed } from '../support/relayStream';

const TOKEN = 'relay-test-token-0123456789';
const FAST = { reconnect: { baseMs: 100, maxMs: 500, maxReconnects: 3 }, pollIntervalMs: 300 };

let stack: Awaited<ReturnType<typeof startStack>>;
let relay: Awaited<ReturnType<typeof startRelayWith>>;

beforeAll(async () => {
  stack = await startStack({ takoss: { jobDurationMs: 2500 }, codebegen: { jobDurationMs: 2500 } });
  relay = await startRelayWith({ sources: stack.sources(), token: TOKEN, feed: FAST, discoveryIntervalMs: 500, maintainEveryMs: 300 });
});

afterAll(async () => {
  await relay?.closeAll();
  await stack?.close();
});

const until = async (check: () => boolean, timeoutMs = 20_000) => {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('relay, one machine (in-memory log)', () => {
  it('answers nothing without its token, and never hands out a platform token', async () => {
    expect((await fetch(`${relay.url}/v1/sources`)).status).toBe(401);
    expect((await relayApi(relay.url, 'wrong-token-of-same-size00')('/v1/sources')).status).toBe(401);
    const { status, body } = await relayApi(relay.url, TOKEN)('/v1/sources');
    expect(status).toBe(200);
    expect(body.map((source: { id: string }) => source.id)).toEqual(stack.sources().map((source) => source.id));
    const text = JSON.stringify(body);
    for (const source of stack.sources()) if (source.token) expect(text).not.toContain(source.token);
  });

  it('launches a Takoss job and streams it whole to a viewer that opened it, and as board events to one that did not', async () => {
    const api = relayApi(relay.url, TOKEN);
    const board = await openRelayStream(relay.url, TOKEN);
    await until(() => board.state.connection !== '');
    expect(board.state.snapshot).toBeDefined();
    const launched = await api('/v1/jobs', {
      sourceId: 'takoss-demo',
      values: { projectName: 'Relay test', description: 'A project', requirements: 'Stream it through the relay' },
    });
    expect(launched.status).toBe(201);
    const key = `takoss-demo/${launched.body.jobId}`;
    const page = await openRelayStream(relay.url, TOKEN, { open: [key] });
    await until(() => relay.jobs.get(key) !== undefined && isTerminal(relay.jobs.get(key)!.status));
    await until(() => page.state.events.some((event) => event.key === key && event.kind === 'update' && event.update.status === 'completed'));
    await until(() => board.state.events.some((event) => event.key === key && event.kind === 'update' && event.update.status === 'completed'), 3000);

    const history = (await api(`/v1/jobs/${encodeURIComponent(key)}/events`)).body as Relayed[];
    expect(history.length).toBeGreaterThan(3);
    const onPage = page.state.events.filter((event) => event.key === key);
    // the job page's viewer has every event from its connection on, raw wire text included
    expect(onPage.map((event) => event.seq)).toEqual(history.filter((event) => event.seq > onPage[0].seq - 1).map((event) => event.seq));
    expect(onPage.some((event) => event.raw !== undefined)).toBe(true);
    // the board's viewer never gets raw text, and each job's events come in log order
    const onBoard = board.state.events.filter((event) => event.key === key);
    expect(onBoard.every((event) => event.raw === undefined)).toBe(true);
    expect(onBoard.map((event) => event.seq)).toEqual([...onBoard.map((event) => event.seq)].sort((a, b) => a - b));

    // /insights behind a relay counts it from the relay's log, stage by stage
    const facts = (await api('/v1/insights/facts')).body as JobFacts[];
    const fact = facts.find((entry) => entry.key === key)!;
    expect(fact).toMatchObject({ status: 'completed', platform: 'takoss', sourceId: 'takoss-demo' });
    expect(fact.stages.length).toBeGreaterThan(2);
    expect(fact.finishedAt).toBe(relay.jobs.get(key)!.finishedAt);
    await board.close();
    await page.close();
  });

  it('resumes a dropped stream from its Last-Event-ID: every event once, none lost', async () => {
    const api = relayApi(relay.url, TOKEN);
    const first = await openRelayStream(relay.url, TOKEN, { visible: [] });
    await until(() => first.state.connection !== '');
    const launched = await api('/v1/jobs', { sourceId: 'codebegen-demo', values: { prompt: 'resume through the relay' } });
    expect(launched.status).toBe(201);
    const key = `codebegen-demo/${launched.body.jobId}`;
    // on screen: its events come at once rather than coalesced, so every one can be counted
    await first.subscribe({ visible: [key] });
    await until(() => first.state.events.some((event) => event.key === key && event.kind === 'update'));
    await first.close();
    const resumedFrom = first.state.lastEventId;
    const second = await openRelayStream(relay.url, TOKEN, { visible: [key], lastEventId: resumedFrom });
    await until(() => relay.jobs.get(key) !== undefined && isTerminal(relay.jobs.get(key)!.status));
    await until(() => second.state.events.some((event) => event.key === key && event.kind === 'update' && isTerminal(event.update.status ?? 'running')));
    expect(second.state.snapshot).toBeUndefined();
    const got = [...first.state.events, ...second.state.events].filter((event) => event.key === key).map((event) => event.seq);
    const unique = [...new Set(got)];
    // board events: everything but heartbeats-free detail; compare with the log's board view of the job
    const history = ((await api(`/v1/jobs/${encodeURIComponent(key)}/events`)).body as Relayed[]).map((event) => event.seq);
    for (const seq of unique) expect(history).toContain(seq);
    const missing = history.filter((seq) => !unique.includes(seq));
    const missingEvents = ((await api(`/v1/jobs/${encodeURIComponent(key)}/events`)).body as Relayed[]).filter((event) => missing.includes(event.seq));
    // only detail the board never carries may be missing
    expect(
      missingEvents.filter((event) => event.kind !== 'update' || !('chunk' in event.update || 'fileDone' in event.update || 'fileStarted' in event.update)),
    ).toEqual([]);
    expect(unique.length).toBe(got.filter((seq, index) => got.indexOf(seq) === index).length);
    await second.close();
  });

  it('exposes Prometheus metrics: jobs by platform and status, events in and out, stage durations, viewers', async () => {
    const scrape = async () => (await fetch(`${relay.url}/metrics`)).text();
    let text = await scrape();
    // the viewers of the tests before have gone once their sockets closed
    for (let tries = 0; tries < 40 && !text.includes('genwatch_relay_viewers 0'); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      text = await scrape();
    }
    expect(text).toMatch(/genwatch_relay_jobs\{platform="takoss",status="completed"\} [1-9]/);
    expect(text).toMatch(/genwatch_relay_events_in_total\{source="takoss-demo"\} [1-9]/);
    expect(text).toMatch(/genwatch_relay_events_out_total [1-9]/);
    expect(text).toMatch(/genwatch_relay_stage_duration_seconds_count\{platform="takoss",stage="[^"]+"\} [1-9]/);
    expect(text).toContain('genwatch_relay_viewers 0');
    expect(text).not.toContain(TOKEN);
  });

  it('is scraped by a real Prometheus: the jobs it counts are the jobs the relay has', async () => {
    const prometheus = await startPrometheus([new URL(relay.url).host]);
    try {
      let result: Awaited<ReturnType<typeof prometheus.query>> = [];
      for (let tries = 0; tries < 100 && result.length === 0; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        result = await prometheus.query('sum by (platform) (genwatch_relay_jobs{platform="takoss"})');
      }
      const takossJobs = [...relay.jobs.values()].filter((job) => job.platform === 'takoss').length;
      expect(result).toHaveLength(1);
      expect(Number(result[0].value[1])).toBe(takossJobs);
      const up = await prometheus.query('up{job="genwatch-relay"}');
      expect(up[0].value[1]).toBe('1');
    } finally {
      await prometheus.close();
    }
  });
});
