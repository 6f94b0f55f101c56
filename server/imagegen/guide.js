// Demo image generation platform (imagegen-websocket-progress.md): the client picks a task id,
// opens /ws/image-generation/{taskId}, then POSTs /api/media/generate, which answers when the
// image is done. Progress about once a step, base model then refiner, keep-alive when idle.
import { createHash } from 'node:crypto';
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

function imageSvg(seedText) {
  const hash = createHash('sha256').update(seedText).digest();
  const hue = (hash[0] / 255) * 360;
  const circles = Array.from({ length: 6 }, (_, i) => {
    const x = 20 + (hash[i + 1] / 255) * 216;
    const y = 20 + (hash[i + 7] / 255) * 216;
    const r = 12 + (hash[i + 13] / 255) * 50;
    return `<circle cx="${x.toFixed(0)}" cy="${y.toFixed(0)}" r="${r.toFixed(0)}" fill="hsl(${(hue + i * 40) % 360} 70% 60% / 0.7)"/>`;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue} 60% 25%)"/><stop offset="1" stop-color="hsl(${(hue + 90) % 360} 60% 45%)"/></linearGradient></defs><rect width="256" height="256" fill="url(#g)"/>${circles}</svg>`;
}

export async function startGuideImagegen(options = {}) {
  const config = { port: 0, stepMs: 250, keepAliveMs: 30_000, autoStartEveryMs: 0, initialJobs: 0, failRate: 0, maxJobs: 300, log: () => {}, ...options };
  const auth = createJwtAuthority({ secret: config.jwtSecret, issuer: 'imagegen-demo' });
  const timers = timerSet();
  const tasks = new Map();
  /** sockets by task id; a socket may come before its task exists */
  const sockets = new Map();
  let baseUrl = '';
  const faults = createFaultBook();
  for (const spec of config.faults ?? []) faults.add(spec);
  let openSockets = 0;
  let peakSockets = 0;

  function send(taskId, message) {
    const text = JSON.stringify(message);
    for (const socket of sockets.get(taskId) ?? []) sendTo(socket, text);
  }

  /** One message to one socket, through the socket's fault. */
  function sendTo(socket, text) {
    const fault = socket.fault;
    if (fault?.kind === 'stall' || socket.readyState !== 1) return;
    socket.lastSentAt = Date.now();
    socket.sent = (socket.sent ?? 0) + 1;
    if (fault?.kind === 'bad-numbers') socket.send(badNumbers(text, socket.sent));
    socket.send(text);
    if (fault?.kind === 'duplicate') socket.send(text);
    if (fault?.kind === 'ws-close' && socket.sent >= (fault.events ?? 1)) socket.close(fault.code ?? 1011, 'injected');
    if (fault?.kind === 'close-after' && socket.sent >= (fault.events ?? 3)) socket.close(1001, 'going away');
  }

  function runTask(request) {
    const taskId = request.task_id;
    const baseSteps = request.high_quality ? 40 : 25;
    const refinerSteps = request.use_refinement ? 10 : 0;
    const total = baseSteps + refinerSteps;
    const stepMs = request.__stepMs ?? config.stepMs;
    const failAt = /\[fail\]/i.test(request.prompt) || request.__fail ? Math.floor(baseSteps * 0.6) : undefined;
    const startedAt = Date.now();
    const task = {
      taskId,
      prompt: request.prompt,
      status: 'generating',
      step: 0,
      total,
      stage: 'base_model',
      startedAt: new Date(startedAt).toISOString(),
      updatedAt: new Date(startedAt).toISOString(),
      last: undefined,
      imageUrl: undefined,
      error: undefined,
    };
    tasks.set(taskId, task);
    if (tasks.size > config.maxJobs) tasks.delete(tasks.keys().next().value);
    return new Promise((resolve) => {
      const tick = () => {
        task.step++;
        const elapsed = (Date.now() - startedAt) / 1000;
        task.updatedAt = new Date().toISOString();
        if (failAt !== undefined && task.step >= failAt) {
          task.status = 'failed';
          task.error = 'Out of memory';
          task.last = { type: 'progress', task_id: taskId, status: 'failed', error: task.error, message: `Generation failed: ${task.error}` };
          send(taskId, task.last);
          return resolve({ success: false, task_id: taskId, message: `Generation failed: ${task.error}`, error: task.error });
        }
        const inRefiner = task.step > baseSteps;
        task.stage = inRefiner ? 'refiner_model' : 'base_model';
        const stageStep = inRefiner ? task.step - baseSteps : task.step;
        const stageTotal = inRefiner ? refinerSteps : baseSteps;
        const perStep = elapsed / task.step;
        // an honest estimate would be perStep * left; the demo's drifts a little, as real ones do
        const estimate = perStep * (total - task.step) * (1.15 - 0.3 * (task.step / total));
        task.last = {
          type: 'progress',
          task_id: taskId,
          status: 'generating',
          current_step: stageStep,
          total_steps: stageTotal,
          percentage: Math.round((task.step / total) * 1000) / 10,
          current_stage: task.stage,
          elapsed_time: Math.round(elapsed * 10) / 10,
          estimated_remaining: Math.round(estimate * 10) / 10,
          message: `${inRefiner ? 'Refiner' : 'Base model'} generation: step ${stageStep}/${stageTotal}`,
          timestamp: new Date().toISOString(),
        };
        send(taskId, task.last);
        if (task.step < total) {
          timers.later(tick, stepMs);
          return;
        }
        task.status = 'completed';
        task.imageUrl = `${baseUrl}/media/${encodeURIComponent(taskId)}.svg`;
        // Beyond the guide: the last message carries the image too, so a viewer who did not
        // start the task (a shared link) also learns that it finished and where the image is.
        task.last = {
          ...task.last,
          status: 'completed',
          percentage: 100,
          estimated_remaining: 0,
          message: 'Image generated successfully',
          image_url: task.imageUrl,
        };
        send(taskId, task.last);
        resolve({
          success: true,
          task_id: taskId,
          image_url: task.imageUrl,
          message: 'Image generated successfully',
          elapsed_time: Math.round(elapsed * 10) / 10,
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
    const media = /^\/media\/([^/]+)\.svg$/.exec(url.pathname);
    if (req.method === 'GET' && media) {
      const task = tasks.get(decodeURIComponent(media[1]));
      if (!task || task.status !== 'completed') return sendJson(res, 404, { detail: 'Image not found' });
      res.writeHead(200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=3600', 'Cross-Origin-Resource-Policy': 'cross-origin' });
      return res.end(imageSvg(task.prompt + task.taskId));
    }
    if ((await auth.userFromRequest(req)) === null) return sendJson(res, 401, { detail: 'Not authenticated' });
    if (req.method === 'GET' && url.pathname === '/demo/tasks') {
      return sendJson(res, 200, {
        tasks: [...tasks.values()]
          .reverse()
          .slice(0, 200)
          .map(({ last: _last, ...task }) => task),
      });
    }
    if (req.method === 'POST' && url.pathname === '/api/media/generate') {
      const body = await readJsonBody(req);
      if (typeof body.prompt !== 'string' || body.prompt.trim() === '') return sendJson(res, 422, { detail: 'prompt is required' });
      if (typeof body.task_id !== 'string' || !/^[\w.-]{1,100}$/.test(body.task_id))
        return sendJson(res, 422, { detail: 'task_id must be 1-100 letters, digits, dot, dash or underscore' });
      if (tasks.has(body.task_id)) return sendJson(res, 409, { detail: `task ${body.task_id} already exists` });
      const result = await runTask({ use_generation: true, use_refinement: false, high_quality: false, ...body });
      return sendJson(res, 200, result);
    }
    return sendJson(res, 404, { detail: 'Not found' });
  }

  const server = await startDemoServer({ route, log: config.log, port: config.port });
  baseUrl = server.url;
  const wss = new WebSocketServer({ noServer: true });
  server.server.on('upgrade', (req, socket, head) => {
    const match = /^\/ws\/image-generation\/([\w.-]{1,100})$/.exec(new URL(req.url, 'http://localhost').pathname);
    config.log(`WS ${new URL(req.url, 'http://localhost').pathname}`);
    if (!match) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    const taskId = match[1];
    const fault = faults.take(taskId);
    if (fault?.kind === 'reset') {
      socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      socket.end(`HTTP/1.1 ${fault.status ?? 503} Injected\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.fault = fault;
      openSockets++;
      peakSockets = Math.max(peakSockets, openSockets);
      ws.on('close', () => openSockets--);
      if (fault?.kind === 'malformed') ws.send('{"type": "progress", "task_id": ');
      if (fault?.kind === 'ws-close' && (fault.events ?? 0) === 0) {
        ws.close(fault.code ?? 1011, 'injected');
        return;
      }
      if (!sockets.has(taskId)) sockets.set(taskId, new Set());
      sockets.get(taskId).add(ws);
      ws.lastSentAt = Date.now();
      const task = tasks.get(taskId);
      // a late viewer gets where the task is now, then what follows
      if (task?.last) sendTo(ws, JSON.stringify(task.last));
      if (task && task.status !== 'generating') ws.close(1000, 'task finished');
      ws.on('close', () => {
        sockets.get(taskId)?.delete(ws);
        if (sockets.get(taskId)?.size === 0) sockets.delete(taskId);
      });
    });
  });
  timers.every(
    () => {
      const now = Date.now();
      for (const set of sockets.values()) {
        for (const ws of set) {
          if (now - ws.lastSentAt >= config.keepAliveMs && ws.fault?.kind !== 'stall' && ws.readyState === 1) {
            ws.send(JSON.stringify({ type: 'keep-alive' }));
            ws.lastSentAt = now;
          }
        }
      }
    },
    Math.max(20, Math.min(1000, config.keepAliveMs / 2)),
  );

  let autoCount = 0;
  const autoStart = () => {
    const prompt = pick(PROMPTS);
    void runTask({
      prompt,
      task_id: `task-${Date.now()}-${++autoCount}`,
      use_refinement: Math.random() < 0.6,
      high_quality: Math.random() < 0.5,
      __fail: Math.random() < config.failRate,
    });
  };
  scheduleDemoJobs(timers, config, autoStart, 700);

  return {
    wire: 'guide',
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
