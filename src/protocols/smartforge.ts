import * as v from 'valibot';
import { promptField } from './launch';
import type { JobEvent, JobUpdate } from '../model/events';
import type { JobStatus } from '../model/job';
import { isTransportError } from '../transports/error';
import { requestJson } from '../transports/http';
import type { Dialect, JobSighting, Launched, WireContext } from './dialect';
import { lookupFirst } from './lookup';
import { routeBook } from './routes';
import type { Source } from './source';
import {
  checkWire,
  describeIssues,
  eventBase,
  invalid,
  parseJson,
  platformTime,
  protocolError,
  toPercent,
  typeName,
  unrecognized,
  updateEvent,
  wireTime,
} from './wire';

// Smart Forge API generation. The guide (smartforge-streaming.md) describes typed events per
// project with `projectId`, Planning/Generating/Validating steps and code in `chunk`s. The
// platform's code (upstream-wire.md §3) sends something else, and both are read:
// - POST /api/generate starts a job and is its stream: `thinking`, `status`, `chunk` (with
//   `content`), `file:complete` (`filename`, `content`), `deps:progress`, `preview:ready`,
//   `complete`, `error` and more, timestamps in epoch ms, frames possibly after `complete`.
// - GET /api/stream/{projectId} relays those renamed (`step:start`, `step:progress`,
//   `code:chunk` with `content`, ...), the original type in `step`, with no projectId; comment
//   heartbeats every 15 s; it never ends by itself.
// - Project state comes from tRPC (`projects.getOne`), in a `[{result:{data:{json:…}}}]` envelope.

export const SMARTFORGE_STEPS = ['Planning', 'Generating', 'Validating', 'Complete'] as const;
type Step = (typeof SMARTFORGE_STEPS)[number];

/** where code streamed without a file name (the model's raw output) is shown */
export const LIVE_OUTPUT = '(model output)';

const maybe = <T extends v.GenericSchema>(schema: T) => v.optional(v.nullable(schema));
const index = v.pipe(v.number(), v.integer(), v.minValue(0));
const finite = v.pipe(v.number(), v.finite());

/** Every field any event of either channel may carry; each type reads what it needs. */
export const SmartforgeEventSchema = v.looseObject({
  type: v.string(),
  projectId: maybe(v.string()),
  timestamp: wireTime,
  message: maybe(v.string()),
  prompt: maybe(v.string()),
  step: maybe(v.string()),
  files: maybe(v.array(v.string())),
  path: maybe(v.string()),
  filename: maybe(v.string()),
  filePath: maybe(v.string()),
  language: maybe(v.string()),
  // the guide streams code in 100-character chunks and caps events at 64 KB
  chunk: maybe(v.pipe(v.string(), v.maxLength(65_536))),
  content: maybe(v.string()),
  index: maybe(index),
  total: maybe(index),
  passed: maybe(v.boolean()),
  issues: maybe(v.array(v.string())),
  summary: maybe(v.string()),
  fileCount: maybe(index),
  filesModified: maybe(v.array(v.string())),
  currentPackage: maybe(v.string()),
  installedCount: maybe(index),
  totalCount: maybe(index),
  progress: maybe(finite),
  sandboxUrl: maybe(v.string()),
  error: maybe(v.string()),
});
type SmartforgeEvent = v.InferOutput<typeof SmartforgeEventSchema>;

const GUIDE_STEPS = new Set(['Planning', 'Generating', 'Validating']);
const EXACT_TYPES = new Set([
  // the guide
  'project:created',
  'step:start',
  'step:complete',
  'file:generating',
  'code:chunk',
  'file:complete',
  'validation:start',
  'validation:complete',
  'complete',
  'error',
  // the platform's code
  'step:progress',
  'thinking',
  'status',
  'chunk',
  'folder:created',
]);
const TYPE_FAMILIES = ['scaffold:', 'template:', 'deps:', 'api:', 'generate:', 'preview:', 'version:'];
export const SMARTFORGE_MESSAGE_TYPES = [...EXACT_TYPES, ...TYPE_FAMILIES.map((family) => `${family}*`)];
const known = (type: string) => EXACT_TYPES.has(type) || TYPE_FAMILIES.some((family) => type.startsWith(family));

/**
 * Which step of the guide's tracker a platform event belongs to. The platform has no steps of
 * its own: setting up and thinking plan, the model's output generates, installing and
 * previewing validate.
 */
