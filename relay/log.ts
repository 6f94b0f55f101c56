import type { JobEvent } from '../src/model/events';

/** An event as the relay stores it: `seq` is its place in the log (the JetStream sequence). */
export type LoggedEvent = JobEvent & { seq: number };

/**
 * Where the relay keeps every normalized event: an in-memory ring on one machine, or a
 * JetStream stream shared by every relay. Sequences increase; the oldest events are dropped
 * past the retention limit.
 */
export interface EventLog {
  readonly kind: 'memory' | 'jetstream';
  /** publishes; resolves once the log has acknowledged every event */
  append(events: readonly JobEvent[]): Promise<void>;
  /**
   * every event after `seq` (exclusive), oldest first, up to what the log held when asked;
   * undefined when `seq` is older than what is retained (the caller needs a snapshot instead)
   */
  after(seq: number): Promise<LoggedEvent[] | undefined>;
  /** every retained event of one job, oldest first */
  history(key: string): Promise<LoggedEvent[]>;
  /** the newest sequence in the log (0 when empty) */
  lastSeq(): number;
  /**
   * Every event appended by any relay, in sequence order, from the start of what is retained;
   * resolves once the listener has caught up with what was there when it subscribed.
   */
  follow(listener: (events: LoggedEvent[]) => void): Promise<void>;
  close(): Promise<void>;
}

/** One machine: a bounded ring in memory (the default when no NATS is configured). */
export class MemoryLog implements EventLog {
  readonly kind = 'memory';
  private events: LoggedEvent[] = [];
  private seq = 0;
  private readonly listeners = new Set<(events: LoggedEvent[]) => void>();

  constructor(private readonly maxEvents = 200_000) {}

  async append(events: readonly JobEvent[]): Promise<void> {
    if (events.length === 0) return;
    const logged = events.map((event) => ({ ...event, seq: ++this.seq }));
    this.events.push(...logged);
    // trimmed in chunks: one splice per 10% over, not one per event
    if (this.events.length > this.maxEvents * 1.1) this.events.splice(0, this.events.length - this.maxEvents);
    for (const listener of this.listeners) listener(logged);
  }

  async after(seq: number): Promise<LoggedEvent[] | undefined> {
    const first = this.events[0]?.seq ?? this.seq + 1;
    if (seq + 1 < first) return undefined;
    return this.events.slice(seq + 1 - first);
  }

  async history(key: string): Promise<LoggedEvent[]> {
    return this.events.filter((event) => event.key === key);
  }

  lastSeq(): number {
    return this.seq;
  }

  async follow(listener: (events: LoggedEvent[]) => void): Promise<void> {
    if (this.events.length) listener([...this.events]);
    this.listeners.add(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
