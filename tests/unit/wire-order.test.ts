import { describe, expect, it, vi } from 'vitest';
import { WireOrder } from '../../src/feeds/wireOrder';

function setup() {
  const released: string[] = [];
  const gaps: number[] = [];
  let duplicates = 0;
  const order = new WireOrder<string>((item) => released.push(item), () => duplicates++, (missing) => gaps.push(missing), 100);
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

  it('passes events without a key straight through', () => {
    const { order, released } = setup();
    order.push(undefined, 'x');
    order.push(undefined, 'x');
    expect(released).toEqual(['x', 'x']);
  });
});