function stepOf(origin: string): Exclude<Step, 'Complete'> | undefined {
  if (GUIDE_STEPS.has(origin)) return origin as Exclude<Step, 'Complete'>;
  if (origin === 'thinking' || origin === 'project:created' || origin === 'folder:created' || origin.startsWith('scaffold:') || origin.startsWith('template:'))
    return 'Planning';
  if (
    origin === 'chunk' ||
    origin === 'code:chunk' ||
    origin === 'file:generating' ||
    origin === 'file:complete' ||
    origin.startsWith('generate:') ||
    origin.startsWith('api:')
  )
    return 'Generating';
  if (origin.startsWith('deps:') || origin.startsWith('preview:') || origin.startsWith('validation:')) return 'Validating';
  return undefined;
}

/** The guide gives no percentage and the platform none but for dependencies: steps (and files) make one. */
const STEP_PROGRESS: Record<Exclude<Step, 'Complete'>, [number, number]> = { Planning: [2, 10], Generating: [12, 80], Validating: [82, 96] };

function stepCount(step: Step): { current: number; total: number; label: string } {
  return { current: SMARTFORGE_STEPS.indexOf(step) + 1, total: SMARTFORGE_STEPS.length, label: step };
}

function enterStep(update: JobUpdate, step: Exclude<Step, 'Complete'>): JobUpdate {
  return { status: 'running', stage: step, step: stepCount(step), progress: STEP_PROGRESS[step][0], ...update };
}

/** the guide's state endpoint, as the demo serves it */
const StateSchema = v.looseObject({
  projectId: v.string(),
  prompt: v.string(),
  status: v.string(),
  step: maybe(v.string()),
  files: maybe(v.array(v.looseObject({ path: v.string(), language: maybe(v.string()), content: v.string(), status: v.string() }))),
  error: maybe(v.string()),
  summary: maybe(v.string()),
  createdAt: wireTime,
  updatedAt: wireTime,
});
type State = v.InferOutput<typeof StateSchema>;

/** the platform's project row, inside tRPC's batch envelope */
const ProjectRowSchema = v.looseObject({
  id: v.string(),
  name: maybe(v.string()),
  status: v.string(),
  created_at: wireTime,
  updated_at: wireTime,
  sandbox_url: maybe(v.string()),
  deploy_url: maybe(v.string()),
});
const TrpcEnvelopeSchema = v.array(
  v.looseObject({
    result: maybe(v.looseObject({ data: v.looseObject({ json: v.unknown() }) })),
    error: maybe(v.unknown()),
  }),
);

const STATUS: Record<string, JobStatus> = {
  // the guide's state
  queued: 'pending',
  planning: 'running',
  generating: 'running',
  validating: 'running',
  complete: 'completed',
  error: 'failed',
  // the platform's project rows
  pending: 'pending',
  testing: 'running',
  deploying: 'running',
  deployed: 'completed',
  failed: 'failed',
};

function stateUpdate(state: State, receivedAt: number): JobUpdate {
  const update: JobUpdate = { title: state.prompt, createdAt: platformTime(state.createdAt, receivedAt) };
  const status = STATUS[state.status];
  if (status) update.status = status;
  if (state.step && (GUIDE_STEPS.has(state.step) || state.step === 'Complete')) {
    update.stage = state.step;
    update.step = stepCount(state.step as Step);
  }
  if (status === 'completed') update.progress = 100;
  if (state.summary) update.message = state.summary;
  if (state.error) update.error = state.error;
  if (state.files)
    update.filesSnapshot = state.files.map((file) => ({
      path: file.path,
      language: file.language ?? undefined,
      content: file.content,
      done: file.status === 'complete',
    }));
  return update;
}

function rowUpdate(row: v.InferOutput<typeof ProjectRowSchema>, receivedAt: number): JobUpdate {
  const update: JobUpdate = { createdAt: platformTime(row.created_at, receivedAt) };
  if (row.name) update.title = row.name;
  const status = STATUS[row.status];
  if (status) update.status = status;
  if (status === 'completed') update.progress = 100;
  if (status === 'failed') update.error = `The project is ${row.status}`;
  return update;
}

