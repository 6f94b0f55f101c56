import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/model/events';
import { mergedLog, withStored } from '../../src/model/jobLog';

const event = (seq: number | undefined, text: string): JobEvent => ({
  kind: 'notice',
  level: 'info',
  text,
  key: 'codebegen-demo|job-1',
  sourceId: 'codebegen-demo',
  jobId: 'job-1',
  platform: 'codebegen',
  at: 0,
  receivedAt: 0,
  seq,
});
const texts = (events: readonly JobEvent[]) => events.map((entry) => (entry.kind === 'notice' ? entry.text : entry.kind));

describe('a job log held in two places', () => {
  it('merges what the holder of the feeds sent with what this page has: each event once, in arrival order, unnumbered ones last', () => {
    const theirs = [event(1, 'a'), event(2, 'b'), event(4, 'd')];
    const mine = [event(3, 'c'), event(4, 'd'), event(undefined, 'local'), event(5, 'e')];
    expect(texts(mergedLog(theirs, mine, 10).toArray())).toEqual(['a', 'b', 'c', 'd', 'e', 'local']);
  });

  it('keeps the newest when the merge is over its capacity', () => {
    const theirs = [1, 2, 3, 4].map((seq) => event(seq, `t${seq}`));
    const mine = [5, 6].map((seq) => event(seq, `m${seq}`));
    expect(texts(mergedLog(theirs, mine, 3).toArray())).toEqual(['t4', 'm5', 'm6']);
  });

  it('puts the stored events before those in memory, leaving out the stored copies of them', () => {
    const stored = [event(1, 'a'), event(2, 'b'), event(3, 'c')];
    const inMemory = [event(3, 'c'), event(4, 'd')];
    expect(texts(withStored(stored, inMemory, 10).toArray())).toEqual(['a', 'b', 'c', 'd']);
  });
});
