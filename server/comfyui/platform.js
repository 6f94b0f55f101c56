// Demo ComfyUI, as its own server code speaks (comfyanonymous/ComfyUI server.py, execution.py,
// main.py): POST /prompt queues an API-format workflow, one worker runs the queue in order,
// the queuing client's socket (/ws?clientId=) gets execution_start, execution_cached,
// executing, progress, executed, execution_success or execution_error, binary preview frames,
// and `executing` with node null at the end; every socket gets `status` (the queue length)
// and `progress_state`. GET /history/{id} is {} until the prompt is done; GET /queue, /view,
// POST /interrupt; everything also under /api. A socket that reconnects with the same
// clientId gets the messages again, and is told the node running now. No auth, like ComfyUI.
import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import { WebSocketServer } from 'ws';
import { pick, scheduleDemoJobs, startDemoServer, timerSet } from '../lib/demo.js';
import { readJsonBody, sendJson } from '../lib/http.js';
import { createFaultBook, handleFaultAdmin } from '../lib/faults.js';

const PROMPTS = [
  'A red fox in fresh snow, golden hour',
  'Brutalist library interior, soft light',
  'Koi pond from above, ink wash',
  'A tiny robot watering a bonsai',
];
/** the node classes this ComfyUI has installed (an unknown one is refused, as ComfyUI does) */
const KNOWN_CLASSES = new Set(['CheckpointLoaderSimple', 'EmptyLatentImage', 'CLIPTextEncode', 'KSampler', 'VAEDecode', 'SaveImage', 'PreviewImage']);
const OUTPUT_CLASSES = new Set(['SaveImage', 'PreviewImage']);
/** ComfyUI's BinaryEventTypes.PREVIEW_IMAGE, then its image format: 2 is PNG */
const PREVIEW_IMAGE = 1;
const PNG_FORMAT = 2;

/** A small PNG, a two-colour gradient picked from the text, so each prompt has its own picture. */
export function gradientPng(text, size = 64) {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  const from = [hash & 255, (hash >> 8) & 255, (hash >> 16) & 255];
  const to = from.map((value) => 255 - value);
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x++) {
      const t = (x + y) / (2 * size - 2);
      for (let c = 0; c < 3; c++) row[1 + x * 3 + c] = Math.round(from[c] + (to[c] - from[c]) * t);
    }
    rows.push(row);
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** ComfyUI's order: a node runs after the nodes it takes inputs from. */
function executionOrder(graph) {
  const order = [];
  const visit = (id, trail = new Set()) => {
    if (order.includes(id) || trail.has(id) || !graph[id]) return;
    trail.add(id);
    for (const input of Object.values(graph[id].inputs ?? {})) if (Array.isArray(input) && typeof input[0] === 'string') visit(input[0], trail);
    order.push(id);
  };
  for (const [id, node] of Object.entries(graph)) if (OUTPUT_CLASSES.has(node.class_type)) visit(id);
  return order;
}

function promptText(graph) {
  const node = Object.values(graph).find((item) => item.class_type === 'CLIPTextEncode');
  return typeof node?.inputs?.text === 'string' ? node.inputs.text : '';
}

