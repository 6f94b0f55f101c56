import { afterEach, describe, expect, it, vi } from 'vitest';
import { inOriginTurn, TURN_MS, waitingFor } from '../../src/transports/originGate';

// The browser's six connections per origin: requests to one origin take turns (pure logic;
// the browser tests count the connections the platforms see).

function request(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    finish,
    run: () => {
      log.push(`start ${name}`);
      return done.then(() => {
        log.push(`end ${name}`);
        return name;
      });
    },
  };
}

afterEach(() => vi.useRealTimers());

describe('requests to one origin', () => {
  it('go one at a time, an urgent one before the reads waiting, another origin meanwhile', async () => {
    const log: string[] = [];
    const [a, b, c, other] = ['poll a', 'poll b', 'launch', 'elsewhere'].map((name) => request(log, name));
    const turns = [
      inOriginTurn('http://one.test/a', false, a.run, { always: true }),
      inOriginTurn('http://one.test/b', false, b.run, { always: true }),
      inOriginTurn('http://one.test/launch', true, c.run, { always: true }),
      inOriginTurn('http://two.test/x', false, other.run, { always: true }),
    ];
    await Promise.resolve();
    expect(log).toEqual(['start poll a', 'start elsewhere']);
    expect(waitingFor('http://one.test/')).toBe(2);
    a.finish();
    await turns[0];
    await vi.waitFor(() => expect(log).toContain('start launch'));
    expect(log).not.toContain('start poll b');
    c.finish();
    await vi.waitFor(() => expect(log).toContain('start poll b'));
    b.finish();
    other.finish();
    expect(await Promise.all(turns)).toEqual(['poll a', 'poll b', 'launch', 'elsewhere']);
  });

  it('a request that hangs gives up its turn after a while, and one that fails passes it on', async () => {
    vi.useFakeTimers();
    const log: string[] = [];
    const hung = request(log, 'hangs');
    const next = request(log, 'next');
    void inOriginTurn('http://three.test/a', false, hung.run, { always: true });
    const failing = inOriginTurn('http://three.test/b', false, () => Promise.reject(new Error('refused')), { always: true }).catch(
      (error: Error) => error.message,
    );
    const after = inOriginTurn('http://three.test/c', false, next.run, { always: true });
    await vi.advanceTimersByTimeAsync(TURN_MS - 1);
    expect(log).toEqual(['start hangs']);
    await vi.advanceTimersByTimeAsync(1);
    expect(await failing).toBe('refused');
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['start hangs', 'start next']);
    next.finish();
    expect(await after).toBe('next');
    hung.finish();
  });
});
