import * as v from 'valibot';
import type { JobEvent, JobUpdate } from '../model/events';
import type { JobStatus } from '../model/job';
import type { Dialect, WireContext } from './dialect';
import { describeIssues, type Source } from './source';
import { isoToMs, parseJson, parseWire, protocolError, updateEvent } from './wire';
import { requestJson } from '../transports/http';

// Smart Forge API generation (smartforge-streaming.md): typed SSE events per project.

export const SMARTFORGE_STEPS = ['Planning', 'Generating', 'Validating', 'Complete'] as const;

const common = { projectId: v.string(), timestamp: v.optional(v.string()), message: v.optional(v.string()) };
const index = v.pipe(v.number(), v.integer(), v.minValue(0));

export const SmartforgeEventSchema = v.variant('type', [
  v.object({ type: v.literal('project:created'), ...common, prompt: v.optional(v.string()) }),
  v.object({ type: v.picklist(['step:start', 'step:complete']), ...common, step: v.picklist(['Planning', 'Generating', 'Validating']), files: v.optional(v.array(v.string())) }),
  v.object({ type: v.literal('file:generating'), ...common, path: v.pipe(v.string(), v.minLength(1)), language: v.optional(v.string()), index: v.optional(index), total: v.optional(index) }),
  // the guide streams code in 100-character chunks and caps events at 64 KB
  v.object({ type: v.literal('code:chunk'), ...common, path: v.pipe(v.string(), v.minLength(1)), chunk: v.pipe(v.string(), v.maxLength(65_536)) }),
  v.object({ type: v.literal('file:complete'), ...common, path: v.pipe(v.string(), v.minLength(1)), index: v.optional(index), total: v.optional(index) }),
  v.object({ type: v.literal('validation:start'), ...common }),
  v.object({ type: v.literal('validation:complete'), ...common, passed: v.optional(v.boolean()), issues: v.optional(v.array(v.string())) }),
  v.object({ type: v.literal('complete'), ...common, summary: v.optional(v.string()), fileCount: v.optional(index) }),
  v.object({ type: v.literal('error'), ...common }),
]);

const StateSchema = v.object({
  projectId: v.string(),
  prompt: v.string(),
  status: v.picklist(['queued', 'planning', 'generating', 'validating', 'complete', 'error']),
  step: v.nullable(v.string()),
  files: v.optional(v.array(v.object({ path: v.string(), language: v.optional(v.string()), content: v.string(), status: v.picklist(['generating', 'complete']) }))),
  error: v.nullable(v.string()),
  summary: v.nullable(v.string()),
  createdAt: v.string(),
  updatedAt: v.string(),
});
type State = v.InferOutput<typeof StateSchema>;

const STATE_STATUS: Record<State['status'], JobStatus> = {
  queued: 'pending',
  planning: 'running',
  generating: 'running',
  validating: 'running',
  complete: 'completed',
  error: 'failed',
};

/** The guide gives no percentage: steps and files make one, on the common 0-100 scale. */
const STEP_PROGRESS: Record<string, [number, number]> = { Planning: [2, 10], Generating: [12, 80], Validating: [82, 96] };

function stepCount(step: string): { current: number; total: number; label: string } {
  return { current: SMARTFORGE_STEPS.indexOf(step as (typeof SMARTFORGE_STEPS)[number]) + 1, total: SMARTFORGE_STEPS.length, label: step };
}

function stateUpdate(state: State): JobUpdate {
  const update: JobUpdate = {
    status: STATE_STATUS[state.status],
    title: state.prompt,
    createdAt: isoToMs(state.createdAt, Date.now()),
  };
  if (state.step) {
    update.stage = state.step;
    update.step = stepCount(state.step);
  }
  if (state.status === 'complete') update.progress = 100;
  if (state.summary) update.message = state.summary;
  if (state.error) update.error = state.error;
  if (state.files) update.filesSnapshot = state.files.map((file) => ({ path: file.path, language: file.language, content: file.content, done: file.status === 'complete' }));
  return update;
}

export interface SmartforgeLaunchRequest {
  prompt: string;
}

