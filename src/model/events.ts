import type { JobStatus, LinkState, PlatformKind, Transport } from './job';

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
}

/** A normalized event: the only thing reducers accept. */
export type JobEvent =
  | (EventBase & { kind: 'update'; update: JobUpdate; label?: string })
  | (EventBase & { kind: 'protocol-error'; error: string })
  /** a sign of life without data (an SSE comment, a keep-alive): keeps the job from looking stale */
  | (EventBase & { kind: 'heartbeat' })
  /** worth a line in the log, changes nothing on the job (e.g. "stream connected") */
  | (EventBase & { kind: 'notice'; level: 'info' | 'warn'; text: string })
  | (EventBase & { kind: 'link'; transport: Transport; link: LinkState; detail?: string; fatal?: boolean; reconnect?: boolean });

export type JobEventKind = JobEvent['kind'];
