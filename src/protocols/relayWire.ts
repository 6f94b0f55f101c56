import * as v from 'valibot';
import { JobEventSchema } from '../model/eventSchema';
import type { JobEvent } from '../model/events';
import { JOB_STATUSES, jobKey, PLATFORM_KINDS, type Job } from '../model/job';
import { describeIssues } from './wire';

// The relay's stream to a dashboard, written by the relay and read by the dashboard: frame names,
// how each frame is written, and the schemas it is read with. A frame or an item that does not
// parse is dropped on its own and counted, as a platform's malformed message is.

export const RELAY_FRAME = { hello: 'hello', snapshot: 'snapshot', events: 'events' } as const;

export interface RelayHello {
  /** the viewer's connection, named by its subscriptions */
  connection: string;
  relay: string;
  /** the kind of log behind the relay (memory, JetStream) */
  log: string;
}

/** an event as the relay sends it: its place in the relay's log */
export type RelayEvent = JobEvent & { seq: number };

export const RelayHelloSchema = v.object({
  connection: v.pipe(v.string(), v.minLength(1)),
  relay: v.string(),
  log: v.string(),
});

const count = v.pipe(v.number(), v.finite());

/** A board row as the relay snapshots it: what the board and a job page read of any job. */
const RelayJobSchema = v.pipe(
  v.looseObject({
    key: v.string(),
    sourceId: v.string(),
    jobId: v.pipe(v.string(), v.minLength(1)),
    platform: v.picklist(PLATFORM_KINDS),
    title: v.string(),
    status: v.picklist(JOB_STATUSES),
    progress: count,
    phases: v.array(v.looseObject({})),
    eventCount: count,
    protocolErrors: count,
    unrecognized: count,
    transport: v.string(),
    link: v.string(),
    reconnects: count,
    duplicates: count,
    merged: count,
    gaps: count,
    warnings: v.array(v.string()),
    phaseFiles: v.array(v.looseObject({})),
    phaseProgress: v.record(v.string(), count),
    files: v.record(v.string(), v.looseObject({})),
  }),
  v.check((job) => job.key === jobKey(job.sourceId, job.jobId), 'key does not name its source and job'),
);

const RelayEventSchema = v.pipe(
  v.intersect([JobEventSchema, v.looseObject({ key: v.string(), seq: v.pipe(v.number(), v.integer(), v.minValue(0)) })]),
  v.check((event) => event.key === jobKey(event.sourceId, event.jobId), 'key does not name its source and job'),
);

export function helloFrame(hello: RelayHello): string {
  return `event: ${RELAY_FRAME.hello}\ndata: ${JSON.stringify(hello)}\n\n`;
}

/** the board as it is now, as of log sequence `id` */
export function snapshotFrame(id: number, jobs: readonly Job[]): string {
  return `id: ${id}\nevent: ${RELAY_FRAME.snapshot}\ndata: ${JSON.stringify(jobs)}\n\n`;
}

/** events already serialized (once per event, not per viewer), resumed after `id` */
export function eventsFrame(id: number, serialized: readonly string[]): string {
  return `id: ${id}\nevent: ${RELAY_FRAME.events}\ndata: [${serialized.join(',')}]\n\n`;
}

/** A frame read: what parsed, and what was dropped with why (the first reason of each kind). */
export type ReadFrame =
  | { frame: 'hello'; hello: RelayHello }
  | { frame: 'snapshot'; jobs: Job[]; dropped: number; problem?: string }
  | { frame: 'events'; events: RelayEvent[]; dropped: number; problem?: string }
  | { frame: 'invalid'; problem: string }
  /** a frame this dashboard does not know (a newer relay): ignored */
  | { frame: 'unknown'; name: string };

/** Reads one frame of the relay's stream. Never throws: bad input is a value to count and show. */
export function readRelayFrame(name: string, data: string): ReadFrame {
  if (!(Object.values(RELAY_FRAME) as string[]).includes(name)) return { frame: 'unknown', name };
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch {
    return { frame: 'invalid', problem: `a ${name} frame that is not JSON (${data.slice(0, 40)}…)` };
  }
  return readRelayBody(name, body);
}

/** Reads a frame's body already parsed from JSON (the relay's JSON API answers with the same shapes). */
export function readRelayBody(name: string, body: unknown): ReadFrame {
  if (name === RELAY_FRAME.hello) {
    const parsed = v.safeParse(RelayHelloSchema, body);
    return parsed.success ? { frame: 'hello', hello: parsed.output } : { frame: 'invalid', problem: `a hello frame: ${describeIssues(parsed.issues)}` };
  }
  if (!Array.isArray(body)) return { frame: 'invalid', problem: `a ${name} frame that is not a list` };
  if (name === RELAY_FRAME.snapshot) {
    const { items, dropped, problem } = parseEach(RelayJobSchema, body, 'a job');
    return { frame: 'snapshot', jobs: items as unknown as Job[], dropped, problem };
  }
  const { items, dropped, problem } = parseEach(RelayEventSchema, body, 'an event');
  return { frame: 'events', events: items as unknown as RelayEvent[], dropped, problem };
}

function parseEach<Schema extends v.GenericSchema>(schema: Schema, list: unknown[], what: string) {
  const items: v.InferOutput<Schema>[] = [];
  let dropped = 0;
  let problem: string | undefined;
  for (const item of list) {
    const parsed = v.safeParse(schema, item);
    if (parsed.success) items.push(parsed.output);
    else {
      dropped++;
      problem ??= `${what}: ${describeIssues(parsed.issues)}`;
    }
  }
  return { items, dropped, problem };
}
