import type { JobEvent, JobUpdate } from './events';
import { isTerminal, type Job, type JobStatus, type LiveFile, type Phase } from './job';
import { visibleName, visibleText } from './text';

/** samples kept per job for its charts */
export const MAX_SAMPLES = 10_000;

const STATUS_RANK: Record<JobStatus, number> = { pending: 0, running: 1, completed: 2, failed: 2, cancelled: 2 };

export function clampProgress(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(100, Math.max(0, value));
}

/**
 * Applies one event to a job and returns the next job (the same object when nothing changed).
 * Order-tolerant: replays after a reconnect and snapshots from polling may arrive older than
 * what the job already shows, so status only moves forward, progress never goes back, and
 * fields from an event older than the newest applied one do not overwrite newer ones.
 */
export function reduceJob(job: Job, event: JobEvent): Job {
  switch (event.kind) {
    case 'link':
      return {
        ...job,
        transport: event.transport,
        link: event.link,
        linkDetail: event.detail,
        linkFatal: event.fatal ?? false,
        needsToken: event.needsToken,
        reconnects: job.reconnects + (event.reconnect ? 1 : 0),
        // a stream given up for polling
        fallbacks: (job.fallbacks ?? 0) + (event.transport === 'polling' && (job.transport === 'sse' || job.transport === 'websocket') ? 1 : 0),
        eventCount: job.eventCount + 1,
      };
    case 'integrity':
      return { ...job, duplicates: job.duplicates + (event.duplicates ?? 0), gaps: job.gaps + (event.gaps ?? 0) };
    case 'heartbeat':
      return { ...job, lastSeenAt: Math.max(job.lastSeenAt ?? 0, event.receivedAt) };
    case 'notice':
      return { ...job, eventCount: job.eventCount + 1, lastSeenAt: Math.max(job.lastSeenAt ?? 0, event.receivedAt) };
    case 'protocol-error':
    case 'unrecognized': {
      // counted apart: a broken message and one of a type genwatch does not know
      const counter = event.kind === 'protocol-error' ? 'protocolErrors' : 'unrecognized';
      return {
        ...job,
        [counter]: job[counter] + 1,
        eventCount: job.eventCount + 1,
        lastSeenAt: Math.max(job.lastSeenAt ?? 0, event.receivedAt),
      };
    }
    case 'update': {
      const next = applyUpdate(job, event.update, event.at, event.receivedAt);
      if (event.merged) {
        next.eventCount += event.merged;
        next.merged = job.merged + event.merged;
      }
      return next;
    }
  }
}

/** the fields of an update that are shown as they are: made visible and bounded (see text.ts) */
function visibleUpdate(update: JobUpdate): JobUpdate {
  const out = { ...update };
  if (out.title !== undefined) out.title = visibleName(out.title);
  if (out.stage !== undefined) out.stage = visibleName(out.stage);
  if (out.currentFile !== undefined) out.currentFile = visibleName(out.currentFile);
  if (out.message !== undefined) out.message = visibleText(out.message);
  if (out.error !== undefined) out.error = visibleText(out.error);
  if (out.warning !== undefined) out.warning = visibleText(out.warning);
  return out;
}

