import { describe, expect, it } from 'vitest';
import { boardEvent, coalesce, OFFSCREEN_MS, OFFSCREEN_STATUS_MS, prepare, Viewer } from '../../relay/viewers';
import type { LoggedEvent } from '../../relay/log';

const update = (seq: number, key: string, update: Record<string, unknown>, raw = `{"n":${seq}}`): LoggedEvent =>
  ({
    seq,
    key,
    sourceId: key.split('/')[0],
    jobId: key.split('/')[1],
    platform: 'codebegen',
    at: seq,
    receivedAt: seq,
    kind: 'update',
    update,
    raw,
  }) as LoggedEvent;

function viewer(interest: { open?: string[]; visible?: string[] } = {}) {
  const frames: { id: number; events: LoggedEvent[] }[] = [];
  const seen = new Viewer(
    'v',
    (frame) => {
      const id = Number(/^id: (\d+)/.exec(frame)![1]);
      frames.push({ id, events: JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) });
      return true;
    },
    0,
    interest,
  );
  seen.ready = true;
  return { seen, frames };
}

describe('relay viewer', () => {
  it('strips raw text and detail from board events, and drops what is left empty', () => {
    expect(boardEvent(update(1, 's/a', { progress: 10 }))).toEqual(expect.not.objectContaining({ raw: expect.anything() }));
    expect(boardEvent(update(2, 's/a', { chunk: { path: 'a.js', text: 'x' } }))).toBeUndefined();
    expect((boardEvent(update(3, 's/a', { progress: 20, sample: { step: 1, at: 1 } })) as { update: object }).update).toEqual({ progress: 20 });
  });

  it('sends open jobs whole, visible ones at once, and coalesces the rest: status changes within a second, progress within five', () => {
    const { seen, frames } = viewer({ open: ['s/open'], visible: ['s/row'] });
    const start = Date.now();
    seen.route(
      prepare([
        update(1, 's/open', { chunk: { path: 'a', text: 'x' } }),
        update(2, 's/row', { progress: 5 }),
        update(3, 's/off', { progress: 1 }),
        update(4, 's/off', { progress: 2 }),
        update(5, 's/ended', { status: 'completed' }),
      ]),
    );
    seen.flush(start);
    expect(frames).toHaveLength(1);
    expect(frames[0].events.map((event) => event.seq)).toEqual([1, 2]);
    expect(frames[0].events[0].raw).toBeDefined();
    expect(frames[0].events[1].raw).toBeUndefined();
    // the watermark stays below what waits: a resume from it loses nothing
    expect(frames[0].id).toBe(2);
    seen.flush(start + OFFSCREEN_STATUS_MS);
    expect(frames[1].events.map((event) => event.seq)).toEqual([5]);
    expect(frames[1].id).toBe(2);
    seen.flush(start + OFFSCREEN_MS);
    expect(frames[2].events).toHaveLength(1);
    expect(frames[2].events[0]).toMatchObject({ seq: 4, merged: 1, update: { progress: 2 } });
    expect(frames[2].id).toBe(5);
  });

  it('sends what waited for a job before its newer events once it comes on screen', () => {
    const { seen, frames } = viewer();
    seen.route(prepare([update(1, 's/a', { progress: 1 }), update(2, 's/a', { stage: 'b' })]));
    seen.subscribe({ visible: ['s/a'] });
    seen.route(prepare([update(3, 's/a', { progress: 50 })]));
    seen.flush(Date.now());
    expect(frames[0].events.map((event) => event.seq)).toEqual([1, 2, 3]);
  });

  it('coalesces a run of plain updates into its newest, without touching the shared events', () => {
    const shared = [update(1, 's/a', { progress: 10, stage: 'x' }), update(2, 's/a', { progress: 5 }), update(3, 's/a', { stage: 'y' })];
    const [first, second] = coalesce(shared);
    expect(first).toMatchObject({ seq: 2, merged: 1, update: { progress: 10, stage: 'x' } });
    expect(second).toMatchObject({ seq: 3, update: { stage: 'y' } });
    expect(shared[0]).toMatchObject({ seq: 1, update: { progress: 10, stage: 'x' } });
    expect(shared[0].merged).toBeUndefined();
  });

  it('never sends an event twice or before its turn', () => {
    const { seen, frames } = viewer({ visible: ['s/a'] });
    seen.route(prepare([update(1, 's/a', { progress: 1 })]));
    seen.route(prepare([update(1, 's/a', { progress: 1 }), update(2, 's/a', { progress: 2 })]));
    seen.ready = false;
    expect(seen.flush(Date.now())).toBe(0);
    seen.ready = true;
    seen.flush(Date.now());
    expect(frames.flatMap((frame) => frame.events.map((event) => event.seq))).toEqual([1, 2]);
  });
});
