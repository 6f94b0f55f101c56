import { describe, expect, it } from 'vitest';
import type { JobEvent, JobUpdate } from '../../src/model/events';
import { BACKGROUND_LOG_CAPACITY } from '../../src/model/jobLog';
import type { Source } from '../../src/protocols/source';
import { WorkerBoard } from '../../src/upstream/workerBoard';

// The feed worker's board, without IndexedDB (none in Node): what the feeds ask of it.

const at = (jobId: string, time: number) => ({ key: `s/${jobId}`, sourceId: 's', jobId, platform: 'codebegen' as const, at: time, receivedAt: time });
const update = (jobId: string, time: number, fields: Partial<JobUpdate>): JobEvent => ({
  ...at(jobId, time),
  kind: 'update',
  update: { status: 'running', createdAt: Number(jobId.slice(1)), ...fields },
});
const heartbeat = (jobId: string, time: number): JobEvent => ({ ...at(jobId, time), kind: 'heartbeat' });
const source: Source = { id: 's', name: 'S', kind: 'codebegen', baseUrl: 'http://s.invalid', token: 'first-token-0123456789' };

describe('the feed worker board', () => {
  it('numbers every event in arrival order, reduces it onto its job and logs it (heartbeats only count)', () => {
    const board = new WorkerBoard();
    const events = [update('j1', 1, { progress: 10 }), heartbeat('j1', 2), update('j1', 3, { progress: 40 }), update('j2', 4, { progress: 5 })];
    board.ingest(events);
    const seqs = events.map((event) => event.seq!);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(4);
    expect(board.known('s/j1')!.progress).toBe(40);
    expect(board.eventsOf('s/j1').map((event) => event.kind)).toEqual(['update', 'update']);
    // newest created first, as every tab's board
    expect(board.jobs().map((job) => job.jobId)).toEqual(['j2', 'j1']);
  });

  it('keeps a short log per job: the tabs hold the long one of the job they show', () => {
    const board = new WorkerBoard();
    for (let at = 0; at < BACKGROUND_LOG_CAPACITY + 30; at++) board.ingest([update('j1', at, { progress: at / 2 })]);
    expect(board.eventsOf('s/j1')).toHaveLength(BACKGROUND_LOG_CAPACITY);
    expect(board.eventsOf('s/j1').at(-1)!.at).toBe(BACKGROUND_LOG_CAPACITY + 29);
  });

  it('holds the first copy of a source a tab asked about, and the newest token a tab gave it', () => {
    const board = new WorkerBoard();
    expect(board.sourceFor(source)).toBe(source);
    expect(board.sourceFor({ ...source, token: 'a-stale-copy-from-another-tab' }).token).toBe('first-token-0123456789');
    expect(board.setToken('s', 'renewed-token-0123456789')!.token).toBe('renewed-token-0123456789');
    expect(board.sourceFor(source).token).toBe('renewed-token-0123456789');
    expect(board.setToken('unknown', 'x')).toBeUndefined();
  });

  it('past its limit of finished jobs lets the oldest go, tells the feeds to forget them, and does not bring them back', () => {
    const board = new WorkerBoard({ maxFinishedJobs: 2, maxEventsPerJob: 100 });
    const forgotten: string[] = [];
    board.followedBy({ watchSource: () => {}, forget: (key) => forgotten.push(key) });
    for (const [index, jobId] of ['j1', 'j2', 'j3'].entries()) board.ingest([update(jobId, index, { status: 'completed', progress: 100 })]);
    expect(forgotten).toEqual(['s/j1']);
    expect(board.jobs().map((job) => job.jobId)).toEqual(['j3', 'j2']);
    // a listing that still shows it: known as finished, not a new job
    board.ingest([update('j1', 10, { status: 'running', progress: 50 })]);
    expect(board.jobs()).toHaveLength(2);
    expect(board.known('s/j1')!.status).toBe('completed');
  });

  it('merges a tab’s copy of a log into its own: each event once', () => {
    const board = new WorkerBoard();
    const events = [update('j1', 1, { progress: 10 }), update('j1', 2, { progress: 20 })];
    board.ingest(events);
    board.mergeLog('s/j1', [events[0], { ...update('j1', 0, { progress: 1 }), seq: events[0].seq! - 1 }]);
    expect(board.eventsOf('s/j1').map((event) => event.at)).toEqual([0, 1, 2]);
  });
});