function applyUpdate(job: Job, raw: JobUpdate, at: number, receivedAt: number): Job {
  const update = visibleUpdate(raw);
  const next: Job = {
    ...job,
    eventCount: job.eventCount + 1,
    lastSeenAt: Math.max(job.lastSeenAt ?? 0, receivedAt),
    updatedAt: Math.max(job.updatedAt ?? at, at),
  };
  const stale = job.updatedAt !== undefined && at < job.updatedAt;
  const wasFinished = isTerminal(job.status);

  if (update.status && !wasFinished && STATUS_RANK[update.status] > STATUS_RANK[job.status]) {
    next.status = update.status;
  } else if (update.status && !wasFinished && update.status === job.status && isTerminal(update.status)) {
    next.status = update.status;
  }
  const nowFinished = isTerminal(next.status);

  if (update.progress !== undefined) next.progress = Math.max(job.progress, clampProgress(update.progress));
  if (next.status === 'completed') next.progress = 100;

  if (update.title) next.title = update.title;
  if (update.createdAt !== undefined) next.createdAt = Math.min(job.createdAt ?? update.createdAt, update.createdAt);
  // A platform may still report a problem after the job completed (Smart Forge writes files
  // after its `complete`): the job stays completed and the problem becomes a warning.
  const lateProblem = update.error !== undefined && wasFinished && job.status === 'completed';
  if (update.error && !lateProblem) next.error = update.error;

  if (!stale && !wasFinished) {
    if (update.stage !== undefined && update.stage !== job.stage) {
      next.stage = update.stage;
      next.currentFile = update.currentFile;
    } else if (update.currentFile !== undefined) {
      next.currentFile = update.currentFile;
    }
    if (update.message !== undefined) next.message = update.message;
    if (update.etaSeconds !== undefined && Number.isFinite(update.etaSeconds)) {
      next.etaAt = at + Math.max(0, update.etaSeconds) * 1000;
      const decile = Math.min(9, Math.floor(next.progress / 10));
      const last = job.etaLog?.at(-1);
      if (!last || decile > last[2]) next.etaLog = [...(job.etaLog ?? []), [at, next.etaAt, decile]];
    }
  }
  // what a job produced may come after its end (Takoss sends `result` after `complete`)
  if (update.output !== undefined && (!stale || next.output === undefined)) next.output = update.output;
  if (nowFinished) {
    next.etaAt = undefined;
    if (!wasFinished) {
      next.finishedAt = update.finishedAt ?? at;
      next.currentFile = undefined;
    }
  }
  // a stage reported after the end (a trailing frame) is not a phase of the job
  if (update.stage !== undefined && (!wasFinished || at <= (job.finishedAt ?? Number.POSITIVE_INFINITY))) next.phases = notePhase(job.phases, update.stage, at);
  applyDetails(next, job, update, stale);
  return next;
}

/** Platform details: phase files, warnings, live files, samples. Accumulated, never lost. */
function applyDetails(next: Job, job: Job, update: JobUpdate, stale: boolean): void {
  if (update.variant) next.variant = update.variant;
  if (update.parentKey) next.parentKey = update.parentKey;
  if (update.imageUrl) next.imageUrl = update.imageUrl;
  // the final frame's count is the job's last, even when an answer stamped with its arrival came first
  const final = update.status !== undefined && isTerminal(update.status) && update.status === next.status;
  if (update.step && ((!stale && !isTerminal(job.status)) || final)) next.step = { ...job.step, ...update.step };
  if (update.notFound) {
    // a lookup's answer means nothing for a job already seen doing something
    if (!hasNews(job)) next.notFound = update.notFound;
  } else if (job.notFound && isNews(update)) {
    next.notFound = undefined;
  }
  const warning = update.warning ?? (update.error !== undefined && job.status === 'completed' ? `After the job completed: ${update.error}` : undefined);
  if (warning && !job.warnings.includes(warning)) next.warnings = [...job.warnings, warning];
  if (update.phaseFiles) {
    const others = job.phaseFiles.filter((entry) => entry.phase !== update.phaseFiles!.phase);
    next.phaseFiles = [...others, update.phaseFiles].sort((a, b) => a.phase - b.phase);
  }
  if (update.phaseProgress) {
    const { phase, progress } = update.phaseProgress;
    const value = clampProgress(progress);
    if ((job.phaseProgress[phase] ?? -1) < value) next.phaseProgress = { ...job.phaseProgress, [phase]: value };
  }
  if (update.sample) {
    const samples = job.samples.length >= MAX_SAMPLES ? job.samples.slice(1) : job.samples.slice();
    samples.push(update.sample);
    next.samples = samples;
  }
  if (update.fileStarted || update.chunk || update.fileDone || update.filesSnapshot) applyFiles(next, job, update);
  // once the job has completed nothing is being written: a file never marked done (a model's raw output) is
  if (next.status === 'completed' && job.status !== 'completed' && Object.values(next.files).some((file) => !file.done)) {
    next.files = Object.fromEntries(Object.entries(next.files).map(([path, file]) => [path, file.done ? file : { ...file, done: true }]));
  }
}

