import { describe, expect, it } from 'vitest';
import type { JobEvent, JobUpdate } from '../../src/model/events';
import { isTerminal } from '../../src/model/job';
import { JobBoard, type BoardPolicy } from '../../src/model/jobBoard';

// The board every page and the feed worker keep: the parts neither owner decides.

const update = (jobId: string, time: number, fields: Partial<JobUpdate>): JobEvent => ({
  key: `s/${jobId}`,
  sourceId: 's',
  jobId,
  platform: 'codebegen',
  at: time,
  receivedAt: time,
  kind: 'update',
  update: { status: 'running', createdAt: Number(jobId.slice(1)), ...fields },
});

function boardOf(overrides: Partial<BoardPolicy> = {}) {
  const letGo: string[] = [];
  const board = new JobBoard({
    logCapacity: () => 50,
    maxFinishedJobs: () => 2,
    onLetGo: (key) => letGo.push(key),
    platformOf: () => 'codebegen',
    ...overrides,
  });
  return { board, letGo };
}

describe('the job board', () => {
  it('applies within its budget, keeping the rest queued in arrival order', () => {
    const { board } = boardOf();
    board.enqueue(Array.from({ length: 2000 }, (_, at) => update('j1', at, { progress: at / 20 })));
    // a budget already spent stops after the first 256 events
    const first = board.apply(-1)!;
    expect(first.batch).toHaveLength(256);
    expect(board.backlog).toBe(2000 - 256);
    expect(board.get('s/j1')!.progress).toBeCloseTo(255 / 20);
    board.applyAll();
    expect(board.backlog).toBe(0);
    expect(board.get('s/j1')!.progress).toBeCloseTo(1999 / 20);
    expect(board.eventsOf('s/j1').map((event) => event.at)).toEqual(Array.from({ length: 50 }, (_, index) => 1950 + index));
  });

  it('lets go of the oldest finished jobs past the limit, except those its owner keeps, and adopts none of them back', () => {
    const { board, letGo } = boardOf({ keep: (job) => job.jobId === 'j1' });
    for (const [index, jobId] of ['j1', 'j2', 'j3', 'j4'].entries()) board.enqueue([update(jobId, index, { status: 'completed', finishedAt: index })]);
    board.applyAll();
    // j1 is the oldest, but kept (the job open); of the other three, the oldest goes
    expect(letGo).toEqual(['s/j2']);
    expect(board.jobs().map((job) => job.jobId)).toEqual(['j4', 'j3', 'j1']);
    expect(board.known('s/j2')).toMatchObject({ status: 'completed', createdAt: 0 });
    board.adopt([{ ...board.get('s/j3')!, key: 's/j2', jobId: 'j2' }]);
    expect(board.get('s/j2')).toBeUndefined();
    board.wantAgain('s/j2');
    board.enqueue([update('j2', 9, { status: 'completed', finishedAt: 9 })]);
    board.applyAll();
    expect(board.get('s/j2')).toBeDefined();
    expect(isTerminal(board.get('s/j2')!.status)).toBe(true);
  });

  it('rebuilds a job from its whole history, dropping what is queued of it and already in that history', () => {
    const { board } = boardOf();
    const stored = [update('j1', 1, { progress: 10 }), update('j1', 2, { progress: 20 })];
    board.enqueue(stored);
    const later = update('j1', 3, { progress: 30 });
    board.enqueue([later]);
    board.rebuild('s/j1', stored);
    board.applyAll();
    expect(board.get('s/j1')!.progress).toBe(30);
    expect(board.eventsOf('s/j1').map((event) => event.at)).toEqual([1, 2, 3]);
  });
});
