/** The one job model every platform is normalized into. Progress is always 0-100. */

/**
 * The platforms genwatch speaks to. The model names them and knows nothing of their wire: each
 * kind's dialect is its entry in the registry (`src/protocols/index.ts`), which must cover them all.
 */
export const PLATFORM_KINDS = ['codebegen', 'takoss', 'smartforge', 'imagegen', 'comfyui'] as const;
export type PlatformKind = (typeof PLATFORM_KINDS)[number];

export function isPlatformKind(value: unknown): value is PlatformKind {
  return typeof value === 'string' && (PLATFORM_KINDS as readonly string[]).includes(value);
}

export const JOB_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);
export const isTerminal = (status: JobStatus): boolean => TERMINAL_STATUSES.has(status);

/** How updates for a job currently reach the dashboard. */
export type Transport = 'sse' | 'websocket' | 'polling' | 'none';
export type LinkState = 'idle' | 'connecting' | 'live' | 'stale' | 'reconnecting' | 'polling' | 'closed' | 'error';

export interface Phase {
  stage: string;
  /** platform time, ms since the epoch */
  startedAt: number;
}

/** "phase N of M", "step N of M": where a platform counts its work */
export interface StepCount {
  current: number;
  total?: number;
  label?: string;
}

/** files a phase produced (CodeBegen iteration saves files phase by phase) */
export interface PhaseFiles {
  phase: number;
  name: string;
  files: number;
  /** running total the platform reported after this phase */
  totalFiles?: number;
}

/** a file being written live (Smart Forge), assembled from its chunks */
export interface LiveFile {
  path: string;
  language?: string;
  content: string;
  done: boolean;
}

/** one progress sample of a stepped job (image generation), for its charts */
export interface StepSample {
  /** seconds since the job started, as the platform counts them */
  elapsed: number;
  step: number;
  totalSteps: number;
  stage: string;
  /** the platform's estimate, seconds */
  estimatedRemaining?: number;
  /** when it arrived, ms since the epoch */
  at: number;
}

/** What a platform answered for an id it knows no job by. */
export interface NotFound {
  /** the platform's answer, or what its stream showed instead of a job */
  answer: string;
  /**
   * No job can take this id later (the platform hands its ids out itself); otherwise (a task
   * id a client chooses before it starts the task) the job may still appear, and is watched.
   */
  final: boolean;
}

export interface Job {
  /** `${sourceId}/${jobId}`: also the tail of the job's URL */
  key: string;
  sourceId: string;
  jobId: string;
  platform: PlatformKind;
  title: string;
  status: JobStatus;
  /** 0-100 */
  progress: number;
  stage?: string;
  message?: string;
  currentFile?: string;
  /** when the platform expects the job to end, ms since the epoch */
  etaAt?: number;
  /**
   * The platform's predictions as the job went, one per tenth of progress at most:
   * [when, the end it predicted, the progress decile], for the ETA's accuracy on /insights.
   */
  etaLog?: readonly (readonly [at: number, etaAt: number, decile: number])[];
  createdAt?: number;
  /** platform time of the newest applied update */
  updatedAt?: number;
  finishedAt?: number;
  error?: string;
  output?: unknown;
  /** stages in the order they started */
  phases: readonly Phase[];
  eventCount: number;
  protocolErrors: number;
  /** well-formed messages of a type genwatch does not know (counted apart from invalid ones) */
  unrecognized: number;
  transport: Transport;
  link: LinkState;
  /** what the operator should know about the link, e.g. a 401 */
  linkDetail?: string;
  /** the link cannot recover by itself: the operator must act */
  linkFatal: boolean;
  /** the platform rejected the source's token: a new one is needed */
  needsToken?: boolean;
  reconnects: number;
  /** times its stream was given up for polling (absent on jobs stored before it was counted) */
  fallbacks?: number;
  /** wire events dropped because they had been seen already */
  duplicates: number;
  /** updates folded into a newer one of the same job while the page caught up with a flood */
  merged: number;
  /** events the platform could not replay (ids skipped), each answered with a fresh snapshot */
  gaps: number;
  /** arrival time of the last update or sign of life, ms since the epoch */
  lastSeenAt?: number;
  /** what kind of job of its platform (e.g. 'iteration' for CodeBegen) */
  variant?: string;
  /** the job this one was made from (an iteration's parent) */
  parentKey?: string;
  step?: StepCount;
  warnings: readonly string[];
  phaseFiles: readonly PhaseFiles[];
  /** progress of each phase, 0-100, where the platform reports it */
  phaseProgress: Readonly<Record<string, number>>;
  files: Readonly<Record<string, LiveFile>>;
  /** file paths in the order they started */
  fileOrder: readonly string[];
  /** the file being written now */
  activeFile?: string;
  imageUrl?: string;
  samples: readonly StepSample[];
  /** the platform knows no job by this id (yet): set by a lookup or a stream with no sign of it, cleared by any news of the job */
  notFound?: NotFound;
}