export const smartforgeDialect: Dialect<SmartforgeLaunchRequest> = {
  kind: 'smartforge',
  label: 'Smart Forge',
  snapshotBeforeStream: true,
  heartbeatMs: 30_000,
  // the guide caps an event at 64 KB
  maxEventChars: 64 * 1024,

  authHeaders(source: Source): Record<string, string> {
    return source.token ? { Authorization: `Bearer ${source.token}` } : {};
  },

  streamRequest(source, job) {
    return { transport: 'sse', method: 'GET', url: `${source.baseUrl}/api/stream/${encodeURIComponent(job.jobId)}`, resumable: true };
  },

  statusUrl(source, job) {
    return `${source.baseUrl}/api/projects/${encodeURIComponent(job.jobId)}`;
  },

  parseStreamMessage(context, message): JobEvent[] {
    const parsed = parseWire(SmartforgeEventSchema, message.data, 'Smart Forge event');
    if (!parsed.ok) return [protocolError('smartforge', context, message.data, parsed.error)];
    const wire = parsed.value;
    if (wire.projectId !== context.jobId) return [protocolError('smartforge', context, message.data, `Event for another project (${wire.projectId.slice(0, 80)})`)];
    if (message.event !== 'message' && message.event !== wire.type) {
      return [protocolError('smartforge', context, message.data, `SSE event "${message.event.slice(0, 40)}" carries a "${wire.type}" payload`)];
    }
    const at = isoToMs(wire.timestamp, context.receivedAt);
    const emit = (update: JobUpdate) => [{ ...updateEvent('smartforge', context, at, update, wire.type, wire.type === 'code:chunk' ? undefined : message.data), wireId: message.id }];
    switch (wire.type) {
      case 'project:created':
        return emit({ status: 'running', title: wire.prompt, message: 'Project created' });
      case 'step:start':
        return emit({ status: 'running', stage: wire.step, step: stepCount(wire.step), progress: STEP_PROGRESS[wire.step][0], message: wire.message });
      case 'step:complete':
        return emit({ progress: STEP_PROGRESS[wire.step][1], message: wire.message });
      case 'file:generating':
        return emit({ fileStarted: { path: wire.path, language: wire.language }, currentFile: wire.path, message: wire.message ?? `Generating ${wire.path}...` });
      case 'code:chunk':
        // chunks go to the code view; the raw log would only repeat them (kept out of `raw`)
        return emit({ chunk: { path: wire.path, text: wire.chunk } });
      case 'file:complete': {
        const [from, to] = STEP_PROGRESS.Generating;
        const update: JobUpdate = { fileDone: { path: wire.path }, message: wire.message ?? `Created ${wire.path}` };
        if (wire.index !== undefined && wire.total) update.progress = from + ((to - from) * (wire.index + 1)) / wire.total;
        return emit(update);
      }
      case 'validation:start':
        return emit({ message: wire.message ?? 'Validating generated code...' });
      case 'validation:complete': {
        const update: JobUpdate = { message: wire.message ?? 'Validation complete' };
        if (wire.passed === false) update.warning = `Validation found problems: ${(wire.issues ?? []).join('; ') || 'no details'}`;
        return emit(update);
      }
      case 'complete':
        return emit({ status: 'completed', stage: 'Complete', step: stepCount('Complete'), progress: 100, message: wire.summary ?? wire.message });
      case 'error':
        return emit({ status: 'failed', stage: 'error', error: wire.message ?? 'Generation failed', message: wire.message });
    }
  },

  parseStatus(context, body) {
    const parsed = parseWire(StateSchema, body, 'Smart Forge project state');
    if (!parsed.ok) return [protocolError('smartforge', context, body, parsed.error)];
    return [updateEvent('smartforge', context, isoToMs(parsed.value.updatedAt, context.receivedAt), stateUpdate(parsed.value), 'state', body)];
  },

  validateLaunch(request) {
    const prompt = request.prompt?.trim() ?? '';
    if (prompt.length < 3) return { prompt: 'Describe the API in at least 3 characters.' };
    if (prompt.length > 10_000) return { prompt: 'Keep the prompt under 10,000 characters.' };
    return undefined;
  },

  async launch(source, request, fetchImpl) {
    const body = await requestJson(`${source.baseUrl}/api/projects`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...this.authHeaders(source) },
      body: JSON.stringify({ prompt: request.prompt.trim() }),
      fetch: fetchImpl,
    });
    const result = v.safeParse(v.object({ projectId: v.pipe(v.string(), v.minLength(1)) }), body);
    if (!result.success) throw new Error(`Unexpected answer to project creation: ${describeIssues(result.issues)}`);
    const now = Date.now();
    const context: WireContext = { source, jobId: result.output.projectId, receivedAt: now };
    return {
      ref: { jobId: result.output.projectId },
      events: [updateEvent('smartforge', context, now, { status: 'pending', title: request.prompt.trim(), createdAt: now, message: 'Project created' }, 'started', JSON.stringify(body))],
    };
  },

  parseDiscovery(source, body, receivedAt) {
    const json = parseJson(body);
    if (!json.ok) return { error: json.error };
    const result = v.safeParse(v.object({ projects: v.array(StateSchema) }), json.value);
    if (!result.success) return { error: `Invalid Smart Forge listing: ${describeIssues(result.issues)}` };
    return result.output.projects.map((state) => ({
      jobId: state.projectId,
      finished: state.status === 'complete' || state.status === 'error',
      events: [updateEvent('smartforge', { source, jobId: state.projectId, receivedAt }, isoToMs(state.updatedAt, receivedAt), stateUpdate(state), 'listing')],
    }));
  },
};