/** One event of either channel as what it says of the job. */
function eventUpdate(wire: SmartforgeEvent, origin: string): JobUpdate | undefined {
  const path = wire.path ?? wire.filename ?? wire.filePath ?? undefined;
  const message = wire.message || undefined;
  const step = stepOf(origin);
  switch (wire.type) {
    case 'project:created':
      return { status: 'running', title: wire.prompt ?? undefined, message: message ?? 'Project created' };
    case 'step:start':
    case 'step:complete': {
      if (!step) return { status: 'running', message: message ?? origin };
      if (wire.type === 'step:complete' && GUIDE_STEPS.has(origin)) return { progress: STEP_PROGRESS[step][1], message };
      return enterStep({ message: message ?? origin }, step);
    }
    case 'file:generating':
      if (!path) return undefined;
      return enterStep(
        { fileStarted: { path, language: wire.language ?? undefined }, currentFile: path, message: message ?? `Generating ${path}...` },
        'Generating',
      );
    case 'code:chunk':
    case 'chunk': {
      const text = wire.chunk ?? wire.content;
      if (text == null) return undefined;
      const file = path ?? LIVE_OUTPUT;
      return enterStep({ chunk: { path: file, text }, currentFile: path }, 'Generating');
    }
    case 'file:complete': {
      if (!path) return undefined;
      const update: JobUpdate = { fileDone: { path, content: wire.content ?? undefined }, message: message ?? `Created ${path}` };
      const [from, to] = STEP_PROGRESS.Generating;
      if (wire.index != null && wire.total) update.progress = from + ((to - from) * (wire.index + 1)) / wire.total;
      return enterStep(update, 'Generating');
    }
    case 'validation:start':
      return enterStep({ message: message ?? 'Validating generated code...' }, 'Validating');
    case 'validation:complete': {
      const update: JobUpdate = { message: message ?? 'Validation complete' };
      if (wire.passed === false) update.warning = `Validation found problems: ${(wire.issues ?? []).join('; ') || 'no details'}`;
      return update;
    }
    case 'complete': {
      const files = wire.fileCount ?? wire.filesModified?.length;
      const said = wire.summary ?? message;
      return {
        status: 'completed',
        stage: 'Complete',
        step: stepCount('Complete'),
        progress: 100,
        message: said ?? (files !== undefined ? `Generated ${files} files` : 'Complete'),
      };
    }
    case 'error':
      return { status: 'failed', stage: 'error', error: wire.error ?? message ?? 'Generation failed', message };
    default:
      break;
  }
  // the platform's progress news (on /api/stream: `step:progress` with the original type in `step`)
  const update: JobUpdate = { status: 'running' };
  if (message) update.message = message;
  if (origin === 'deps:progress') {
    const [from, to] = STEP_PROGRESS.Validating;
    const share =
      toPercent(wire.progress, 'percent') ?? (wire.installedCount != null && wire.totalCount ? (100 * wire.installedCount) / wire.totalCount : undefined);
    if (share !== undefined) update.progress = from + ((to - from) * Math.min(100, Math.max(0, share))) / 100;
    update.message ??= `Installing ${wire.currentPackage ?? 'dependencies'}${wire.installedCount != null && wire.totalCount ? ` (${wire.installedCount}/${wire.totalCount})` : ''}`;
  }
  if (origin === 'preview:ready') update.message ??= 'Preview ready in the sandbox';
  return step ? enterStep(update, step) : update;
}

export const SmartforgeLaunchSchema = v.object({
  prompt: promptField({ describe: 'the API', max: 10_000, lines: 3, placeholder: 'REST API for a bookstore with authors and reviews' }),
});
export type SmartforgeLaunchRequest = v.InferOutput<typeof SmartforgeLaunchSchema>;

