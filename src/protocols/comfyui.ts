import * as v from 'valibot';
import { promptField } from './launch';
import type { JobEvent, JobUpdate } from '../model/events';
import type { JobStatus } from '../model/job';
import type { Dialect, JobSighting, WireContext } from './dialect';
import { requestFirst } from './routes';
import { isTransportError } from '../transports/error';
import type { Source } from './source';
import { checkWire, eventBase, invalid, parseJson, platformTime, protocolError, typeName, unrecognized, updateEvent } from './wire';

// ComfyUI, as its own server code speaks (comfyanonymous/ComfyUI: server.py, execution.py,
// main.py, comfy_execution/progress.py). A client queues a workflow ("prompt", in the API
// format: node id -> {class_type, inputs}) with POST /prompt {prompt, client_id, prompt_id}
// and reads its progress on GET /ws?clientId=: `{type, data}` text messages and binary
// preview frames. The execution messages (execution_start, execution_cached, executing,
// progress, executed, execution_success, execution_error, execution_interrupted) go to the
// queuing client's socket only; status and progress_state go to every socket. `executing`
// with node null closes a prompt. GET /history/{id} is {} until the prompt has finished, then
// holds its outputs and status; GET /queue lists the running and pending prompts. Every route
// is also served under /api. No auth of its own: a token, when set, is sent as a Bearer.

const PLATFORM = 'comfyui';
const nodeId = v.union([v.string(), v.pipe(v.number(), v.transform(String))]);
const promptId = v.pipe(v.string(), v.minLength(1));
const msTime = v.optional(v.pipe(v.number(), v.finite()));

const ImageRef = v.looseObject({ filename: v.string(), subfolder: v.optional(v.string(), ''), type: v.optional(v.string(), 'output') });
type ImageRef = v.InferOutput<typeof ImageRef>;
const NodeOutput = v.looseObject({ images: v.optional(v.array(ImageRef)) });

/** the execution messages this dialect applies, by type: each says which prompt it is about */
const EXECUTION = {
  execution_start: v.looseObject({ prompt_id: promptId, timestamp: msTime }),
  execution_cached: v.looseObject({ prompt_id: promptId, nodes: v.array(nodeId), timestamp: msTime }),
  executing: v.looseObject({ prompt_id: v.optional(promptId), node: v.nullable(nodeId), display_node: v.optional(v.nullable(nodeId)) }),
  progress: v.looseObject({
    prompt_id: v.optional(promptId),
    node: v.optional(v.nullable(nodeId)),
    value: v.pipe(v.number(), v.finite(), v.minValue(0)),
    max: v.pipe(v.number(), v.finite(), v.minValue(0)),
  }),
  executed: v.looseObject({ prompt_id: promptId, node: nodeId, display_node: v.optional(nodeId), output: v.nullable(NodeOutput) }),
  execution_success: v.looseObject({ prompt_id: promptId, timestamp: msTime }),
  execution_error: v.looseObject({
    prompt_id: promptId,
    node_id: v.optional(v.nullable(nodeId)),
    node_type: v.optional(v.nullable(v.string())),
    exception_message: v.optional(v.string(), ''),
    exception_type: v.optional(v.string(), ''),
    timestamp: msTime,
  }),
  execution_interrupted: v.looseObject({
    prompt_id: promptId,
    node_id: v.optional(v.nullable(nodeId)),
    node_type: v.optional(v.nullable(v.string())),
    timestamp: msTime,
  }),
} as const;
type ExecutionType = keyof typeof EXECUTION;

/** read, never applied: queue length for everyone, the merged per-node state, capabilities */
const SIGNS_OF_LIFE = new Set(['status', 'progress_state', 'feature_flags', 'crystools.monitor']);
export const COMFYUI_MESSAGE_TYPES = [...Object.keys(EXECUTION), ...SIGNS_OF_LIFE, 'binary'];

/**
 * The default text-to-image workflow in ComfyUI's API format, as its own "Save (API format)"
 * writes the stock graph; node ids are the stock ones, so their stages read as words.
 */
