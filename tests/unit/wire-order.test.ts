import { describe, expect, it, vi } from 'vitest';
import { WireOrder } from '../../src/feeds/wireOrder';

function setup() {
  const released: string[] = [];
  const gaps: number[] = [];
  let duplicates = 0;
  const order = new WireOrder<string>(
    (item) => released.push(item),
    () => duplicates++,
    (missing) => gaps.push(missing),
    100,
  );
  return { order, released, gaps, duplicates: () => duplicates };
}

describe('WireOrder', () => {
  it('drops repeats of an id or a content key', () => {
    const { order, released, duplicates } = setup();
    order.push('1', 'a');
    order.push('1', 'a again');
    order.push('k:x', 'b');
    order.push('k:x', 'b again');
    expect(released).toEqual(['a', 'b']);
    expect(duplicates()).toBe(2);
  });

  it('puts swapped events back in order', () => {
    const { order, released, gaps } = setup();
    order.push('1', 'one');
    order.push('3', 'three');
    order.push('2', 'two');
    expect(released).toEqual(['one', 'two', 'three']);
    expect(gaps).toEqual([]);
  });

  it('reports a gap when the missing ids never come, and goes on', () => {
    vi.useFakeTimers();
    try {
      const { order, released, gaps } = setup();
      order.push('1', 'one');
      order.push('5', 'five');
      order.push('6', 'six');
      expect(released).toEqual(['one']);
      vi.advanceTimersByTime(150);
      expect(released).toEqual(['one', 'five', 'six']);
      expect(gaps).toEqual([3]);
      order.push('7', 'seven');
      expect(released.at(-1)).toBe('seven');
    } finally {
      vi.useRealTimers();
    }
  });

  it('drops a replay of content keys that opens a new connection, then takes what is new', () => {
    const { order, released, duplicates } = setup();
    for (const key of ['k:1', 'k:2', 'k:3']) order.push(key, key);
    order.expectReplay();
    for (const key of ['k:1', 'k:2', 'k:3', 'k:4', 'k:5']) order.push(key, `${key} again`);
    expect(released).toEqual(['k:1', 'k:2', 'k:3', 'k:4 again', 'k:5 again']);
    expect(duplicates()).toBe(3);
  });

  it('takes an old content key as new once the replay is over (past the repeat window)', () => {
    const { order, released } = setup();
    order.push('k:a', 'a');
    for (let index = 0; index < 20; index++) order.push(`k:filler-${index}`, 'filler');
    order.push('k:a', 'a, much later');
    expect(released.at(-1)).toBe('a, much later');
  });

  it('passes events without a key straight through', () => {
    const { order, released } = setup();
    order.push(undefined, 'x');
    order.push(undefined, 'x');
    expect(released).toEqual(['x', 'x']);
  });
});
