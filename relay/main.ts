// The genwatch relay as a process: `node dist-relay/main.js --sources FILE [--nats URL]`.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { SourceSchema, type Source } from '../src/protocols/source';
import { describeIssues } from '../src/protocols/wire';
import { jobLease } from './leases';
import { JetStreamLog, KvLeases, connectNats } from './nats';
import { MemoryLog } from './log';
import { startRelay, type RelayOptions, type RunningRelay } from './relay';
import type { RelayConnections } from '../src/feeds/feedConnection';

export { startRelay, MemoryLog, JetStreamLog, KvLeases, connectNats };
export type { RelayOptions, RunningRelay };

const HELP = `Usage: node dist-relay/main.js --sources FILE [options]

  --sources FILE        platform sources, as /sources.json (tokens included: they stay here)
  --port N              where dashboards connect (default 5180)
  --host H              (default 127.0.0.1)
  --nats URL            keep events in NATS JetStream and share jobs with other relays
                        (default: NATS_URL; without either, an in-memory log on this machine)
  --retention-events N  events the log keeps (default 1,000,000; in memory 200,000)
  --retention-hours N   hours the log keeps them (JetStream only, default 24)
  --lease-seconds N     how long a dead relay's jobs wait before another takes them (default 6)
  --allow-origin O      a dashboard origin allowed to connect (repeatable)
  --relay-id ID         this relay's name in leases and logs
  --help                this text

Environment:
  RELAY_TOKEN           what dashboards must send as 'Authorization: Bearer …' (required)
  NATS_URL              the default of --nats
`;

export interface RelayProcessOptions {
  sources: readonly Source[];
  token: string;
  nats?: string;
  port?: number;
  host?: string;
  retentionEvents?: number;
  retentionHours?: number;
  leaseSeconds?: number;
  allowOrigins?: readonly string[];
  relayId?: string;
  feed?: RelayOptions['feed'];
  discoveryIntervalMs?: number;
  maintainEveryMs?: number;
}

/** A relay with its log: JetStream and KV leases when `nats` is given, memory otherwise. */
export async function startRelayWith(options: RelayProcessOptions): Promise<RunningRelay & { closeAll(options?: { crash?: boolean }): Promise<void> }> {
  const nc = options.nats ? await connectNats(options.nats) : undefined;
  const relayId = options.relayId ?? `relay-${randomUUID().slice(0, 8)}`;
  const log = nc
    ? await JetStreamLog.open(nc, {
        maxEvents: options.retentionEvents,
        maxAgeMs: options.retentionHours === undefined ? undefined : options.retentionHours * 3600_000,
      })
    : new MemoryLog(options.retentionEvents);
  const leases = nc ? await KvLeases.open(nc, relayId, (options.leaseSeconds ?? 6) * 1000) : undefined;
  const controlSubject = (id: string) => `genwatch.control.${id}.cancel`;
  // asked of every relay at once: each answers for what it follows
  const CONNECTIONS_SUBJECT = 'genwatch.control.connections';
  const TOKEN_SUBJECT = 'genwatch.control.token';
  /** every relay's answer: the first within a second, then any more within 300 ms of the last */
  const askAll = async (subject: string, payload: string) => {
    const answers: string[] = [];
    for await (const message of await nc!.requestMany(subject, payload, { strategy: 'stall', maxWait: 1000, stall: 300 })) answers.push(message.string());
    return answers;
  };
  const relay = await startRelay({
    gatherConnections: nc
      ? async (own) => {
          const others = (await askAll(CONNECTIONS_SUBJECT, relayId).catch(() => []))
            .map((text) => JSON.parse(text) as RelayConnections)
            .filter((answer) => answer.relayId !== relayId);
          return [own, ...others];
        }
      : undefined,
    // every relay gets it: any of them may follow the source's jobs, now or after a take-over
    shareToken: nc ? async (sourceId, token) => (await askAll(TOKEN_SUBJECT, JSON.stringify({ sourceId, token }))).includes('taken') : undefined,
    // the relay that follows a job is the one holding its lease: asked over NATS
    forwardCancel:
      nc && leases
        ? async (key) => {
            const owner = await leases.owner(jobLease(key));
            if (!owner || owner === relayId) return false;
            const answer = await nc.request(controlSubject(owner), key, { timeout: 3000 }).catch(() => undefined);
            return answer?.string() === 'cancelled';
          }
        : undefined,
    sources: options.sources,
    token: options.token,
    log,
    leases,
    relayId,
    port: options.port,
    host: options.host,
    allowOrigins: options.allowOrigins,
    feed: options.feed,
    discoveryIntervalMs: options.discoveryIntervalMs,
    maintainEveryMs: options.maintainEveryMs ?? Math.max(500, ((options.leaseSeconds ?? 6) * 1000) / 3),
    orphanAfterMs: (options.leaseSeconds ?? 6) * 1000,
  });
  nc?.subscribe(controlSubject(relay.relayId), {
    callback: (error, message) => {
      if (!error) message.respond(relay.collector.cancel(message.string()) ? 'cancelled' : 'refused');
    },
  });
  nc?.subscribe(CONNECTIONS_SUBJECT, {
    callback: (error, message) => {
      if (!error && message.string() !== relay.relayId) message.respond(JSON.stringify(relay.connections()));
    },
  });
  nc?.subscribe(TOKEN_SUBJECT, {
    callback: (error, message) => {
      if (error) return;
      let request: { sourceId: string; token: string };
      try {
        request = JSON.parse(message.string()) as { sourceId: string; token: string };
      } catch {
        return;
      }
      const { sourceId, token } = request;
      void relay.collector.renewToken(sourceId, token).then((taken) => message.respond(taken ? 'taken' : 'unknown'));
    },
  });
  return {
    ...relay,
    async closeAll({ crash = false } = {}) {
      await relay.close({ crash });
      if (nc) await (crash ? nc.close() : nc.drain());
    },
  };
}

/** Reads a sources file; every entry must be valid (the relay holds their tokens). */
export async function readSources(file: string): Promise<Source[]> {
  const list: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (!Array.isArray(list)) throw new Error(`${file} is not a JSON array`);
  return list.map((entry, index) => {
    const parsed = v.safeParse(SourceSchema, entry);
    if (!parsed.success) throw new Error(`${file}, entry ${index + 1}: ${describeIssues(parsed.issues)}`);
    return parsed.output;
  });
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      sources: { type: 'string' },
      port: { type: 'string', default: '5180' },
      host: { type: 'string', default: '127.0.0.1' },
      nats: { type: 'string', default: process.env.NATS_URL },
      'retention-events': { type: 'string' },
      'retention-hours': { type: 'string' },
      'lease-seconds': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true, default: [] },
      'relay-id': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  const token = process.env.RELAY_TOKEN;
  if (!args.sources) throw new Error('--sources FILE is required (see --help)');
  if (!token) throw new Error('RELAY_TOKEN must be set: dashboards authenticate with it');
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  const relay = await startRelayWith({
    sources: await readSources(args.sources),
    token,
    nats: args.nats || undefined,
    port: Number(args.port),
    host: args.host,
    retentionEvents: number(args['retention-events']),
    retentionHours: number(args['retention-hours']),
    leaseSeconds: number(args['lease-seconds']),
    allowOrigins: args['allow-origin'],
    relayId: args['relay-id'],
  });
  console.log(`genwatch relay ${relay.relayId} (${relay.log.kind} log) is running: ${relay.url}`);
  const shutdown = () => void relay.closeAll().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: Error) => {
    console.error(`genwatch relay could not start: ${error.message}`);
    process.exit(1);
  });
}
