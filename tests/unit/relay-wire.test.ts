import { afterEach, describe, expect, it, vi } from 'vitest';
import { RelayLink, type RelayHealth } from '../../src/feeds/relayLink';
import type { JobEvent } from '../../src/model/events';
import { newJob, type Job } from '../../src/model/job';
import { reduceJob } from '../../src/model/reducer';
import { eventsFrame, helloFrame, readRelayFrame, snapshotFrame, type RelayEvent } from '../../src/protocols/relayWire';
import { startScriptServer, writeChunks } from '../support/scriptServer';

// The relay's stream is read like any platform's: what does not parse is dropped on its own,
// counted and shown, and everything else still arrives.

const update = (seq: number, status?: 'running' | 'completed', progress = 0.5): RelayEvent => ({
  seq,
  key: 'cb/job-1',
  sourceId: 'cb',
  jobId: 'job-1',
  platform: 'codebegen',
  at: 1_700_000_000_000 + seq,
  receivedAt: 1_700_000_000_100 + seq,
  kind: 'update',
  update: { status, progress },
});

/** the data line of one SSE frame the relay writes */
const dataOf = (frame: string) =>
  frame
    .split('\n')
    .find((line) => line.startsWith('data: '))!
    .slice('data: '.length);

describe('the relay wire', () => {
  it('reads back every frame the relay writes', () => {
    const hello = readRelayFrame('hello', dataOf(helloFrame({ connection: 'c-1', relay: 'relay-a', log: 'jetstream' })));
    expect(hello).toEqual({ frame: 'hello', hello: { connection: 'c-1', relay: 'relay-a', log: 'jetstream' } });

    const job: Job = [update(1, 'running'), update(2, 'completed', 1)].reduce(reduceJob, newJob('cb', 'job-1', 'codebegen'));
    const snapshot = readRelayFrame('snapshot', dataOf(snapshotFrame(2, [job])));
    expect(snapshot).toMatchObject({ frame: 'snapshot', dropped: 0 });
    expect(snapshot.frame === 'snapshot' && snapshot.jobs[0].status).toBe('completed');

    const events = readRelayFrame(
      'events',
      dataOf(
        eventsFrame(
          2,
          [update(1), update(2)].map((event) => JSON.stringify(event)),
        ),
      ),
    );
    expect(events).toMatchObject({ frame: 'events', dropped: 0, events: [{ seq: 1 }, { seq: 2 }] });
  });

  it('drops each event that does not parse, keeps the rest, and says why', () => {
    const { seq: _seq, ...withoutSeq } = update(2);
    const frame = JSON.stringify([
      update(1),
      withoutSeq,
      { ...update(3), key: 'cb/another-job' },
      { ...update(4), kind: 'teleport' },
      { ...update(5), platform: 'unknown-platform' },
      { ...update(6), update: { status: 'exploded' } },
      update(7),
    ]);
    const read = readRelayFrame('events', frame);
    expect(read.frame).toBe('events');
    if (read.frame !== 'events') return;
    expect(read.events.map((event) => event.seq)).toEqual([1, 7]);
    expect(read.dropped).toBe(5);
    expect(read.problem).toMatch(/seq/);
  });

  it('a snapshot job missing what the board reads is dropped, the others kept', () => {
    const good = newJob('cb', 'job-1', 'codebegen');
    const { phases: _phases, ...noPhases } = newJob('cb', 'job-2', 'codebegen');
    const read = readRelayFrame('snapshot', JSON.stringify([good, noPhases, { ...good, key: 'tk/job-1' }, 'a string']));
    expect(read).toMatchObject({ frame: 'snapshot', dropped: 3, jobs: [{ key: 'cb/job-1' }] });
  });

  it('a frame that is not JSON, a hello without a connection, and a frame it does not know', () => {
    expect(readRelayFrame('events', '[{"seq":1,')).toMatchObject({ frame: 'invalid', problem: expect.stringMatching(/not JSON/) });
    expect(readRelayFrame('hello', '{"relay":"a","log":"memory"}')).toMatchObject({ frame: 'invalid', problem: expect.stringMatching(/connection/) });
    expect(readRelayFrame('events', '{"seq":1}')).toMatchObject({ frame: 'invalid', problem: expect.stringMatching(/not a list/) });
    expect(readRelayFrame('presence', '{}')).toEqual({ frame: 'unknown', name: 'presence' });
  });
});

describe('a dashboard reading a relay that sends what it cannot read', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('gets every good event over a real socket, and counts and shows the bad ones', async () => {
    const server = await startScriptServer(async (_request, response) => {
      await writeChunks(
        response,
        [
          helloFrame({ connection: 'c-1', relay: 'relay-a', log: 'memory' }),
          eventsFrame(1, [JSON.stringify(update(1, 'running'))]),
          'event: events\ndata: this is not JSON\n\n',
          eventsFrame(3, [JSON.stringify({ ...update(2), seq: -1 }), JSON.stringify(update(3, 'completed', 1))]),
        ],
        { end: 'hold' },
      );
    });
    close = server.close;
    const received: JobEvent[] = [];
    let health: RelayHealth | undefined;
    const link = new RelayLink(
      { url: server.url.replace(/\/stream$/, ''), token: 'relay-token' },
      {
        onSnapshot: () => undefined,
        onEvents: (events) => received.push(...events),
        onHealth: (next) => (health = next),
        onReconnected: () => undefined,
      },
      // subscriptions go to the same script server: answered, and of no interest here
      (input, init) => fetch(String(input).replace(/\/v1\/subscriptions$/, '/stream'), init),
    );
    link.start();
    try {
      await vi.waitFor(() => expect(received.map((event) => (event as RelayEvent).seq)).toEqual([1, 3]), { timeout: 5000 });
      await vi.waitFor(() => expect(health).toMatchObject({ state: 'live', invalid: 2, relayId: 'relay-a' }), { timeout: 5000 });
      expect(health!.invalidDetail).toMatch(/seq/);
    } finally {
      link.stop();
    }
  });
});
