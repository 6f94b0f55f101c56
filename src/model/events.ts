import type { Job, JobStatus, LinkState, NotFound, PhaseFiles, PlatformKind, StepCount, StepSample, Transport } from './job';

/** Fields a platform message may set on a job; a dialect fills only what it knows. */
export interface JobUpdate {
  status?: JobStatus;
  /** 0-100 */
  progress?: number;
  stage?: string;
  message?: string;
  currentFile?: string;
  etaSeconds?: number;
  title?: string;
  createdAt?: number;
  finishedAt?: number;
  error?: string;
  output?: unknown;
  variant?: string;
  parentKey?: string;
  step?: StepCount;
  /** appended to the job's warnings */
  warning?: string;
  /** one phase's files, merged by phase number */
  phaseFiles?: PhaseFiles;
  /** one phase's progress, 0-100 */
  phaseProgress?: { phase: string; progress: number };
  fileStarted?: { path: string; language?: string };
  /** text appended to a live file */
  chunk?: { path: string; text: string };
  /** a file is complete; `content`, when given, replaces what the chunks built */
  fileDone?: { path: string; content?: string };
  /** every file at once, from a snapshot */
  filesSnapshot?: { path: string; language?: string; content: string; done: boolean }[];
  imageUrl?: string;
  sample?: StepSample;
  /** the platform knows no job by this id (its own words); see Job.notFound */
  notFound?: NotFound;
}

interface EventBase {
  key: string;
  sourceId: string;
  jobId: string;
  platform: PlatformKind;
  /** platform time (ms); the arrival time when the platform sends none */
  at: number;
  receivedAt: number;
  /** the wire message as it arrived, for the event log */
  raw?: string;
  /** the platform's event id, where it sends one */
  wireId?: string;
  /** genwatch's own arrival order, unique across visits: tells a stored event from its copy in memory */
  seq?: number;
  /** how many older updates of the job this one stands for (merged in a flood) */
  merged?: number;
  /** the message type as the platform names it (a `type`, a `status`), for the protocol inspector */
  wireType?: string;
}

/** One field of a wire message that did not match what genwatch expects of it. */
export interface WireMismatch {
  /** where in the message, e.g. `phase_info.phase` (empty: the message itself) */
  path: string;
  /** what genwatch expected there */
  expected: string;
  /** what arrived instead */
  received: string;
}

/** A normalized event: the only thing reducers accept. */
export type JobEvent =
  | (EventBase & { kind: 'update'; update: JobUpdate; label?: string })
  | (EventBase & { kind: 'protocol-error'; error: string; mismatches?: WireMismatch[] })
  /** a well-formed message of a type genwatch does not know: logged and counted, never applied */
  | (EventBase & { kind: 'unrecognized' })
  /** a sign of life without data (an SSE comment, a keep-alive): keeps the job from looking stale */
  | (EventBase & { kind: 'heartbeat' })
  /** worth a line in the log, changes nothing on the job (e.g. "stream connected") */
  | (EventBase & { kind: 'notice'; level: 'info' | 'warn'; text: string })
  | (EventBase & { kind: 'link'; transport: Transport; link: LinkState; detail?: string; fatal?: boolean; reconnect?: boolean; needsToken?: boolean })
  /** the transport dropped duplicates or found a gap it could not fill from the stream */
  | (EventBase & { kind: 'integrity'; duplicates?: number; gaps?: number });

export type JobEventKind = JobEvent['kind'];

/** What a row says of a job besides its progress: its prompt as title, its creation time, its kind and parent. */
export function jobFacts({ title, createdAt, variant, parentKey }: JobUpdate): JobUpdate {
  return { title, createdAt, variant, parentKey };
}

/**
 * A listing's row as the facts a stream lacks (it carries no prompt or creation time), for a
 * job kept current otherwise; undefined when the row tells the job nothing new, as most rounds do.
 */
export function listingFactsEvent(event: JobEvent, known: Job): JobEvent | undefined {
  if (event.kind !== 'update') return undefined;
  const { title, createdAt } = event.update;
  if ((!title || title === known.title) && (createdAt === undefined || known.createdAt !== undefined)) return undefined;
  return { ...event, at: createdAt ?? event.at, raw: undefined, label: 'listing', update: jobFacts(event.update) };
}
