/** content-keyed repeats are looked for among this many latest keys (besides a replay) */
const REPEAT_WINDOW = 16;

/**
 * Puts a job's wire events back in order and drops repeats, across reconnects and transport
 * switches. Keys that are whole numbers (SSE ids) are sequenced: one that runs ahead is held
 * for a moment in case the missing ones are only late (out of order); when they do not come,
 * the held ones go on and the gap is reported, so the caller can fetch a fresh snapshot.
 * Other keys (derived from content where a platform sends no id) are only de-duplicated: a
 * repeat right after the original, or the replay a platform sends when a connection opens
 * (`expectReplay`). Those keys are kept in a plain ring, hashed only when a replay may come,
 * so a flood of id-less events costs next to nothing here.
 */
export class WireOrder<T> {
  private expected: number | undefined;
  private readonly seen = new Set<string>();
  /** the remembered ids in arrival order, so the oldest goes without walking the set */
  private readonly order: (string | undefined)[];
  private next = 0;
  /** the latest content keys, newest at `recentNext - 1` */
  private readonly recent: (string | undefined)[];
  private recentNext = 0;
  /** while a new connection may be replaying what was seen: those keys */
  private replay: Set<string> | undefined;
  private readonly held = new Map<number, T>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly release: (item: T) => void,
    private readonly onDuplicate: () => void,
    private readonly onGap: (missing: number) => void,
    private readonly holdMs = 500,
    private readonly remembered = 4096,
  ) {
    this.order = new Array(remembered);
    this.recent = new Array(remembered);
  }

  /** Ids already shown before (a reload): they count as seen, and the sequence goes on after them. */
  seed(keys: Iterable<string>): void {
    for (const key of keys) {
      if (/^\d{1,15}$/.test(key)) {
        this.remember(key);
        this.expected = Math.max(this.expected ?? 0, Number(key) + 1);
      } else {
        this.rememberContent(key);
      }
    }
    // the first connection after a reload may send all of it again
    this.expectReplay();
  }

  /** A connection opened: a platform without ids may begin it by sending what was seen again. */
  expectReplay(): void {
    const keys = this.recent.filter((key): key is string => key !== undefined);
    this.replay = keys.length ? new Set(keys) : undefined;
  }

  push(key: string | undefined, item: T): void {
    if (key === undefined || key === '') {
      this.release(item);
      return;
    }
    const id = /^\d{1,15}$/.test(key) ? Number(key) : undefined;
    if (id === undefined) {
      if (this.seenContent(key)) {
        this.onDuplicate();
        return;
      }
      this.rememberContent(key);
      this.release(item);
      return;
    }
    if (this.seen.has(key)) {
      this.onDuplicate();
      return;
    }
    this.remember(key);
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

  private seenContent(key: string): boolean {
    if (this.replay) {
      if (this.replay.has(key)) return true;
      // the first key not seen before: the replay, if there was one, is over
      this.replay = undefined;
    }
    const size = this.remembered;
    for (let back = 1; back <= REPEAT_WINDOW; back++) {
      const earlier = this.recent[(this.recentNext - back + size) % size];
      if (earlier === undefined) break;
      if (earlier === key) return true;
    }
    return false;
  }

  private rememberContent(key: string): void {
    this.recent[this.recentNext] = key;
    this.recentNext = (this.recentNext + 1) % this.remembered;
  }

  private remember(key: string): void {
    const oldest = this.order[this.next];
    if (oldest !== undefined) this.seen.delete(oldest);
    this.order[this.next] = key;
    this.next = (this.next + 1) % this.remembered;
    this.seen.add(key);
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
