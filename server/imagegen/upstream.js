// Demo image generation as the platform's own code serves it (upstream-wire.md §4, Glad-Labs):
// the socket is /api/ws/image-generation/{taskId}?token= and refuses a bad token with an HTTP
// 403 at the handshake; it answers `get_progress` and `ping`, pushes only the final frame,
// sends a JSON keep-alive after 30 s without any client message, and is never closed by the
// server. POST /api/media/generate-image runs the task and answers when it is done, with the
// image as a path on the server's own disk. Timestamps are the server's local time, no zone.
import { WebSocketServer } from 'ws';
import { createJwtAuthority } from '../lib/auth.js';
import { pick, startDemoServer, timerSet, scheduleDemoJobs } from '../lib/demo.js';
import { readJsonBody, sendJson } from '../lib/http.js';
import { badNumbers, createFaultBook, handleFaultAdmin } from '../lib/faults.js';

const PROMPTS = [
  'A lighthouse at dusk, oil painting',
  'Isometric city block in pastel colours',
  'A fox reading a newspaper, watercolour',
  'Mountain lake at sunrise, photo',
];
/** the refiner adds this many steps (total_steps is steps + 30) */
const REFINER_STEPS = 30;

/** FastAPI's 422 for one body field. */
const fieldError = (res, field, type, msg, input, ctx) => sendJson(res, 422, { detail: [{ type, loc: ['body', field], msg, input, ...(ctx ? { ctx } : {}) }] });

