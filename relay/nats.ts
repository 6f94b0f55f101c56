import { connect, nanos, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { DeliverPolicy, DiscardPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { JobEvent } from '../src/model/events';
import type { EventLog, LoggedEvent } from './log';
import type { Leases } from './leases';

export const EVENTS_STREAM = 'GENWATCH_EVENTS';
export const SUBJECT_ROOT = 'genwatch.events';
export const LEASES_BUCKET = 'genwatch-leases';
/** events asked for per pull */
const READ_BATCH = 5000;

/** A subject token from any id: every character a subject cannot hold (. * > space) escaped. */
export function subjectToken(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, (char) => `~${char.codePointAt(0)!.toString(16).padStart(2, '0')}`);
}

/** One job's subject: `genwatch.events.<source>.<job>`. */
export function jobSubject(key: string): string {
  const slash = key.indexOf('/');
  return `${SUBJECT_ROOT}.${subjectToken(key.slice(0, slash))}.${subjectToken(key.slice(slash + 1))}`;
}

export interface Retention {
  /** @default 1,000,000 */
  maxEvents?: number;
  /** @default 24 h */
  maxAgeMs?: number;
}

/** A NATS connection with JetStream, shared by the log and the leases of one relay. */
export async function connectNats(servers: string, options: Partial<NodeConnectionOptions> = {}): Promise<NatsConnection> {
  return connect({ servers, name: 'genwatch-relay', maxReconnectAttempts: -1, reconnectTimeWait: 500, ...options });
}

/**
 * Every relay's events in one JetStream stream, a subject per source and job. The stream
 * sequence is the event's `seq`: what a viewer's Last-Event-ID names.
 */
export class JetStreamLog implements EventLog {
  readonly kind = 'jetstream';
  private seq = 0;
  private stopFollowing: (() => void) | undefined;
  private infoTimer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  static async open(nc: NatsConnection, retention: Retention = {}): Promise<JetStreamLog> {
    const jsm = await jetstreamManager(nc);
    const config = {
      name: EVENTS_STREAM,
      subjects: [`${SUBJECT_ROOT}.>`],
      max_msgs: retention.maxEvents ?? 1_000_000,
      max_age: nanos(retention.maxAgeMs ?? 24 * 3600_000),
      discard: DiscardPolicy.Old,
    };
    try {
      await jsm.streams.info(EVENTS_STREAM);
      await jsm.streams.update(EVENTS_STREAM, config);
    } catch {
      await jsm.streams.add(config);
    }
    const log = new JetStreamLog(jetstream(nc), jsm);
    log.seq = (await jsm.streams.info(EVENTS_STREAM)).state.last_seq;
    // the newest sequence, for the lag other relays' writes make
    log.infoTimer = setInterval(() => {
      jsm.streams.info(EVENTS_STREAM).then(
        (info) => (log.seq = Math.max(log.seq, info.state.last_seq)),
        () => undefined,
      );
    }, 2000);
    return log;
  }

  async append(events: readonly JobEvent[]): Promise<void> {
    // published together: one connection keeps their order, the acks come back in one round
    const acks = await Promise.all(events.map((event) => this.js.publish(jobSubject(event.key), JSON.stringify(event))));
    for (const ack of acks) this.seq = Math.max(this.seq, ack.seq);
  }

  private decode(message: JsMsg): LoggedEvent {
    return { ...(message.json() as JobEvent), seq: message.seq };
  }

  /** Reads an ordered consumer until `done` says so. */
  private async read(options: Parameters<JetStreamClient['consumers']['get']>[1], done: (event: LoggedEvent) => boolean): Promise<LoggedEvent[]> {
    const consumer = await this.js.consumers.get(EVENTS_STREAM, options);
    const messages = await consumer.consume({ max_messages: READ_BATCH });
    const out: LoggedEvent[] = [];
    try {
      for await (const message of messages) {
        const event = this.decode(message);
        out.push(event);
        if (done(event) || message.info.pending === 0) break;
      }
    } finally {
      messages.stop();
    }
    return out;
  }

  async after(seq: number): Promise<LoggedEvent[] | undefined> {
    const { state } = await this.jsm.streams.info(EVENTS_STREAM);
    if (state.messages === 0) return seq <= state.last_seq ? [] : undefined;
    if (seq + 1 < state.first_seq) return undefined;
    if (seq >= state.last_seq) return [];
    const last = state.last_seq;
    const events = await this.read({ deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: seq + 1 }, (event) => event.seq >= last);
    return events.filter((event) => event.seq <= last);
  }

  async history(key: string): Promise<LoggedEvent[]> {
    const subject = jobSubject(key);
    const { state } = await this.jsm.streams.info(EVENTS_STREAM, { subjects_filter: subject });
    const count = state.subjects?.[subject] ?? 0;
    if (count === 0) return [];
    let seen = 0;
    return this.read({ filter_subjects: subject, deliver_policy: DeliverPolicy.All }, () => ++seen >= count);
  }

  lastSeq(): number {
    return this.seq;
  }

  async follow(listener: (events: LoggedEvent[]) => void): Promise<void> {
    const { state } = await this.jsm.streams.info(EVENTS_STREAM);
    const caughtUpAt = state.last_seq;
    const consumer = await this.js.consumers.get(EVENTS_STREAM, { deliver_policy: DeliverPolicy.All });
    // the client's default pulls 100 at a time: a round trip per 100 events falls behind a flood
    const messages = await consumer.consume({ max_messages: READ_BATCH });
    this.stopFollowing = () => messages.stop();
    let caughtUp!: () => void;
    const ready = new Promise<void>((resolve) => (caughtUp = resolve));
    if (caughtUpAt === 0 || state.messages === 0) caughtUp();
    let batch: LoggedEvent[] = [];
    const deliver = () => {
      const events = batch;
      batch = [];
      listener(events);
      if (events.at(-1)!.seq >= caughtUpAt) caughtUp();
    };
    void (async () => {
      for await (const message of messages) {
        this.seq = Math.max(this.seq, message.seq);
        // one listener call per burst of messages, not per message
        if (batch.length === 0) setImmediate(deliver);
        batch.push(this.decode(message));
      }
    })();
    return ready;
  }

  async close(): Promise<void> {
    clearInterval(this.infoTimer);
    this.stopFollowing?.();
  }
}

/** KV keys allow letters, digits and - / _ = . only */
const leaseKey = (name: string) => Buffer.from(name).toString('base64url');

/**
 * Leases in a JetStream key-value bucket whose entries live `ttlMs` unless renewed: `create`
 * succeeds for one relay only, `update` at the held revision renews, and a dead relay's
 * entries expire so another relay's `create` succeeds.
 */
export class KvLeases implements Leases {
  private readonly held = new Map<string, number>();

  private constructor(
    private readonly kv: KV,
    private readonly relayId: string,
  ) {}

  static async open(nc: NatsConnection, relayId: string, ttlMs = 6000): Promise<KvLeases> {
    const kv = await new Kvm(nc).create(LEASES_BUCKET, { ttl: ttlMs, history: 1 });
    return new KvLeases(kv, relayId);
  }

  async acquire(name: string): Promise<boolean> {
    if (this.held.has(name)) return true;
    try {
      this.held.set(name, await this.kv.create(leaseKey(name), this.relayId));
      return true;
    } catch {
      return false; // another relay holds it
    }
  }

  async renewAll(): Promise<string[]> {
    const lost: string[] = [];
    for (const [name, revision] of this.held) {
      try {
        this.held.set(name, await this.kv.update(leaseKey(name), this.relayId, revision));
      } catch {
        this.held.delete(name);
        lost.push(name);
      }
    }
    return lost;
  }

  async release(name: string): Promise<void> {
    if (!this.held.delete(name)) return;
    await this.kv.delete(leaseKey(name)).catch(() => undefined);
  }

  holds(name: string): boolean {
    return this.held.has(name);
  }

  /** the relay holding a lease, if any */
  async owner(name: string): Promise<string | undefined> {
    const entry = await this.kv.get(leaseKey(name)).catch(() => null);
    return entry && entry.operation === 'PUT' ? entry.string() : undefined;
  }

  get size(): number {
    return this.held.size;
  }

  async close(): Promise<void> {
    await Promise.all([...this.held.keys()].map((name) => this.release(name)));
  }
}
