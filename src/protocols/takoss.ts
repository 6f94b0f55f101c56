import * as v from 'valibot';
import type { JobEvent, JobUpdate } from '../model/events';
import type { Dialect, WireContext } from './dialect';
import type { Source } from './source';
import { isoToMs, parseWire, protocolError, updateEvent } from './wire';

// Takoss project generation (takoss-streaming.md): the SSE body of POST /api/generate/stream
// is the job. Events carry no timestamps and no job id; genwatch names the job itself.

export const TAKOSS_PHASES = ['initialization', 'analysis', 'complexity', 'database', 'frontend', 'deployment'] as const;

const percent = v.pipe(v.number(), v.finite());

export const TakossEventSchema = v.variant('type', [
  v.object({
    type: v.picklist(['phase_start', 'phase_progress', 'phase_complete', 'error', 'complete']),
    phase: v.string(),
    message: v.string(),
    progress: v.optional(percent),
    data: v.optional(v.unknown()),
  }),
  v.object({ type: v.literal('result'), data: v.record(v.string(), v.unknown()) }),
]);

const ListingSchema = v.object({
  projects: v.array(v.object({
    id: v.string(),
    projectName: v.string(),
    status: v.picklist(['running', 'completed', 'failed']),
    phase: v.string(),
    progress: percent,
    message: v.string(),
    startedAt: v.string(),
    updatedAt: v.string(),
    error: v.optional(v.string()),
  })),
});

export interface TakossLaunchRequest {
  projectName: string;
  description: string;
  requirements: string;
}

const event = (context: WireContext, update: JobUpdate, label: string, raw?: string) =>
  updateEvent('takoss', context, context.receivedAt, update, label, raw);

export const takossDialect: Dialect<TakossLaunchRequest> = {
  kind: 'takoss',
  label: 'Takoss',

  authHeaders(source: Source): Record<string, string> {
    return source.token ? { Authorization: `Bearer ${source.token}` } : {};
  },

  streamRequest() {
    return {
      transport: 'none',
      reason: 'Takoss streams a generation only to the request that started it, so only the dashboard that launched this job could follow it live. What the source listing reports is shown here.',
    };
  },

  parseStreamMessage(context, message): JobEvent[] {
    const parsed = parseWire(TakossEventSchema, message.data, 'Takoss event');
    if (!parsed.ok) return [protocolError('takoss', context, message.data, parsed.error)];
    const wire = parsed.value;
    if (wire.type === 'result') {
      const success = wire.data.success !== false;
      return [event(context, success
        ? { status: 'completed', output: wire.data, message: 'Result received' }
        : { status: 'failed', output: wire.data, error: String(wire.data.error ?? 'The result reports a failure') }, 'result', message.data)];
    }
    if (wire.type === 'error') {
      return [event(context, { status: 'failed', error: wire.message, message: wire.message, stage: 'error' }, 'error', message.data)];
    }
    const update: JobUpdate = { status: 'running', stage: wire.phase, message: wire.message };
    if (wire.progress !== undefined) {
      update.progress = wire.progress;
      update.phaseProgress = { phase: wire.phase, progress: wire.type === 'phase_complete' ? 100 : wire.progress };
    }
    if (wire.type === 'phase_complete') update.phaseProgress = { phase: wire.phase, progress: 100 };
    // `complete` is not the end yet: the `result` event follows it on the same stream.
    if (wire.type === 'complete') update.output = wire.data;
    // Takoss sends no ids; the same message twice on one stream is a repeat
    return [{ ...event(context, update, wire.type, message.data), wireId: message.data }];
  },

  validateLaunch(request) {
    const problems: Record<string, string> = {};
    if (!request.projectName?.trim()) problems.projectName = 'Give the project a name.';
    else if (request.projectName.length > 200) problems.projectName = 'Keep the name under 200 characters.';
    if (!request.description?.trim()) problems.description = 'Describe the application.';
    if (!request.requirements?.trim()) problems.requirements = 'List what it must do.';
    return Object.keys(problems).length ? problems : undefined;
  },

  async launch(source, request) {
    const now = Date.now();
    const jobId = `tk-${now.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const context: WireContext = { source, jobId, receivedAt: now };
    return {
      ref: { jobId },
      events: [updateEvent('takoss', context, now, { status: 'pending', title: request.projectName, createdAt: now, message: 'Starting generation' }, 'started')],
      pinnedStream: {
        transport: 'sse',
        method: 'POST',
        url: `${source.baseUrl}/api/generate/stream`,
        body: JSON.stringify(request),
        headers: { 'Content-Type': 'application/json' },
        // a second POST would start a second generation: never re-sent
        resumable: false,
      },
    };
  },

  parseDiscovery(source, body, receivedAt) {
    const parsed = parseWire(ListingSchema, body, 'Takoss listing');
    if (!parsed.ok) return { error: parsed.error };
    return parsed.value.projects.map((project) => {
      const context: WireContext = { source, jobId: project.id, receivedAt };
      const status = project.status === 'running' ? 'running' : project.status;
      const update: JobUpdate = {
        status,
        title: project.projectName,
        stage: project.phase,
        progress: project.progress,
        message: project.message,
        createdAt: isoToMs(project.startedAt, receivedAt),
        phaseProgress: { phase: project.phase, progress: project.progress },
      };
      if (project.error) update.error = project.error;
      return {
        jobId: project.id,
        finished: status !== 'running',
        events: [updateEvent('takoss', context, isoToMs(project.updatedAt, receivedAt), update, 'listing')],
      };
    });
  },
};