export async function startUpstreamImagegen(options = {}) {
  const config = {
    port: 0,
    stepMs: 250,
    keepAliveMs: 30_000,
    autoStartEveryMs: 0,
    initialJobs: 0,
    failRate: 0,
    maxJobs: 300,
    // the server's clock runs in its own zone and says so nowhere (datetime.now())
    clockOffsetMinutes: 120,
    log: () => {},
    ...options,
  };
  const auth = createJwtAuthority({ secret: config.jwtSecret, issuer: 'imagegen-demo' });
  const timers = timerSet();
  /** the progress service's records, by task id: exactly what goes on the wire */
  const progress = new Map();
  /** what the demo knows of a task beyond that, for its discovery listing */
  const meta = new Map();
  const sockets = new Map();
  const faults = createFaultBook();
  for (const spec of config.faults ?? []) faults.add(spec);
  let openSockets = 0;
  let peakSockets = 0;

  /** Python's datetime.now().isoformat() on a server whose local zone is not UTC. */
  function localNow() {
    const local = new Date(Date.now() + config.clockOffsetMinutes * 60_000).toISOString();
    return local.replace(/\.(\d{3})Z$/, '.$1000');
  }

  function frame(record) {
    return JSON.stringify({ type: 'progress', ...record });
  }

  function send(ws, text) {
    if (ws.readyState !== 1 || ws.fault?.kind === 'stall') return;
    if (ws.fault?.kind === 'bad-numbers') ws.send(badNumbers(text, ws.sent ?? 0));
    ws.send(text);
    if (ws.fault?.kind === 'duplicate') ws.send(text);
    ws.sent = (ws.sent ?? 0) + 1;
    if (ws.fault?.kind === 'ws-close' && ws.sent >= (ws.fault.events ?? 1)) ws.close(ws.fault.code ?? 1011, 'injected');
  }

  /** Only the final frame goes out by itself: everything before it must be asked for. */
  function broadcastFinal(taskId) {
    const record = progress.get(taskId);
    for (const ws of sockets.get(taskId) ?? []) send(ws, frame(record));
  }

  function runTask(request) {
    const taskId = request.task_id;
    const steps = request.num_inference_steps ?? 50;
    const total = steps + (request.use_refinement ? REFINER_STEPS : 0);
    const stepMs = request.__stepMs ?? config.stepMs;
    const failAt = /\[fail\]/i.test(request.prompt) || request.__fail ? Math.floor(steps * 0.6) : undefined;
    const startedAt = Date.now();
    const record = {
      task_id: taskId,
      status: 'pending',
      current_step: 0,
      total_steps: total,
      percentage: 0,
      current_stage: '',
      elapsed_time: 0,
      estimated_remaining: 0,
      error: null,
      message: 'Initializing generation...',
      timestamp: localNow(),
    };
    progress.set(taskId, record);
    meta.set(taskId, { prompt: request.prompt, startedAt: new Date(startedAt).toISOString() });
    if (progress.size > config.maxJobs) {
      const oldest = progress.keys().next().value;
      progress.delete(oldest);
      meta.delete(oldest);
    }
    return new Promise((resolve) => {
      const tick = () => {
        const step = record.current_step + 1;
        const elapsed = (Date.now() - startedAt) / 1000;
        if (failAt !== undefined && step >= failAt) {
          Object.assign(record, { status: 'failed', error: 'CUDA out of memory', message: 'Generation failed: CUDA out of memory', timestamp: localNow() });
          broadcastFinal(taskId);
          return resolve({
            success: false,
            image_url: '',
            image: null,
            message: 'Image generation failed: CUDA out of memory',
            generation_time: Math.round(elapsed * 10) / 10,
            local_path: null,
            preview_mode: false,
          });
        }
        const refining = step > steps;
        Object.assign(record, {
          status: 'generating',
          current_step: step,
          percentage: (step / total) * 100,
          current_stage: refining ? 'refiner_model' : 'base_model',
          elapsed_time: elapsed,
          estimated_remaining: (elapsed / step) * (total - step),
          message: `${refining ? 'Refining' : 'Generating'}: step ${step}/${total}`,
          timestamp: localNow(),
        });
        if (step < total) {
          timers.later(tick, stepMs);
          return;
        }
        const path = `/app/generated_images/sdxl_${taskId}.png`;
        Object.assign(record, {
          status: 'completed',
          current_step: total,
          percentage: 100,
          estimated_remaining: 0,
          message: 'Image generated successfully',
          timestamp: localNow(),
        });
        broadcastFinal(taskId);
        resolve({
          success: true,
          image_url: path,
          image: null,
          message: 'Image generated successfully with SDXL',
          generation_time: Math.round(elapsed * 10) / 10,
          local_path: path,
          preview_mode: false,
        });
      };
      timers.later(tick, stepMs);
    });
  }

  async function route(req, res, url) {
    if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
    if (url.pathname === '/__faults')
      return handleFaultAdmin(req, res, faults, {
        restart: () => {
          for (const set of sockets.values()) for (const ws of set) ws.terminate();
        },
      });
    if (url.pathname === '/__stats') return sendJson(res, 200, { openStreams: openSockets, peakStreams: peakSockets });
    if (req.method === 'POST' && url.pathname === '/api/media/generate-image') {
      if ((await auth.userFromRequest(req)) === null) return sendJson(res, 401, { detail: 'Not authenticated' });
      const body = await readJsonBody(req);
      if (typeof body.prompt !== 'string') return fieldError(res, 'prompt', 'missing', 'Field required', null);
      if (body.prompt.length < 3)
        return fieldError(res, 'prompt', 'string_too_short', 'String should have at least 3 characters', body.prompt, { min_length: 3 });
      if (body.prompt.length > 500)
        return fieldError(res, 'prompt', 'string_too_long', 'String should have at most 500 characters', body.prompt, { max_length: 500 });
      const steps = body.num_inference_steps ?? 50;
      if (!Number.isInteger(steps) || steps < 20 || steps > 100)
        return fieldError(res, 'num_inference_steps', 'less_than_equal', 'Input should be between 20 and 100', steps);
      const taskId = typeof body.task_id === 'string' && body.task_id ? body.task_id : `task_${Date.now()}`;
      if (body.use_pexels !== false) {
        // a stock photo was found: SDXL never runs, and there is no progress at all
        return sendJson(res, 200, {
          success: true,
          image_url: 'https://images.pexels.com/photos/1/pexels-photo-1.jpeg',
          image: {
            url: 'https://images.pexels.com/photos/1/pexels-photo-1.jpeg',
            source: 'pexels',
            photographer: 'Demo Photographer',
            width: 1280,
            height: 853,
          },
          message: 'Found an image on Pexels',
          generation_time: 0.4,
          local_path: null,
          preview_mode: false,
        });
      }
      if (body.use_generation !== true)
        return sendJson(res, 200, {
          success: false,
          image_url: '',
          image: null,
          message: 'No image source enabled',
          generation_time: 0,
          local_path: null,
          preview_mode: false,
        });
      const result = await runTask({ ...body, task_id: taskId, num_inference_steps: steps });
      return sendJson(res, 200, result);
    }
    // genwatch's own discovery listing: not the platform's, the same in both wire variants
    if (req.method === 'GET' && url.pathname === '/demo/tasks') {
      if ((await auth.userFromRequest(req)) === null) return sendJson(res, 401, { detail: 'Not authenticated' });
      return sendJson(res, 200, {
        tasks: [...progress.values()]
          .reverse()
          .slice(0, 200)
          .map((record) => ({
            taskId: record.task_id,
            prompt: meta.get(record.task_id)?.prompt ?? '',
            status: record.status,
            step: record.current_step,
            total: record.total_steps,
            stage: record.current_stage,
            startedAt: meta.get(record.task_id)?.startedAt,
            updatedAt: new Date().toISOString(),
            ...(record.error ? { error: record.error } : {}),
          })),
      });
    }
    return sendJson(res, 404, { detail: 'Not Found' });
  }

  const server = await startDemoServer({ route, log: config.log, port: config.port });
  const wss = new WebSocketServer({ noServer: true });
  server.server.on('upgrade', async (req, socket, head) => {
    const url = new URL(req.url, 'http://localhost');
    config.log(`WS ${url.pathname}`);
    const match = /^\/api\/ws\/image-generation\/([^/]{1,200})$/.exec(url.pathname);
    if (!match) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // the token is checked before the socket is accepted: the client sees a 403 handshake
    const token = url.searchParams.get('token');
    const user = token ? await auth.userFromRequest({ headers: { authorization: `Bearer ${token}` } }) : null;
    if (!user) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const taskId = decodeURIComponent(match[1]);
    const fault = faults.take(taskId);
    if (fault?.kind === 'reset') return socket.destroy();
    if (fault?.kind === 'status') return socket.end(`HTTP/1.1 ${fault.status ?? 503} Injected\r\nContent-Length: 0\r\n\r\n`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.fault = fault;
      openSockets++;
      peakSockets = Math.max(peakSockets, openSockets);
      if (!sockets.has(taskId)) sockets.set(taskId, new Set());
      sockets.get(taskId).add(ws);
      if (fault?.kind === 'ws-close' && (fault.events ?? 0) === 0) {
        ws.close(fault.code ?? 1011, 'injected');
      }
      if (fault?.kind === 'malformed') ws.send('{"type": "progress", "task_id": ');
      const current = () => {
        const record = progress.get(taskId);
        return record ? frame(record) : JSON.stringify({ type: 'status', message: 'Waiting for generation to start...', task_id: taskId });
      };
      send(ws, current());
      ws.lastHeardAt = Date.now();
      ws.on('message', (data) => {
        ws.lastHeardAt = Date.now();
        let message;
        try {
          message = JSON.parse(String(data));
        } catch {
          return;
        }
        if (message?.type === 'ping') send(ws, JSON.stringify({ type: 'pong' }));
        else if (message?.type === 'get_progress') send(ws, current());
      });
      ws.on('close', () => {
        openSockets--;
        sockets.get(taskId)?.delete(ws);
        if (sockets.get(taskId)?.size === 0) sockets.delete(taskId);
      });
    });
  });
  // the keep-alive goes out after a stretch in which the client said nothing
  timers.every(
    () => {
      const now = Date.now();
      for (const set of sockets.values()) {
        for (const ws of set) {
          if (now - ws.lastHeardAt >= config.keepAliveMs && ws.readyState === 1 && ws.fault?.kind !== 'stall') {
            ws.send(JSON.stringify({ type: 'keep-alive' }));
            ws.lastHeardAt = now;
          }
        }
      }
    },
    Math.max(20, Math.min(1000, config.keepAliveMs / 2)),
  );

  let autoCount = 0;
  const autoStart = () => {
    const prompt = pick(PROMPTS);
    const taskId = `task-${Date.now()}-${++autoCount}`;
    void runTask({
      prompt,
      task_id: taskId,
      num_inference_steps: Math.random() < 0.5 ? 30 : 40,
      use_refinement: Math.random() < 0.6,
      __fail: Math.random() < config.failRate,
    });
  };
  scheduleDemoJobs(timers, config, autoStart, 700);

  return {
    wire: 'upstream',
    url: server.url,
    devToken: await auth.sign('user_demo'),
    stats: () => ({ openStreams: openSockets, peakStreams: peakSockets }),
    async close() {
      timers.clear();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await server.close();
    },
  };
}
