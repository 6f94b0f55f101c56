import * as v from 'valibot';
import type { JobEvent, JobUpdate } from '../model/events';
import type { Dialect, JobSighting, WireContext } from './dialect';
import { lookupFirst } from './lookup';
import type { Source } from './source';
import { checkWire, invalid, parseJson, platformTime, protocolError, toPercent, typeName, unrecognized, updateEvent, wireTime } from './wire';

// Takoss project generation (takoss-streaming.md; the platform's code, upstream-wire.md §2):
// the SSE body of POST /api/generate/stream is the job. Events carry no timestamps and no job
// id; genwatch names the job itself. `complete` ends the job and a `result` frame (outside the
// declared event types, with the project's phases and a large HTML visualization) follows it;
// an error may come without `phase` or `progress`. The platform lists finished projects only.

export const TAKOSS_PHASES = ['initialization', 'analysis', 'complexity', 'database', 'frontend', 'deployment'] as const;

const finite = v.pipe(v.number(), v.finite());
const maybe = <T extends v.GenericSchema>(schema: T) => v.optional(v.nullable(schema));

const PhaseEventSchema = v.looseObject({
  type: v.string(),
  phase: maybe(v.string()),
  message: maybe(v.string()),
  progress: maybe(finite),
  data: v.optional(v.unknown()),
});
const ResultSchema = v.looseObject({ type: v.literal('result'), data: v.record(v.string(), v.unknown()) });

export const TAKOSS_MESSAGE_TYPES = ['phase_start', 'phase_progress', 'phase_complete', 'complete', 'error', 'result'];

/** the demo's listing of running and finished generations */
const DemoListingSchema = v.looseObject({
  projects: v.array(
    v.looseObject({
      id: v.string(),
      projectName: v.string(),
      status: v.picklist(['running', 'completed', 'failed']),
      phase: v.string(),
      progress: finite,
      message: v.string(),
      startedAt: wireTime,
      updatedAt: wireTime,
      error: maybe(v.string()),
    }),
  ),
});

/** the platform's GET /api/projects: every project generated successfully, of every user */
const ProjectListingSchema = v.array(
  v.looseObject({
    projectId: v.string(),
    projectName: maybe(v.string()),
    description: maybe(v.string()),
    generatedAt: wireTime,
    files: v.optional(v.array(v.unknown())),
  }),
);

export const TakossLaunchSchema = v.object({
  projectName: v.pipe(
    v.optional(v.string(), ''),
    v.trim(),
    v.nonEmpty('Give the project a name.'),
    v.maxLength(200, 'Keep the name under 200 characters.'),
    v.title('Project name'),
    v.metadata({ placeholder: 'Blog Platform' }),
  ),
  description: v.pipe(
    v.optional(v.string(), ''),
    v.trim(),
    v.nonEmpty('Describe the application.'),
    v.title('Description'),
    v.metadata({ placeholder: 'A modern web application', wide: true }),
  ),
  requirements: v.pipe(
    v.optional(v.string(), ''),
    v.trim(),
    v.nonEmpty('List what it must do.'),
    v.title('Requirements'),
    v.metadata({ multiline: 3, placeholder: 'Build a blog with authentication and comments', wide: true }),
  ),
});
export type TakossLaunchRequest = v.InferOutput<typeof TakossLaunchSchema>;

const event = (context: WireContext, update: JobUpdate, label: string, raw?: string, wireType?: string): JobEvent => ({
  ...updateEvent('takoss', context, context.receivedAt, update, label, raw),
  wireType,
});

/** The result, without its HTML visualization: that can be hundreds of KB and is nothing to show as text. */
function resultOutput(data: Record<string, unknown>): Record<string, unknown> {
  if (typeof data.visualization !== 'string') return data;
  const { visualization, ...rest } = data;
  return { ...rest, visualization: `[HTML, ${Math.ceil(visualization.length / 1024)} KB]` };
}