export function jobKey(sourceId: string, jobId: string): string {
  return `${sourceId}/${jobId}`;
}

/** A job key back into its ids (source ids hold no slash; job ids may). */
export function splitJobKey(key: string): { sourceId: string; jobId: string } {
  const slash = key.indexOf('/');
  return { sourceId: key.slice(0, slash), jobId: key.slice(slash + 1) };
}

/** What the status badge says: a job's status, or 'not found' while its platform knows no job by its id. */
export function displayStatus(job: Pick<Job, 'status' | 'notFound'>): JobStatus | 'not found' {
  return job.notFound && !isTerminal(job.status) ? 'not found' : job.status;
}

/** A running job not heard from for this long is stale, never live. */
export const STALE_AFTER_MS = 20_000;

/**
 * How a job's link is doing, by one rule every screen shares: `down` when its link failed,
 * `stale` when it is reconnecting or nothing (not even a heartbeat) arrived for
 * STALE_AFTER_MS, `ok` otherwise. Finished jobs, and jobs kept current by a listing alone
 * (link `idle`), are `ok`: nothing is expected of their link.
 */
export function linkHealth(job: Job, now: number): 'ok' | 'stale' | 'down' {
  if (isTerminal(job.status)) return 'ok';
  if (job.link === 'error') return 'down';
  if (job.link === 'idle' || job.link === 'closed') return 'ok';
  if (job.link === 'stale' || job.link === 'reconnecting') return 'stale';
  const heardAt = job.lastSeenAt ?? job.updatedAt;
  return heardAt !== undefined && now - heardAt > STALE_AFTER_MS ? 'stale' : 'ok';
}

/**
 * A job still without what streams and status rows often lack (its prompt as title, its
 * creation time), which a listing's row carries.
 */
export const lacksListingFacts = (job: Job): boolean => job.createdAt === undefined || job.title === job.jobId;

export function newJob(sourceId: string, jobId: string, platform: PlatformKind): Job {
  return {
    key: jobKey(sourceId, jobId),
    sourceId,
    jobId,
    platform,
    title: jobId,
    status: 'pending',
    progress: 0,
    phases: [],
    eventCount: 0,
    protocolErrors: 0,
    unrecognized: 0,
    transport: 'none',
    link: 'idle',
    linkFatal: false,
    reconnects: 0,
    duplicates: 0,
    merged: 0,
    gaps: 0,
    warnings: [],
    phaseFiles: [],
    phaseProgress: {},
    files: {},
    fileOrder: [],
    samples: [],
  };
}

/**
 * The oldest finished jobs past a limit of kept ones (by when they ended), as the history lets
 * them go: memory lets them go too, or a board left open for hours grows without end.
 */
export function finishedPastLimit(finished: readonly Job[], limit: number): Job[] {
  if (finished.length <= limit) return [];
  const endOf = (job: Job) => job.finishedAt ?? job.updatedAt ?? 0;
  return [...finished].sort((a, b) => endOf(a) - endOf(b)).slice(0, finished.length - limit);
}

/** What the feeds are told of a job let go of: finished, with nothing a listing could add. */
export function letGoJob(key: string, platform: PlatformKind): Job {
  const { sourceId, jobId } = splitJobKey(key);
  return { ...newJob(sourceId, jobId, platform), status: 'completed', title: '', createdAt: 0 };
}
