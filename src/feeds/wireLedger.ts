import type { JobEvent, WireMismatch } from '../model/events';
import type { Source } from '../protocols/source';
import type { WireChannel } from './feedSettings';

/** a sample is kept to this many characters */
const SAMPLE_CHARS = 2000;
/** message types and problems kept per source; past this, new ones are only counted */
const MAX_ENTRIES = 200;

/** What genwatch made of one message. */
export type WireOutcome = 'applied' | 'unrecognized' | 'invalid';

export interface TypeStat {
  channel: WireChannel;
  /** the message type as the platform names it */
  type: string;
  count: number;
  invalid: number;
  unrecognized: number;
  firstAt: number;
  lastAt: number;
  /** the first message of this type, as it came (cut at 2,000 characters) */
  sample: string;
}

export interface MismatchStat {
  channel: WireChannel;
  type: string;
  /** the failing field, empty for the message as a whole */
  path: string;
  expected: string;
  /** what the first failing message had there */
  received: string;
  /** genwatch's words for the first one */
  error: string;
  count: number;
  firstAt: number;
  lastAt: number;
  sample: string;
}

export interface SourceLedger {
  messages: number;
  invalid: number;
  unrecognized: number;
  /** types or problems beyond the bound: counted in the totals, not listed */
  overflow: number;
  types: TypeStat[];
  mismatches: MismatchStat[];
}

interface Book {
  messages: number;
  invalid: number;
  unrecognized: number;
  overflow: number;
  types: Map<string, TypeStat>;
  mismatches: Map<string, MismatchStat>;
}

const cut = (text: string) => (text.length > SAMPLE_CHARS ? `${text.slice(0, SAMPLE_CHARS)}…` : text);

/** The name a message goes by: the platform's type, else what genwatch could tell of it. */
function typeOf(events: readonly JobEvent[]): string {
  for (const event of events) if (event.wireType) return event.wireType;
  if (events.some((event) => event.kind === 'protocol-error')) return '(unreadable)';
  const update = events.find((event) => event.kind === 'update');
  return update?.kind === 'update' ? (update.label ?? 'update') : (events[0]?.kind ?? 'empty');
}

/**
 * Per source, what its platform sends and what genwatch made of it: every message type seen
 * with a count and its first sample, the ones genwatch does not know, and every schema
 * mismatch grouped by the failing field, with a sample and what was expected. Fed on the hot
 * path (plain maps, no reactivity); the inspector page reads a snapshot once a second.
 */
export class WireLedger {
  private readonly books = new Map<string, Book>();

  private book(sourceId: string): Book {
    let book = this.books.get(sourceId);
    if (!book) {
      book = { messages: 0, invalid: 0, unrecognized: 0, overflow: 0, types: new Map(), mismatches: new Map() };
      this.books.set(sourceId, book);
    }
    return book;
  }

  /** One message off the wire (`raw` as it came) and the events it became. */
  record(source: Source, channel: WireChannel, raw: string, events: readonly JobEvent[], at = Date.now(), type = typeOf(events)): void {
    const book = this.book(source.id);
    // one pass, no allocation: this runs for every message of every stream
    let invalid = false;
    let unrecognized = false;
    for (const event of events) {
      if (event.kind === 'protocol-error') invalid = true;
      else if (event.kind === 'unrecognized') unrecognized = true;
    }
    book.messages++;
    if (invalid) book.invalid++;
    if (unrecognized) book.unrecognized++;
    const typeKey = `${channel}\u0000${type}`;
    let stat = book.types.get(typeKey);
    if (!stat) {
      if (book.types.size >= MAX_ENTRIES) {
        book.overflow++;
      } else {
        stat = { channel, type, count: 0, invalid: 0, unrecognized: 0, firstAt: at, lastAt: at, sample: cut(raw) };
        book.types.set(typeKey, stat);
      }
    }
    if (stat) {
      stat.count++;
      stat.lastAt = at;
      if (invalid) stat.invalid++;
      if (unrecognized) stat.unrecognized++;
    }
    if (!invalid) return;
    for (const problem of events) {
      if (problem.kind !== 'protocol-error') continue;
      const mismatches: WireMismatch[] = problem.mismatches?.length
        ? problem.mismatches
        : [{ path: '', expected: 'a readable message', received: problem.error }];
      for (const mismatch of mismatches) this.noteMismatch(book, channel, type, mismatch, problem.error, raw, at);
    }
  }

  /** A listing (or any answer) that could not be read as a whole. */
  recordFailure(source: Source, channel: WireChannel, type: string, raw: string, error: string, mismatches: WireMismatch[] = [], at = Date.now()): void {
    const book = this.book(source.id);
    book.messages++;
    book.invalid++;
    const typeKey = `${channel}\u0000${type}`;
    const stat =
      book.types.get(typeKey) ??
      (book.types.size < MAX_ENTRIES ? { channel, type, count: 0, invalid: 0, unrecognized: 0, firstAt: at, lastAt: at, sample: cut(raw) } : undefined);
    if (stat) {
      book.types.set(typeKey, stat);
      stat.count++;
      stat.invalid++;
      stat.lastAt = at;
    }
    for (const mismatch of mismatches.length ? mismatches : [{ path: '', expected: 'a readable answer', received: error }])
      this.noteMismatch(book, channel, type, mismatch, error, raw, at);
  }

  private noteMismatch(book: Book, channel: WireChannel, type: string, mismatch: WireMismatch, error: string, raw: string, at: number): void {
    const key = `${channel}\u0000${type}\u0000${mismatch.path}\u0000${mismatch.expected}`;
    const existing = book.mismatches.get(key);
    if (existing) {
      existing.count++;
      existing.lastAt = at;
      return;
    }
    if (book.mismatches.size >= MAX_ENTRIES) {
      book.overflow++;
      return;
    }
    book.mismatches.set(key, {
      channel,
      type,
      path: mismatch.path,
      expected: mismatch.expected,
      received: cut(mismatch.received),
      error,
      count: 1,
      firstAt: at,
      lastAt: at,
      sample: cut(raw),
    });
  }

  /** A copy for the page: types by count, problems newest first. */
  snapshot(sourceId: string): SourceLedger {
    const book = this.books.get(sourceId);
    if (!book) return { messages: 0, invalid: 0, unrecognized: 0, overflow: 0, types: [], mismatches: [] };
    return {
      messages: book.messages,
      invalid: book.invalid,
      unrecognized: book.unrecognized,
      overflow: book.overflow,
      types: [...book.types.values()].map((stat) => ({ ...stat })).sort((a, b) => b.count - a.count || a.type.localeCompare(b.type)),
      mismatches: [...book.mismatches.values()].map((stat) => ({ ...stat })).sort((a, b) => b.lastAt - a.lastAt),
    };
  }

  clear(sourceId?: string): void {
    if (sourceId === undefined) this.books.clear();
    else this.books.delete(sourceId);
  }
}