const STAGES: Record<string, string> = {
  '4': 'load_checkpoint',
  '5': 'empty_latent',
  '6': 'encode_prompt',
  '7': 'encode_negative',
  '3': 'sampling',
  '8': 'decode_image',
  '9': 'save_image',
};
const stageOf = (node: string) => STAGES[node] ?? `node_${node}`;
/** the stock graph's stages in the order ComfyUI runs them: each node's inputs first, in the order it names them */
export const COMFYUI_STOCK_STAGES = ['load_checkpoint', 'encode_prompt', 'encode_negative', 'empty_latent', 'sampling', 'decode_image', 'save_image'];

export const ComfyuiLaunchSchema = v.object({
  prompt: promptField({ describe: 'the image', max: 4000, lines: 2, placeholder: 'A red fox in fresh snow, golden hour, 35mm photo' }),
  negative: v.pipe(v.optional(v.string(), 'blurry, low quality, watermark'), v.trim(), v.title('Negative prompt'), v.metadata({ wide: true })),
  steps: v.pipe(
    v.optional(v.number('Steps must be a number.'), 20),
    v.integer('Steps must be a whole number.'),
    v.minValue(1, 'At least one step.'),
    v.maxValue(150, 'At most 150 steps.'),
    v.title('Steps'),
  ),
  size: v.pipe(v.optional(v.picklist(['512x512', '768x768', '1024x1024', '832x1216', '1216x832']), '512x512'), v.title('Size')),
  checkpoint: v.pipe(
    v.optional(v.string(), 'v1-5-pruned-emaonly.safetensors'),
    v.trim(),
    v.nonEmpty('Name the checkpoint to load.'),
    v.title('Checkpoint'),
    v.metadata({ suggestions: ['v1-5-pruned-emaonly.safetensors', 'sd_xl_base_1.0.safetensors', 'flux1-schnell-fp8.safetensors'] }),
  ),
});
export type ComfyuiLaunchRequest = v.InferOutput<typeof ComfyuiLaunchSchema>;

/** The stock text-to-image graph with the form's values in it. */
export function defaultWorkflow(
  request: ComfyuiLaunchRequest,
  seed: number,
): Record<string, { class_type: string; inputs: Record<string, unknown>; _meta: { title: string } }> {
  const [width, height] = request.size.split('x').map(Number);
  return {
    '3': {
      class_type: 'KSampler',
      inputs: {
        seed,
        steps: request.steps,
        cfg: 7,
        sampler_name: 'euler',
        scheduler: 'normal',
        denoise: 1,
        model: ['4', 0],
        positive: ['6', 0],
        negative: ['7', 0],
        latent_image: ['5', 0],
      },
      _meta: { title: 'KSampler' },
    },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: request.checkpoint }, _meta: { title: 'Load Checkpoint' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width, height, batch_size: 1 }, _meta: { title: 'Empty Latent Image' } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: request.prompt, clip: ['4', 1] }, _meta: { title: 'CLIP Text Encode (Prompt)' } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: request.negative, clip: ['4', 1] }, _meta: { title: 'CLIP Text Encode (Negative)' } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] }, _meta: { title: 'VAE Decode' } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'genwatch', images: ['8', 0] }, _meta: { title: 'Save Image' } },
  };
}

const PromptAnswer = v.looseObject({ prompt_id: promptId, number: v.optional(v.number()), node_errors: v.optional(v.unknown()) });

const QueueItem = v.pipe(
  v.array(v.unknown()),
  v.check((item) => item.length >= 3 && typeof item[1] === 'string', 'a queue entry is [number, prompt_id, prompt, extra_data, outputs]'),
);
const QueueSchema = v.looseObject({ queue_running: v.array(QueueItem), queue_pending: v.array(QueueItem) });

const HistoryEntry = v.looseObject({
  prompt: v.optional(v.array(v.unknown())),
  outputs: v.optional(v.record(v.string(), NodeOutput), {}),
  status: v.optional(
    v.looseObject({
      status_str: v.optional(v.string()),
      completed: v.optional(v.boolean()),
      messages: v.optional(v.array(v.tuple([v.string(), v.unknown()])), []),
    }),
  ),
});
const HistorySchema = v.record(v.string(), HistoryEntry);

function httpBase(source: Source): string {
  return source.baseUrl.replace(/\/+$/, '');
}