export const takossDialect: Dialect<TakossLaunchRequest> = {
  kind: 'takoss',
  label: 'Takoss',
  glyph: 'TK',
  color: '#f59e0b',
  messageTypes: TAKOSS_MESSAGE_TYPES,

  authHeaders(source: Source): Record<string, string> {
    return source.token ? { Authorization: `Bearer ${source.token}` } : {};
  },

  streamRequest() {
    return {
      transport: 'none',
      reason:
        'Takoss streams a generation only to the request that started it, so only the dashboard that launched this job could follow it live. What the source listing reports is shown here.',
    };
  },

  parseStreamMessage(context, message): JobEvent[] {
    const json = parseJson(message.data);
    if (!json.ok) return [protocolError('takoss', context, message.data, json.error)];
    const wireType = typeName(json.value, 'type');
    if (wireType === 'result') {
      const parsed = checkWire(ResultSchema, json.value, 'Takoss result');
      if (!parsed.ok) return [invalid('takoss', context, message.data, parsed, wireType)];
      const data = parsed.value.data;
      const output = resultOutput(data);
      return [
        event(
          context,
          data.success !== false
            ? { status: 'completed', progress: 100, output, message: 'Result received' }
            : { status: 'failed', output, error: String(data.error ?? 'The result reports a failure') },
          'result',
          message.data,
          wireType,
        ),
      ];
    }
    const parsed = checkWire(PhaseEventSchema, json.value, 'Takoss event');
    if (!parsed.ok) return [invalid('takoss', context, message.data, parsed, wireType)];
    const wire = parsed.value;
    const progress = toPercent(wire.progress, 'percent');
    switch (wire.type) {
      case 'error':
        // the orchestrator's errors name a phase; any other exception sends only a message
        return [
          event(
            context,
            { status: 'failed', error: wire.message ?? 'Generation failed', message: wire.message ?? undefined, stage: 'error' },
            'error',
            message.data,
            wireType,
          ),
        ];
      case 'complete': {
        // `complete` ends the job; the `result` that follows adds what it produced
        const update: JobUpdate = { status: 'completed', progress: 100, stage: wire.phase ?? 'complete', message: wire.message ?? 'Complete' };
        if (wire.data !== undefined) update.output = wire.data;
        return [{ ...event(context, update, wire.type, message.data, wireType), wireId: message.data }];
      }
      case 'phase_start':
      case 'phase_progress':
      case 'phase_complete': {
        const update: JobUpdate = { status: 'running' };
        if (wire.phase) update.stage = wire.phase;
        if (wire.message != null) update.message = wire.message;
        if (progress !== undefined) update.progress = progress;
        if (wire.phase) {
          if (wire.type === 'phase_complete') update.phaseProgress = { phase: wire.phase, progress: 100 };
          else if (progress !== undefined) update.phaseProgress = { phase: wire.phase, progress };
        }
        // Takoss sends no ids; the same message twice on one stream is a repeat
        return [{ ...event(context, update, wire.type, message.data, wireType), wireId: message.data }];
      }
      default:
        return [unrecognized('takoss', context, message.data, wire.type)];
    }
  },

  launchSchema: TakossLaunchSchema,

  async launch(source, request) {
    const now = Date.now();
    const jobId = `tk-${now.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const context: WireContext = { source, jobId, receivedAt: now };
    return {
      ref: { jobId },
      events: [
        updateEvent('takoss', context, now, { status: 'pending', title: request.projectName, createdAt: now, message: 'Starting generation' }, 'started'),
      ],
      pinnedStream: {
        transport: 'sse',
        method: 'POST',
        urls: [{ variant: 'both', url: `${source.baseUrl}/api/generate/stream` }],
        body: JSON.stringify(request),
        headers: { 'Content-Type': 'application/json' },
        // a second POST would start a second generation: never re-sent
        resumable: false,
        // Takoss sends no heartbeat: a quiet phase is not a dead stream
        heartbeatMs: null,
        // the `result` frame follows `complete`
        drainMs: 10_000,
      },
    };
  },

  // every project generated successfully, of every user: the record of what finished
  listings: [
    {
      id: 'projects',
      label: 'GET /api/projects',
      intervalMs: 15_000,
      lists: 'finished',
      urls: (source) => [{ variant: 'upstream', url: `${source.baseUrl}/api/projects` }],
      parse: (source, body, receivedAt) => takossDialect.parseDiscovery!(source, body, receivedAt),
    },
  ],

  // Takoss keeps a project only once it has been generated, under the proj-… id its `complete`
  // names; until then the generation is the request that started it, and its id one genwatch gave it.
  async lookup(source, jobId, fetchImpl) {
    if (!jobId.startsWith('proj-')) {
      return {
        state: 'not-found',
        final: false,
        answer:
          'Takoss keeps a project only once it has been generated, under the proj-… id its last event names; until then only the request that started it hears of it',
      };
    }
    return lookupFirst(
      source,
      'project',
      [{ variant: 'upstream', url: `${source.baseUrl}/api/projects/${encodeURIComponent(jobId)}` }],
      { headers: takossDialect.authHeaders(source), fetch: fetchImpl },
      (body) => {
        const text = JSON.stringify(body);
        const sightings = takossDialect.parseDiscovery!(source, JSON.stringify([body]), Date.now());
        if ('error' in sightings || !sightings[0] || sightings[0].jobId !== jobId)
          return { state: 'unknown', detail: `its answer did not read as the project: ${text.slice(0, 120)}` };
        return { state: 'found', ref: { jobId }, events: sightings[0].events.map((event) => ({ ...event, label: 'lookup', raw: text })) };
      },
    );
  },

  parseDiscovery(source, body, receivedAt) {
    const json = parseJson(body);
    if (!json.ok) return { error: json.error };
    if (Array.isArray(json.value)) {
      const parsed = checkWire(ProjectListingSchema, json.value, 'Takoss project list');
      if (!parsed.ok) return { error: parsed.error, mismatches: parsed.mismatches };
      return parsed.value.map((project): JobSighting => {
        const context: WireContext = { source, jobId: project.projectId, receivedAt };
        const at = platformTime(project.generatedAt, receivedAt);
        // the platform lists a project once it has been generated, never before
        const update: JobUpdate = {
          status: 'completed',
          progress: 100,
          title: project.projectName ?? project.projectId,
          createdAt: at,
          finishedAt: at,
          message: project.description ?? undefined,
        };
        return { jobId: project.projectId, finished: true, events: [updateEvent('takoss', context, at, update, 'listing')] };
      });
    }
    const parsed = checkWire(DemoListingSchema, json.value, 'Takoss listing');
    if (!parsed.ok) return { error: parsed.error, mismatches: parsed.mismatches };
    return parsed.value.projects.map((project): JobSighting => {
      const context: WireContext = { source, jobId: project.id, receivedAt };
      const status = project.status;
      const update: JobUpdate = {
        status,
        title: project.projectName,
        stage: project.phase,
        progress: project.progress,
        message: project.message,
        createdAt: platformTime(project.startedAt, receivedAt),
        phaseProgress: { phase: project.phase, progress: project.progress },
      };
      if (project.error) update.error = project.error;
      return {
        jobId: project.id,
        finished: status !== 'running',
        events: [updateEvent('takoss', context, platformTime(project.updatedAt, receivedAt), update, 'listing')],
      };
    });
  },
};
