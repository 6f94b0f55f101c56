/**
 * Puts a job's wire events back in order and drops repeats, across reconnects and transport
 * switches. Keys that are whole numbers (SSE ids) are sequenced: one that runs ahead is held
 * for a moment in case the missing ones are only late (out of order); when they do not come,
 * the held ones go on and the gap is reported, so the caller can fetch a fresh snapshot.
 * Other keys (derived from content where a platform sends no id) are only de-duplicated.
 */
export class WireOrder<T> {
  private expected: number | undefined;
  private readonly seen = new Set<string>();
  private readonly held = new Map<number, T>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly release: (item: T) => void,
    private readonly onDuplicate: () => void,
    private readonly onGap: (missing: number) => void,
    private readonly holdMs = 500,
    private readonly remembered = 4096,
  ) {}

  /** Ids already shown before (a reload): they count as seen, and the sequence goes on after them. */
  seed(keys: Iterable<string>): void {
    for (const key of keys) {
      this.remember(key);
      if (/^\d{1,15}$/.test(key)) this.expected = Math.max(this.expected ?? 0, Number(key) + 1);
    }
  }

  push(key: string | undefined, item: T): void {
    if (key === undefined || key === '') {
      this.release(item);
      return;
    }
    if (this.seen.has(key)) {
      this.onDuplicate();
      return;
    }
    this.remember(key);
    const id = /^\d{1,15}$/.test(key) ? Number(key) : undefined;
    if (id === undefined) {
      this.release(item);
      return;
    }
    if (this.expected === undefined || id <= this.expected) {
      // in order, or late after its gap was given up on: the reducers take late events
      this.release(item);
      if (this.expected === undefined || id === this.expected) this.expected = id + 1;
      this.drain();
      return;
    }
    this.held.set(id, item);
    this.timer ??= setTimeout(() => this.giveUpWaiting(), this.holdMs);
  }

  /** Release whatever is held, in order (the feed is stopping). */
  flush(): void {
    if (this.held.size > 0) this.giveUpWaiting();
  }

  private remember(key: string): void {
    this.seen.add(key);
    if (this.seen.size > this.remembered) this.seen.delete(this.seen.values().next().value as string);
  }

  private drain(): void {
    while (this.expected !== undefined && this.held.has(this.expected)) {
      const item = this.held.get(this.expected)!;
      this.held.delete(this.expected);
      this.release(item);
      this.expected++;
    }
    if (this.held.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private giveUpWaiting(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const ids = [...this.held.keys()].sort((a, b) => a - b);
    let missing = 0;
    for (const id of ids) {
      if (this.expected !== undefined && id > this.expected) missing += id - this.expected;
      this.release(this.held.get(id)!);
      this.held.delete(id);
      this.expected = id + 1;
    }
    this.onGap(missing);
  }
}