function socketUrl(source: Source, path: string): string {
  const url = new URL(path, `${httpBase(source)}/`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

/** Where a saved image is served: the platform's /view, on its own origin. */
export function imageUrl(source: Source, image: ImageRef): string {
  const params = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
  return `${httpBase(source)}/view?${params}`;
}

/** The words of the first positive CLIPTextEncode of a workflow: the closest thing a prompt has to a title. */
function workflowTitle(graph: unknown, fallback: string): string {
  if (!graph || typeof graph !== 'object') return fallback;
  for (const node of Object.values(graph as Record<string, { class_type?: unknown; inputs?: { text?: unknown } }>)) {
    if (node?.class_type === 'CLIPTextEncode' && typeof node.inputs?.text === 'string' && node.inputs.text.trim()) return node.inputs.text.trim().slice(0, 200);
  }
  return fallback;
}

function imagesOf(source: Source, outputs: Record<string, { images?: ImageRef[] }>): string[] {
  return Object.values(outputs).flatMap((output) => (output.images ?? []).filter((image) => image.type === 'output').map((image) => imageUrl(source, image)));
}

/** What one execution message says about its prompt. */
function executionUpdate(context: WireContext, type: ExecutionType, data: Record<string, unknown>): { update: JobUpdate; label: string; at?: number } {
  switch (type) {
    case 'execution_start':
      return { update: { status: 'running', message: 'Executing' }, label: 'started', at: data.timestamp as number | undefined };
    case 'execution_cached': {
      const nodes = data.nodes as string[];
      return {
        update: { message: nodes.length ? `${nodes.length} node${nodes.length === 1 ? '' : 's'} reused from cache` : 'Nothing cached' },
        label: 'cached',
      };
    }
    case 'executing': {
      const node = data.node as string | null;
      if (node === null) return { update: { status: 'completed', progress: 100, message: 'Finished' }, label: 'done' };
      return { update: { status: 'running', stage: stageOf(node), message: `Running node ${node}` }, label: 'node' };
    }
    case 'progress': {
      const value = data.value as number;
      const max = data.max as number;
      const node = (data.node as string | null | undefined) ?? undefined;
      const stage = node ? stageOf(node) : undefined;
      const update: JobUpdate = { status: 'running', step: { current: value, total: max || undefined, label: stage } };
      if (max > 0) {
        // the sampler is nearly all of the time; the nodes after it are quick
        update.progress = Math.min(99, (value / max) * 95);
        if (stage) update.phaseProgress = { phase: stage, progress: (value / max) * 100 };
      }
      if (stage) update.stage = stage;
      return { update, label: 'progress' };
    }
    case 'executed': {
      const output = data.output as { images?: ImageRef[] } | null;
      const images = (output?.images ?? []).filter((image) => image.type === 'output').map((image) => imageUrl(context.source, image));
      const update: JobUpdate = { message: images.length ? `Saved ${images.length} image${images.length === 1 ? '' : 's'}` : `Node ${String(data.node)} done` };
      if (images.length) {
        update.imageUrl = images[0];
        update.output = { images };
      }
      return { update, label: 'output' };
    }
    case 'execution_success':
      return { update: { status: 'completed', progress: 100, message: 'Finished' }, label: 'success', at: data.timestamp as number | undefined };
    case 'execution_error': {
      const where = data.node_type ? `${String(data.node_type)} (node ${String(data.node_id)})` : 'a node';
      const what = [data.exception_type, data.exception_message].filter((part) => typeof part === 'string' && part).join(': ');
      return {
        update: { status: 'failed', stage: 'failed', error: `${where} failed${what ? `: ${what}` : ''}` },
        label: 'error',
        at: data.timestamp as number | undefined,
      };
    }
    case 'execution_interrupted':
      return { update: { status: 'cancelled', message: 'Interrupted' }, label: 'interrupted', at: data.timestamp as number | undefined };
  }
}

const STATUS_OF_HISTORY: Record<string, JobStatus> = { success: 'completed', error: 'failed' };

function isExecutionType(type: string): type is ExecutionType {
  return Object.hasOwn(EXECUTION, type);
}

export const comfyuiDialect: Dialect<ComfyuiLaunchRequest> = {
  kind: PLATFORM,
  label: 'ComfyUI',
  glyph: 'CU',
  color: '#4ade80',
  messageTypes: COMFYUI_MESSAGE_TYPES,

  authHeaders(source): Record<string, string> {
    return source.token ? { Authorization: `Bearer ${source.token}` } : {};
  },

  streamRequest(source, job) {
    if (!job.session) {
      return {
        transport: 'none',
        reason: 'ComfyUI sends a prompt’s progress only to the browser that queued it: following it through its history',
      };
    }
    const clientId = encodeURIComponent(job.session);
    return {
      transport: 'websocket',
      route: 'socket',
      urls: [
        { variant: 'both', url: socketUrl(source, `ws?clientId=${clientId}`) },
        { variant: 'both', url: socketUrl(source, `api/ws?clientId=${clientId}`) },
      ],
      // an idle ComfyUI sends nothing: silence on its socket says nothing about the socket
      heartbeatMs: null,
      handshakeProbeUrl: `${httpBase(source)}/`,
    };
  },

  statusRequest(source, job) {
    const id = encodeURIComponent(job.jobId);
    return {
      route: 'history',
      urls: [
        { variant: 'both', url: `${httpBase(source)}/history/${id}` },
        { variant: 'both', url: `${httpBase(source)}/api/history/${id}` },
      ],
    };
  },

  parseStreamMessage(context, message): JobEvent[] {
    if (message.binary) {
      // a preview image (event type 1, or 4 with metadata) or text from a node: alive, not read
      const view = new DataView(message.binary.buffer, message.binary.byteOffset, message.binary.byteLength);
      const type = message.binary.byteLength >= 4 ? view.getUint32(0) : 0;
      return [{ ...eventBase(PLATFORM, context, context.receivedAt), kind: 'heartbeat', wireType: type === 1 || type === 4 ? 'preview image' : 'binary' }];
    }
    const json = parseJson(message.data);
    if (!json.ok) return [protocolError(PLATFORM, context, message.data, json.error)];
    const type = typeName(json.value, 'type');
    if (!type) {
      return [
        protocolError(PLATFORM, context, message.data, 'A message without a type', {
          mismatches: [{ path: 'type', expected: 'a message type (status, executing, progress…)', received: 'undefined' }],
        }),
      ];
    }
    if (SIGNS_OF_LIFE.has(type)) return [{ ...eventBase(PLATFORM, context, context.receivedAt), kind: 'heartbeat', wireType: type }];
    if (!isExecutionType(type)) return [unrecognized(PLATFORM, context, message.data, type)];
    const parsed = checkWire(EXECUTION[type], (json.value as { data?: unknown }).data, `${type} message`);
    if (!parsed.ok) return [invalid(PLATFORM, context, message.data, parsed, type)];
    const data = parsed.value as Record<string, unknown>;
    // one socket per queued prompt, but a prompt queued by another tab on the same client id is not this job
    if (data.prompt_id !== undefined && data.prompt_id !== context.jobId)
      return [{ ...eventBase(PLATFORM, context, context.receivedAt), kind: 'heartbeat', wireType: type }];
    const { update, label, at } = executionUpdate(context, type, data);
    const wireId = `${type}|${String(data.node ?? data.node_id ?? '')}|${String(data.value ?? '')}|${String(data.timestamp ?? '')}`;
    const events: JobEvent[] = [{ ...updateEvent(PLATFORM, context, at ?? context.receivedAt, update, label, message.data), wireId, wireType: type }];
    // nodes reused from an earlier run will not execute: they are done as of now
    if (type === 'execution_cached') {
      for (const node of data.nodes as string[])
        events.push(updateEvent(PLATFORM, context, at ?? context.receivedAt, { phaseProgress: { phase: stageOf(node), progress: 100 } }, 'cached'));
    }
    return events;
  },

  parseStatus(context, body): JobEvent[] {
    const json = parseJson(body);
    if (!json.ok) return [protocolError(PLATFORM, context, body, json.error, { wireType: 'history' })];
    const parsed = checkWire(HistorySchema, json.value, 'history');
    if (!parsed.ok) return [invalid(PLATFORM, context, body, parsed, 'history')];
    const entry = parsed.value[context.jobId];
    if (!entry) {
      // {}: queued, running, or never queued here; the history answers once it has finished
      return [{ ...eventBase(PLATFORM, context, context.receivedAt, body), kind: 'heartbeat', wireType: 'history (not finished)' }];
    }
    return historyEvents(context, entry, body);
  },

  launchSchema: ComfyuiLaunchSchema,

  async launch(source, request) {
    // The client names the prompt and its own socket, opens the socket, then queues the prompt.
    const now = Date.now();
    const jobId = crypto.randomUUID();
    const session = `genwatch-${crypto.randomUUID()}`;
    const context: WireContext = { source, jobId, receivedAt: now };
    const seed = Math.floor(Math.random() * 2 ** 32);
    return {
      ref: { jobId, session },
      events: [
        updateEvent(PLATFORM, context, now, { status: 'pending', title: request.prompt, createdAt: now, message: 'Opening the progress socket' }, 'started'),
      ],
      start: (fetchImpl) => queuePrompt(source, { prompt: defaultWorkflow(request, seed), client_id: session, prompt_id: jobId }, fetchImpl),
    };
  },

  // what runs and waits (the queue), and what finished (the history, newest 64)
  listings: [
    {
      id: 'queue',
      label: 'GET /queue',
      intervalMs: 2000,
      lists: 'running',
      urls: (source) => [
        { variant: 'both', url: `${httpBase(source)}/queue` },
        { variant: 'both', url: `${httpBase(source)}/api/queue` },
      ],
      parse: (source, body, receivedAt) => comfyuiDialect.parseDiscovery!(source, body, receivedAt),
    },
    {
      id: 'history',
      label: 'GET /history',
      intervalMs: 10_000,
      lists: 'finished',
      urls: (source) => [
        { variant: 'both', url: `${httpBase(source)}/history?max_items=64` },
        { variant: 'both', url: `${httpBase(source)}/api/history?max_items=64` },
      ],
      parse(source, body, receivedAt) {
        const json = parseJson(body);
        if (!json.ok) return { error: json.error };
        const parsed = checkWire(HistorySchema, json.value, 'history');
        if (!parsed.ok) return { error: parsed.error, mismatches: parsed.mismatches };
        return Object.entries(parsed.value).map(([jobId, entry]): JobSighting => {
          const events = historyEvents({ source, jobId, receivedAt }, entry, JSON.stringify({ [jobId]: entry }));
          return { jobId, finished: true, events: events.map((event) => ({ ...event, raw: undefined, label: 'listing' })) };
        });
      },
    },
  ],

  // ComfyUI takes a prompt id from its client: one not in its queue or history may still be queued under it later
  async lookup(source, jobId, fetchImpl) {
    const headers = comfyuiDialect.authHeaders(source);
    const receivedAt = Date.now();
    try {
      const history = await requestFirst(httpBase(source), 'history', comfyuiDialect.statusRequest!(source, { jobId })!.urls, { headers, fetch: fetchImpl });
      const events = comfyuiDialect.parseStatus!({ source, jobId, receivedAt }, JSON.stringify(history.body));
      if (events.some((event) => event.kind === 'update')) return { state: 'found', ref: { jobId }, events };
      const queue = await requestFirst(httpBase(source), 'queue', comfyuiDialect.listings![0].urls(source), { headers, fetch: fetchImpl });
      const sightings = comfyuiDialect.parseDiscovery!(source, JSON.stringify(queue.body), receivedAt);
      const sighting = Array.isArray(sightings) ? sightings.find((item) => item.jobId === jobId) : undefined;
      if (sighting) return { state: 'found', ref: { jobId }, events: sighting.events.map((event) => ({ ...event, label: 'lookup' })) };
      return { state: 'not-found', final: false, answer: 'ComfyUI has no prompt by this id, in its queue or in its history' };
    } catch (error) {
      if (isTransportError(error) && error.routeMissing) return { state: 'unknown', detail: 'this deployment serves neither /history nor /queue' };
      throw error;
    }
  },

  parseDiscovery(source, body, receivedAt) {
    const json = parseJson(body);
    if (!json.ok) return { error: json.error };
    const parsed = checkWire(QueueSchema, json.value, 'queue');
    if (!parsed.ok) return { error: parsed.error, mismatches: parsed.mismatches };
    const sighting = (item: unknown[], status: JobStatus, position: number): JobSighting => {
      const jobId = item[1] as string;
      const extra = item[3] as { create_time?: unknown } | undefined;
      const context: WireContext = { source, jobId, receivedAt };
      const createdAt = typeof extra?.create_time === 'number' ? platformTime(extra.create_time, receivedAt) : undefined;
      const update: JobUpdate = {
        status,
        title: workflowTitle(item[2], `Prompt #${String(item[0])}`),
        message: status === 'running' ? 'Running' : `In the queue, ${position} ahead`,
      };
      if (createdAt !== undefined) update.createdAt = createdAt;
      return { jobId, finished: false, events: [updateEvent(PLATFORM, context, receivedAt, update, 'listing')] };
    };
    const running = parsed.value.queue_running.map((item) => sighting(item, 'running', 0));
    const pending = parsed.value.queue_pending
      .slice()
      .sort((a, b) => Number(a[0]) - Number(b[0]))
      .map((item, index) => sighting(item, 'pending', index + running.length));
    return [...running, ...pending];
  },
};

/** POST /prompt; its answer says where the prompt stands in the queue. */
async function queuePrompt(source: Source, body: { prompt: unknown; client_id: string; prompt_id: string }, fetchImpl?: typeof fetch): Promise<JobEvent[]> {
  const { body: answer } = await requestFirst(
    httpBase(source),
    'prompt',
    [
      { variant: 'both', url: `${httpBase(source)}/prompt` },
      { variant: 'both', url: `${httpBase(source)}/api/prompt` },
    ],
    { method: 'POST', headers: { 'Content-Type': 'application/json', ...comfyuiDialect.authHeaders(source) }, body: JSON.stringify(body), fetch: fetchImpl },
  );
  const context: WireContext = { source, jobId: body.prompt_id, receivedAt: Date.now() };
  const raw = JSON.stringify(answer);
  const parsed = checkWire(PromptAnswer, answer, 'prompt answer');
  if (!parsed.ok) return [invalid(PLATFORM, context, raw, parsed, 'prompt answer')];
  if (parsed.value.prompt_id !== body.prompt_id) {
    // a ComfyUI from before client-chosen prompt ids: its messages would name a prompt this job is not
    throw new Error(
      `this ComfyUI queued it as ${parsed.value.prompt_id.slice(0, 60)}, not under the id genwatch chose: it needs a version that accepts prompt_id`,
    );
  }
  const where = parsed.value.number !== undefined ? `Queued as number ${parsed.value.number}` : 'Queued';
  return [{ ...updateEvent(PLATFORM, context, context.receivedAt, { message: where }, 'queued', raw), wireType: 'prompt answer' }];
}

/** A finished prompt's history entry: its outcome, images and (from its messages) its times. */
function historyEvents(context: WireContext, entry: v.InferOutput<typeof HistoryEntry>, body: string): JobEvent[] {
  const messages = entry.status?.messages ?? [];
  const timeOf = (type: string) => {
    const found = messages.find(([name]) => name === type)?.[1] as { timestamp?: unknown } | undefined;
    return typeof found?.timestamp === 'number' ? found.timestamp : undefined;
  };
  const startedAt = timeOf('execution_start');
  const finishedAt = timeOf('execution_success') ?? timeOf('execution_error') ?? timeOf('execution_interrupted');
  const images = imagesOf(context.source, entry.outputs);
  const update: JobUpdate = { title: workflowTitle(entry.prompt?.[2], `Prompt #${String(entry.prompt?.[0] ?? '')}`) };
  if (startedAt !== undefined) update.createdAt = startedAt;
  const error = messages.find(([name]) => name === 'execution_error')?.[1];
  const interrupted = messages.some(([name]) => name === 'execution_interrupted');
  if (interrupted) Object.assign(update, { status: 'cancelled', message: 'Interrupted' });
  else if (error && typeof error === 'object') Object.assign(update, executionUpdate(context, 'execution_error', error as Record<string, unknown>).update);
  else if (entry.status?.completed || STATUS_OF_HISTORY[entry.status?.status_str ?? ''] === 'completed')
    Object.assign(update, { status: 'completed', progress: 100, message: 'Finished' });
  else if (entry.status?.status_str && STATUS_OF_HISTORY[entry.status.status_str]) update.status = STATUS_OF_HISTORY[entry.status.status_str];
  if (update.status && update.status !== 'running' && finishedAt !== undefined) update.finishedAt = finishedAt;
  if (images.length) {
    update.imageUrl = images[0];
    update.output = { images };
  }
  return [{ ...updateEvent(PLATFORM, context, finishedAt ?? context.receivedAt, update, 'history', body), wireType: 'history' }];
}