/** What says a job exists and is doing something: any status, stage, progress or count. */
function isNews(update: JobUpdate): boolean {
  return update.status !== undefined || update.stage !== undefined || update.progress !== undefined || update.step !== undefined;
}

/** The job has been seen doing something beyond waiting to start. */
function hasNews(job: Job): boolean {
  return job.status !== 'pending' || job.phases.length > 0 || job.progress > 0 || job.step !== undefined;
}

function applyFiles(next: Job, job: Job, update: JobUpdate): void {
  const files: Record<string, LiveFile> = { ...job.files };
  let order = job.fileOrder;
  const ensure = (path: string, language?: string): LiveFile => {
    if (!files[path]) {
      files[path] = { path, language, content: '', done: false };
      order = [...order, path];
    }
    return files[path];
  };
  if (update.filesSnapshot) {
    for (const file of update.filesSnapshot) {
      const current = ensure(file.path, file.language);
      // a snapshot may be older than the chunks already seen: keep whichever holds more
      if (file.done || file.content.length > current.content.length) {
        files[file.path] = { ...current, language: current.language ?? file.language, content: file.content, done: current.done || file.done };
      }
    }
  }
  if (update.fileStarted) {
    ensure(update.fileStarted.path, update.fileStarted.language);
    next.activeFile = update.fileStarted.path;
  }
  if (update.chunk) {
    const current = ensure(update.chunk.path);
    if (!current.done) files[update.chunk.path] = { ...current, content: current.content + update.chunk.text };
  }
  if (update.fileDone) {
    const current = ensure(update.fileDone.path);
    files[update.fileDone.path] = { ...current, content: update.fileDone.content ?? current.content, done: true };
  }
  next.files = files;
  next.fileOrder = order;
}

/** Phases are the first sighting of each stage, kept in time order whatever order events come in. */
function notePhase(phases: readonly Phase[], stage: string, at: number): readonly Phase[] {
  const existing = phases.findIndex((phase) => phase.stage === stage);
  if (existing >= 0 && phases[existing].startedAt <= at) return phases;
  const others = existing >= 0 ? phases.filter((_, index) => index !== existing) : phases.slice();
  let insertAt = others.length;
  while (insertAt > 0 && others[insertAt - 1].startedAt > at) insertAt--;
  others.splice(insertAt, 0, { stage, startedAt: at });
  return others;
}

export interface PhaseSpan {
  stage: string;
  startedAt: number;
  /** undefined while the phase runs */
  endedAt?: number;
  state: 'done' | 'running' | 'failed' | 'final';
}

const FINAL_STAGES = new Set(['completed', 'failed', 'cancelled', 'finished', 'error', 'complete', 'Complete']);

/** Start, end and outcome of each phase, for the stage list and timeline. */
export function phaseSpans(job: Job): PhaseSpan[] {
  const finished = isTerminal(job.status);
  return job.phases.map((phase, index) => {
    const following = job.phases[index + 1];
    if (FINAL_STAGES.has(phase.stage)) return { ...phase, endedAt: phase.startedAt, state: 'final' };
    const endedAt = following?.startedAt ?? (finished ? job.finishedAt : undefined);
    const lastWorkingPhase = !following || FINAL_STAGES.has(following.stage);
    let state: PhaseSpan['state'] = endedAt === undefined ? 'running' : 'done';
    if (lastWorkingPhase && finished && job.status !== 'completed') state = 'failed';
    return { ...phase, endedAt, state };
  });
}
