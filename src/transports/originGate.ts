/**
 * Browsers give an HTTP/1.1 origin six connections across all tabs and workers, and the feeds
 * hold up to four of them as streams. Past six, a request waits for a connection without a
 * word, behind streams that never end. So requests to one origin (polls, listings, lookups,
 * launches) go one at a time here: the browser's connections to it stay at five or fewer, and
 * a request that changes something (a launch, a cancel) goes before the polls waiting.
 *
 * Only in a browser: Node (the relay, the tests) has no such cap.
 */
export const REQUESTS_PER_ORIGIN = 1;
/**
 * How long one request may hold its origin's turn: one that hangs (a platform that accepts and
 * never answers) must not hold back every other request to it. It goes on, out of turn.
 */
export const TURN_MS = 10_000;

interface Waiting {
  urgent: boolean;
  start: () => void;
}

class OriginGate {
  private running = 0;
  private readonly waiting: Waiting[] = [];

  async run<T>(urgent: boolean, request: () => Promise<T>): Promise<T> {
    if (this.running >= REQUESTS_PER_ORIGIN) {
      await new Promise<void>((start) => {
        const entry = { urgent, start };
        // urgent requests go before the polls waiting, in their own order
        const at = urgent ? this.waiting.findIndex((other) => !other.urgent) : -1;
        if (at < 0) this.waiting.push(entry);
        else this.waiting.splice(at, 0, entry);
      });
    }
    this.running++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(overdue);
      this.running--;
      this.waiting.shift()?.start();
    };
    const overdue = setTimeout(release, TURN_MS);
    try {
      return await request();
    } finally {
      release();
    }
  }

  get queued(): number {
    return this.waiting.length;
  }
}

const gates = new Map<string, OriginGate>();

const inBrowser = () => typeof window !== 'undefined' || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';

/**
 * Runs a request (its body read to the end) in its origin's turn, in a browser; at once elsewhere.
 * @param urgent it changes something the operator asked for: before the polls waiting
 */
export function inOriginTurn<T>(url: string, urgent: boolean, request: () => Promise<T>, { always = false } = {}): Promise<T> {
  if (!always && !inBrowser()) return request();
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    return request();
  }
  let gate = gates.get(origin);
  if (!gate) gates.set(origin, (gate = new OriginGate()));
  return gate.run(urgent, request);
}

/** requests waiting for their origin's turn (for tests) */
export function waitingFor(url: string): number {
  return gates.get(new URL(url).origin)?.queued ?? 0;
}