/** The demo's own small workflow, for the prompts it queues by itself. */
function demoWorkflow(text, steps) {
  return {
    3: {
      class_type: 'KSampler',
      inputs: {
        seed: 1,
        steps,
        cfg: 7,
        sampler_name: 'euler',
        scheduler: 'normal',
        denoise: 1,
        model: ['4', 0],
        positive: ['6', 0],
        negative: ['7', 0],
        latent_image: ['5', 0],
      },
    },
    4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
    5: { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 512, batch_size: 1 } },
    6: { class_type: 'CLIPTextEncode', inputs: { text, clip: ['4', 1] } },
    7: { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
    8: { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    9: { class_type: 'SaveImage', inputs: { filename_prefix: 'demo', images: ['8', 0] } },
  };
}

export async function startComfyuiPlatform(options = {}) {
  const config = { port: 0, stepMs: 120, nodeMs: 60, autoStartEveryMs: 0, initialJobs: 0, failRate: 0, maxHistory: 200, log: () => {}, ...options };
  const timers = timerSet();
  const faults = createFaultBook();
  for (const spec of config.faults ?? []) faults.add(spec);
  /** sockets by client id (ComfyUI keeps the newest per id) */
  const sockets = new Map();
  /** queued prompts, oldest first; `running` is the one the worker has */
  const pending = [];
  let running;
  const history = new Map();
  const images = new Map();
  let number = 0;
  let lastCheckpoint;

  const sendTo = (clientId, type, data) => {
    const ws = clientId ? sockets.get(clientId) : undefined;
    if (ws?.readyState !== 1) return;
    ws.send(JSON.stringify({ type, data }));
    if (ws.fault?.kind === 'ws-close' && ++ws.sent >= (ws.fault.events ?? 0)) ws.close(ws.fault.code ?? 1011, 'injected');
  };
  const broadcast = (type, data) => {
    for (const ws of sockets.values()) if (ws.readyState === 1) ws.send(JSON.stringify({ type, data }));
  };
  const status = () => ({ status: { exec_info: { queue_remaining: pending.length + (running ? 1 : 0) } } });
  const queueEntry = (item) => [item.number, item.id, item.graph, { client_id: item.clientId, create_time: item.createdAt }, item.outputs];

  function finish(item, statusStr, messages, outputs) {
    history.set(item.id, {
      prompt: queueEntry(item),
      outputs,
      status: { status_str: statusStr, completed: statusStr === 'success', messages },
      meta: Object.fromEntries(Object.keys(outputs).map((id) => [id, { node_id: id, display_node: id, parent_node: null, real_node_id: id }])),
    });
    while (history.size > config.maxHistory) history.delete(history.keys().next().value);
    sendTo(item.clientId, 'executing', { node: null, prompt_id: item.id });
    running = undefined;
    broadcast('status', status());
    timers.later(work, 0);
  }

  /** The one worker: the oldest queued prompt, node by node. */
  function work() {
    if (running || pending.length === 0) return;
    const item = pending.shift();
    running = item;
    const messages = [];
    const say = (type, data) => {
      const payload = { ...data, prompt_id: item.id, timestamp: Date.now() };
      if (['execution_start', 'execution_cached', 'execution_success', 'execution_error', 'execution_interrupted'].includes(type))
        messages.push([type, payload]);
      sendTo(item.clientId, type, payload);
    };
    say('execution_start', {});
    const order = executionOrder(item.graph);
    const checkpoint = Object.values(item.graph).find((node) => node.class_type === 'CheckpointLoaderSimple')?.inputs?.ckpt_name;
    // the model loaded for the last prompt is still in memory: its loader is cached
    const cached = order.filter((id) => item.graph[id].class_type === 'CheckpointLoaderSimple' && checkpoint === lastCheckpoint);
    lastCheckpoint = checkpoint;
    say('execution_cached', { nodes: cached });
    const states = {};
    const progressState = () => broadcast('progress_state', { prompt_id: item.id, nodes: { ...states } });
    const outputs = {};
    const fails = item.fail || /\[fail\]/.test(promptText(item.graph));
    let index = 0;
    const nextNode = () => {
      if (item.interrupted) {
        say('execution_interrupted', { node_id: running.node, node_type: item.graph[running.node]?.class_type, executed: order.slice(0, index) });
        return finish(item, 'error', messages, outputs);
      }
      while (index < order.length && cached.includes(order[index])) index++;
      if (index >= order.length) {
        say('execution_success', {});
        return finish(item, 'success', messages, outputs);
      }
      const id = order[index++];
      const node = item.graph[id];
      item.node = id;
      states[id] = { value: 0, max: 1, state: 'running', node_id: id, prompt_id: item.id, display_node_id: id, parent_node_id: null, real_node_id: id };
      sendTo(item.clientId, 'executing', { node: id, display_node: id, prompt_id: item.id });
      progressState();
      const done = () => {
        states[id] = { ...states[id], value: states[id].max, state: 'finished' };
        progressState();
        if (OUTPUT_CLASSES.has(node.class_type)) {
          const filename = `${node.inputs.filename_prefix ?? 'ComfyUI'}_${String(item.number).padStart(5, '0')}_.png`;
          images.set(filename, gradientPng(promptText(item.graph)));
          outputs[id] = { images: [{ filename, subfolder: '', type: 'output' }] };
          sendTo(item.clientId, 'executed', { node: id, display_node: id, output: outputs[id], prompt_id: item.id });
        }
        timers.later(nextNode, config.nodeMs);
      };
      if (node.class_type !== 'KSampler') return timers.later(done, config.nodeMs);
      const steps = Number(node.inputs.steps) || 20;
      let step = 0;
      const tick = () => {
        if (item.interrupted) return nextNode();
        step++;
        if (fails && step > steps / 2) {
          say('execution_error', {
            node_id: id,
            node_type: 'KSampler',
            executed: order.slice(0, index - 1),
            exception_message: 'Allocation on device would exceed allowed memory. (out of memory)',
            exception_type: 'torch.OutOfMemoryError',
            traceback: ['  File "execution.py", line 496, in execute\n'],
            current_inputs: {},
            current_outputs: {},
          });
          return finish(item, 'error', messages, outputs);
        }
        states[id] = { ...states[id], value: step, max: steps };
        sendTo(item.clientId, 'progress', { value: step, max: steps, prompt_id: item.id, node: id });
        progressState();
        if (step % 5 === 0) {
          const ws = sockets.get(item.clientId);
          const header = Buffer.alloc(8);
          header.writeUInt32BE(PREVIEW_IMAGE, 0);
          header.writeUInt32BE(PNG_FORMAT, 4);
          if (ws?.readyState === 1) ws.send(Buffer.concat([header, gradientPng(`${step}`, 8)]));
        }
        if (step >= steps) done();
        else timers.later(tick, config.stepMs);
      };
      timers.later(tick, config.stepMs);
    };
    timers.later(nextNode, config.nodeMs);
  }

  /** POST /prompt, checked as ComfyUI checks it. */
  function queue(body) {
    const graph = body?.prompt;
    if (!graph || typeof graph !== 'object' || Array.isArray(graph)) {
      return [400, { error: { type: 'invalid_prompt', message: 'Invalid prompt', details: 'prompt must be an object', extra_info: {} }, node_errors: [] }];
    }
    for (const [id, node] of Object.entries(graph)) {
      if (!KNOWN_CLASSES.has(node?.class_type)) {
        return [
          400,
          {
            error: {
              type: 'invalid_prompt',
              message: `Cannot execute because node ${node?.class_type} does not exist.`,
              details: `Node ID '#${id}'`,
              extra_info: {},
            },
            node_errors: {},
          },
        ];
      }
    }
    const outputs = Object.keys(graph).filter((id) => OUTPUT_CLASSES.has(graph[id].class_type));
    if (outputs.length === 0) {
      return [400, { error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} }, node_errors: [] }];
    }
    const id = typeof body.prompt_id === 'string' && body.prompt_id ? body.prompt_id : randomUUID();
    const item = { id, number: number++, graph, clientId: body.client_id, outputs, createdAt: Date.now(), fail: body.__fail };
    pending.push(item);
    broadcast('status', status());
    timers.later(work, 0);
    return [200, { prompt_id: id, number: item.number, node_errors: {} }];
  }

  async function route(req, res, url) {
    const path = url.pathname.replace(/^\/api(?=\/)/, '');
    if (path === '/__faults') return handleFaultAdmin(req, res, faults);
    if (req.method === 'POST' && path === '/prompt') {
      const [code, answer] = queue(await readJsonBody(req));
      return sendJson(res, code, answer);
    }
    if (req.method === 'POST' && path === '/interrupt') {
      if (running) running.interrupted = true;
      return sendJson(res, 200, {});
    }
    if (req.method === 'GET' && path === '/queue') {
      return sendJson(res, 200, { queue_running: running ? [queueEntry(running)] : [], queue_pending: pending.map(queueEntry) });
    }
    const one = /^\/history\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && one) {
      const id = decodeURIComponent(one[1]);
      return sendJson(res, 200, history.has(id) ? { [id]: history.get(id) } : {});
    }
    if (req.method === 'GET' && path === '/history') {
      const max = Number(url.searchParams.get('max_items')) || history.size;
      return sendJson(res, 200, Object.fromEntries([...history].slice(-max)));
    }
    if (req.method === 'GET' && path === '/view') {
      const png = images.get(url.searchParams.get('filename') ?? '');
      if (!png) return sendJson(res, 404, { error: 'Not Found' });
      res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': png.length, 'Cache-Control': 'no-cache' });
      return res.end(png);
    }
    if (req.method === 'GET' && path === '/') return sendJson(res, 200, { name: 'genwatch demo ComfyUI' });
    return sendJson(res, 404, { error: 'Not Found' });
  }

  const server = await startDemoServer({ route, log: config.log, port: config.port });
  const wss = new WebSocketServer({ noServer: true });
  server.server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://localhost');
    config.log(`WS ${url.pathname}`);
    if (url.pathname !== '/ws' && url.pathname !== '/api/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const clientId = url.searchParams.get('clientId') || randomUUID().replace(/-/g, '');
    const fault = faults.take(clientId);
    if (fault?.kind === 'reset') return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.fault = fault;
      ws.sent = 0;
      sockets.set(clientId, ws);
      ws.send(JSON.stringify({ type: 'status', data: { ...status(), sid: clientId } }));
      // back on the socket of the prompt that is running: told where it is
      if (running?.clientId === clientId && running.node) ws.send(JSON.stringify({ type: 'executing', data: { node: running.node, prompt_id: running.id } }));
      ws.on('close', () => {
        if (sockets.get(clientId) === ws) sockets.delete(clientId);
      });
    });
  });

  const autoStart = () => {
    const text = pick(PROMPTS);
    queue({ prompt: demoWorkflow(text, Math.random() < 0.5 ? 20 : 30), client_id: 'demo-artist', __fail: Math.random() < config.failRate });
  };
  scheduleDemoJobs(timers, config, autoStart, 300);

  return {
    url: server.url,
    /** prompts queued, running, and kept in the history */
    stats: () => ({ pending: pending.length, running: running?.id, history: history.size, sockets: sockets.size }),
    async close() {
      timers.clear();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await server.close();
    },
  };
}