export const smartforgeDialect: Dialect<SmartforgeLaunchRequest> = {
  kind: 'smartforge',
  label: 'Smart Forge',
  glyph: 'SF',
  color: '#a78bfa',
  messageTypes: SMARTFORGE_MESSAGE_TYPES,
  snapshotBeforeStream: true,
  // the platform's code: a comment every 15 s; the guide: every 30 s
  heartbeatMs: 30_000,
  // the guide caps an event at 64 KB
  maxEventChars: 64 * 1024,

  authHeaders(source: Source): Record<string, string> {
    return source.token ? { Authorization: `Bearer ${source.token}` } : {};
  },

  streamRequest(source, job) {
    return {
      transport: 'sse',
      method: 'GET',
      urls: [{ variant: 'both', url: `${source.baseUrl}/api/stream/${encodeURIComponent(job.jobId)}` }],
      resumable: true,
      // files are still written after `complete`: a few more frames may follow
      drainMs: 3000,
      // the platform silently stops delivering to connections older than an hour
      renewAfterMs: 50 * 60_000,
    };
  },

  statusRequest(source, job) {
    const input = encodeURIComponent(JSON.stringify({ 0: { json: { id: job.jobId } } }));
    return {
      route: 'project',
      urls: routeBook.order(source.baseUrl, 'project', [
        { variant: 'upstream', url: `${source.baseUrl}/api/trpc/projects.getOne?batch=1&input=${input}` },
        { variant: 'guide', url: `${source.baseUrl}/api/projects/${encodeURIComponent(job.jobId)}` },
      ]),
    };
  },

  parseStreamMessage(context, message): JobEvent[] {
    if (message.event === 'close') {
      return [
        {
          ...eventBase('smartforge', context, context.receivedAt, message.data),
          kind: 'notice',
          level: 'info',
          text: 'The platform closed the stream',
          wireType: 'close',
        },
      ];
    }
    const json = parseJson(message.data);
    if (!json.ok) return [protocolError('smartforge', context, message.data, json.error)];
    const wireType = typeName(json.value, 'type');
    const parsed = checkWire(SmartforgeEventSchema, json.value, 'Smart Forge event');
    if (!parsed.ok) return [invalid('smartforge', context, message.data, parsed, wireType)];
    const wire = parsed.value;
    if (wire.projectId && wire.projectId !== context.jobId) {
      return [protocolError('smartforge', context, message.data, `Event for another project (${wire.projectId.slice(0, 80)})`, { wireType })];
    }
    if (message.event !== 'message' && message.event !== wire.type) {
      return [protocolError('smartforge', context, message.data, `SSE event "${message.event.slice(0, 40)}" carries a "${wire.type}" payload`, { wireType })];
    }
    const at = platformTime(wire.timestamp, context.receivedAt);
    // /api/stream keeps the original type in `step`
    const origin = (wire.type === 'step:start' || wire.type === 'step:progress' || wire.type === 'step:complete') && wire.step ? wire.step : wire.type;
    if (!known(wire.type)) return [unrecognized('smartforge', context, message.data, wire.type, at)];
    if (wire.type.startsWith('version:')) {
      return [{ ...eventBase('smartforge', context, at, message.data), kind: 'notice', level: 'info', text: wire.message || wire.type, wireType: wire.type }];
    }
    const update = eventUpdate(wire, origin);
    if (!update)
      return [
        protocolError('smartforge', context, message.data, `A "${wire.type}" event without the file it is about`, {
          wireType,
          mismatches: [{ path: 'path', expected: 'string', received: 'undefined' }],
        }),
      ];
    const chunked = wire.type === 'code:chunk' || wire.type === 'chunk';
    // chunks go to the code view; the raw log would only repeat them (kept out of `raw`)
    return [
      {
        ...updateEvent('smartforge', context, at, update, origin === wire.type ? wire.type : `${wire.type} · ${origin}`, chunked ? undefined : message.data),
        wireId: message.id,
        wireType: wire.type,
      },
    ];
  },

  parseStatus(context, body) {
    const json = parseJson(body);
    if (!json.ok) return [protocolError('smartforge', context, body, json.error)];
    if (Array.isArray(json.value)) {
      const envelope = checkWire(TrpcEnvelopeSchema, json.value, 'tRPC answer');
      if (!envelope.ok) return [invalid('smartforge', context, body, envelope, 'projects.getOne')];
      const first = envelope.value[0];
      if (!first?.result) return [protocolError('smartforge', context, body, 'tRPC answered without a result', { wireType: 'projects.getOne' })];
      const row = checkWire(ProjectRowSchema, first.result.data.json, 'project row');
      if (!row.ok) return [invalid('smartforge', context, body, row, 'projects.getOne')];
      const at = platformTime(row.value.updated_at, context.receivedAt);
      return [{ ...updateEvent('smartforge', context, at, rowUpdate(row.value, context.receivedAt), 'project', body), wireType: 'projects.getOne' }];
    }
    const parsed = checkWire(StateSchema, json.value, 'Smart Forge project state');
    if (!parsed.ok) return [invalid('smartforge', context, body, parsed, 'state')];
    return [
      {
        ...updateEvent(
          'smartforge',
          context,
          platformTime(parsed.value.updatedAt, context.receivedAt),
          stateUpdate(parsed.value, context.receivedAt),
          'state',
          body,
        ),
        wireType: 'state',
      },
    ];
  },

  launchSchema: SmartforgeLaunchSchema,

  async launch(source, request, fetchImpl): Promise<Launched> {
    const prompt = request.prompt.trim();
    const now = Date.now();
    // The guide names no start endpoint; the demo's is POST /api/projects. The platform's
    // code starts a job with POST /api/generate, whose answer is the job's stream.
    if (!routeBook.isAbsent(source.baseUrl, 'projects')) {
      try {
        const body = await requestJson(`${source.baseUrl}/api/projects`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...this.authHeaders(source) },
          body: JSON.stringify({ prompt }),
          fetch: fetchImpl,
        });
        const result = v.safeParse(v.looseObject({ projectId: v.pipe(v.string(), v.minLength(1)) }), body);
        if (!result.success) throw new Error(`Unexpected answer to project creation: ${describeIssues(result.issues)}`);
        routeBook.confirm(source.baseUrl, 'projects', 'guide');
        const context: WireContext = { source, jobId: result.output.projectId, receivedAt: now };
        return {
          ref: { jobId: result.output.projectId },
          events: [
            updateEvent(
              'smartforge',
              context,
              now,
              { status: 'pending', title: prompt, createdAt: now, message: 'Project created' },
              'started',
              JSON.stringify(body),
            ),
          ],
        };
      } catch (error) {
        if (!isTransportError(error) || !error.routeMissing) throw error;
        routeBook.markAbsent(source.baseUrl, 'projects');
      }
    }
    const projectId = crypto.randomUUID();
    const context: WireContext = { source, jobId: projectId, receivedAt: now };
    return {
      ref: { jobId: projectId },
      events: [updateEvent('smartforge', context, now, { status: 'pending', title: prompt, createdAt: now, message: 'Starting generation' }, 'started')],
      pinnedStream: {
        transport: 'sse',
        method: 'POST',
        urls: [{ variant: 'upstream', url: `${source.baseUrl}/api/generate` }],
        body: JSON.stringify({ projectId, userMessage: prompt }),
        headers: { 'Content-Type': 'application/json' },
        // a second POST would start a second generation: never re-sent
        resumable: false,
        heartbeatMs: null,
        drainMs: 5000,
      },
    };
  },

  // The platform's project list (tRPC projects.getMany, the newest first, 100 at most); older
  // deployments answer that there is no such procedure.
  listings: [
    {
      id: 'projects',
      label: 'tRPC projects.getMany',
      intervalMs: 5000,
      lists: 'all',
      urls: (source) => [
        {
          variant: 'upstream',
          url: `${source.baseUrl}/api/trpc/projects.getMany?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: { limit: 100 } } }))}`,
        },
      ],
      parse(source, body, receivedAt) {
        const json = parseJson(body);
        if (!json.ok) return { error: json.error };
        const envelope = checkWire(TrpcEnvelopeSchema, json.value, 'tRPC answer');
        if (!envelope.ok) return { error: envelope.error, mismatches: envelope.mismatches };
        const rows = checkWire(v.array(ProjectRowSchema), envelope.value[0]?.result?.data.json, 'project rows');
        if (!rows.ok) return { error: rows.error, mismatches: rows.mismatches };
        return rows.value.map((row): JobSighting => {
          const status = STATUS[row.status];
          const context: WireContext = { source, jobId: row.id, receivedAt };
          return {
            jobId: row.id,
            finished: status === 'completed' || status === 'failed',
            events: [updateEvent('smartforge', context, platformTime(row.updated_at, receivedAt), rowUpdate(row, receivedAt), 'listing')],
          };
        });
      },
    },
  ],

  // /api/stream answers any id with heartbeats for ever: the project row says whether it exists
  lookup(source, jobId, fetchImpl) {
    const status = smartforgeDialect.statusRequest!(source, { jobId })!;
    return lookupFirst(source, status.route, status.urls, { headers: smartforgeDialect.authHeaders(source), fetch: fetchImpl }, (body) => {
      const events = smartforgeDialect.parseStatus!({ source, jobId, receivedAt: Date.now() }, JSON.stringify(body));
      if (!events.some((event) => event.kind === 'update')) return { state: 'unknown', detail: 'its answer did not read as the project' };
      return { state: 'found', ref: { jobId }, events: events.map((event) => (event.kind === 'update' ? { ...event, label: 'lookup' } : event)) };
    });
  },

  parseDiscovery(source, body, receivedAt) {
    const json = parseJson(body);
    if (!json.ok) return { error: json.error };
    const result = checkWire(v.looseObject({ projects: v.array(StateSchema) }), json.value, 'Smart Forge listing');
    if (!result.ok) return { error: result.error, mismatches: result.mismatches };
    return result.value.projects.map((state): JobSighting => {
      const status = STATUS[state.status];
      return {
        jobId: state.projectId,
        finished: status === 'completed' || status === 'failed',
        events: [
          updateEvent(
            'smartforge',
            { source, jobId: state.projectId, receivedAt },
            platformTime(state.updatedAt, receivedAt),
            stateUpdate(state, receivedAt),
            'listing',
          ),
        ],
      };
    });
  },
};
