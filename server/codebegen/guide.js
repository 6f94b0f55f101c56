// Demo CodeBegen API v2 (generation): the endpoints of codebegen-generation-monitoring.md,
// JWT Bearer auth, SSE with ids and Last-Event-ID replay, /status polling, a discovery
// endpoint and a fault switch for tests.
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { createJwtAuthority } from '../lib/auth.js';
import { applyCors, closeServer, handlePreflight, listen, readJsonBody, sendDetail, sendJson, sseFrame, startSse } from '../lib/http.js';
import { DEMO_PROMPTS, planGeneration, planIteration } from './scenario.js';
import { streamFirehose } from '../lib/firehose.js';
import { answerInstead, createFaultBook, faultyWriter, handleFaultAdmin } from '../lib/faults.js';
import { countConnections } from '../lib/demo.js';

const API = '/api/v2/generation';
const TECH_STACKS = ['fastapi_postgres', 'express_mongo', 'django'];
const MODES = ['classic', 'enhanced', 'auto'];

/**
 * @param {object} [options]
 * @param {number} [options.port] 0 picks a free port
 * @param {number} [options.jobDurationMs] how long one generation runs
 * @param {number} [options.autoStartEveryMs] start a generation by itself this often (0: never)
 * @param {number} [options.initialJobs] generations started at boot, staggered so the board moves at once
 * @param {number} [options.heartbeatMs] SSE comment interval on open streams
 * @param {number} [options.failRate] share of generations that fail (0-1)
 * @param {number} [options.maxJobs] oldest finished generations are forgotten beyond this
 * @param {(line: string) => void} [options.log] request log
 * @param {object[]} [options.faults] faults in force from the start (see lib/faults.js)
 */
export async function startGuideCodebegen(options = {}) {
  const config = {
    port: 0,
    jobDurationMs: 40_000,
    autoStartEveryMs: 0,
    initialJobs: 0,
    heartbeatMs: 15_000,
    failRate: 0,
    maxJobs: 500,
    iterationIdleTimeoutMs: 5 * 60_000,
    log: () => {},
    ...options,
  };
  const auth = createJwtAuthority({ secret: config.jwtSecret });
  const demoUser = 'user_demo';
  /** @type {Map<string, any>} */
  const jobs = new Map();
  /** fault switches: key is a generation id or '*' */
  const faults = createFaultBook();
  for (const spec of config.faults ?? []) faults.add(spec);
  const timers = new Set();

  function later(fn, ms) {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
    return timer;
  }

  function startGeneration(userId, request) {
    const now = new Date();
    const id = request.__id ?? `gen_${now.getTime()}_${randomUUID().slice(0, 8)}`;
    const techStack = TECH_STACKS.includes(request.tech_stack) ? request.tech_stack : 'fastapi_postgres';
    const requestedMode = MODES.includes(request.generation_mode) ? request.generation_mode : 'auto';
    const job = {
      id,
      userId,
      prompt: request.prompt,
      projectId: request.project_id || `proj_${randomUUID().slice(0, 6)}`,
      // The guide's example answers an "auto" request with the mode it picked.
      mode: requestedMode === 'auto' ? 'enhanced' : requestedMode,
      techStack,
      constraints: Array.isArray(request.constraints) ? request.constraints : [],
      status: 'processing',
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      completedAt: undefined,
      error: undefined,
      events: [],
      streams: new Set(),
      parentId: request.__parentId,
      sseToken: request.__sseToken,
    };
    const fail = request.__fail ?? Math.random() < config.failRate;
    const steps = request.__steps ?? planGeneration({ techStack, fail });
    const stepMs = Math.max(1, (request.__durationMs ?? config.jobDurationMs) / steps.length);
    jobs.set(id, job);
    forgetOldJobs();
    let index = 0;
    const next = () => {
      const step = steps[index++];
      emit(job, step, ((steps.length - index) * stepMs) / 1000);
      if (index < steps.length) later(next, stepMs);
    };
    later(next, Math.min(stepMs, 50));
    return job;
  }

  function emit(job, step, remainingSeconds) {
    const event = {
      generation_id: job.id,
      status: step.status,
      stage: step.stage,
      progress: step.progress,
      message: step.message,
      generation_mode: job.mode,
      timestamp: Date.now() / 1000,
    };
    if (step.status === 'processing') event.estimated_time_remaining = Math.round(remainingSeconds * 10) / 10;
    if (step.current_file) event.current_file = step.current_file;
    if (step.partial_output) event.partial_output = step.partial_output;
    if (step.phase_info) event.phase_info = step.phase_info;
    if (step.warning_type)
      Object.assign(event, { warning_type: step.warning_type, parent_file_count: step.parent_file_count, new_file_count: step.new_file_count });
    if (step.error) event.error = step.error;
    job.events.push(event);
    job.updatedAt = new Date().toISOString();
    if (step.status === 'completed' || step.status === 'failed') {
      job.status = step.status;
      job.completedAt = job.updatedAt;
      job.error = step.error;
    }
    job.onEvent?.();
    const frame = sseFrame({ id: job.events.length, data: JSON.stringify(event) });
    for (const stream of job.streams) {
      stream.write(frame);
      if (job.completedAt) stream.end();
    }
  }

  function forgetOldJobs() {
    if (jobs.size <= config.maxJobs) return;
    for (const [id, job] of jobs) {
      if (jobs.size <= config.maxJobs) break;
      if (job.completedAt && job.streams.size === 0) jobs.delete(id);
    }
  }

  function statusBody(job) {
    const current = job.events.at(-1);
    const body = {
      generation_id: job.id,
      status: current ? job.status : 'pending',
      created_at: job.createdAt,
      updated_at: job.updatedAt,
      progress: current?.progress ?? 0,
      stage: current?.stage ?? 'initializing',
      message: current?.message ?? 'Waiting to start',
      estimated_time_remaining: current?.estimated_time_remaining,
      has_events: job.events.length > 0,
    };
    if (current) body.current_event = current;
    if (job.completedAt) body.completed_at = job.completedAt;
    if (job.error) body.error = job.error;
    return body;
  }

  let openStreams = 0;
  let peakStreams = 0;

  function openStream(req, res, job) {
    if (Date.now() < downUntil) return sendDetail(res, 503, 'Restarting', { 'Retry-After': '1' });
    const fault = faults.take(job.id);
    if (answerInstead(req, res, fault)) return;
    const lastId = Number.parseInt(String(req.headers['last-event-id'] ?? ''), 10);
    const known = Number.isInteger(lastId) && lastId >= 0 && lastId <= job.events.length;
    // After a restart the events before `replayFrom` are gone: a resume from before it gets
    // only what is left, and the client sees the gap in the ids.
    const cursor = Math.max(known ? lastId : 0, job.replayFrom ?? 0);
    startSse(res);
    const out = faultyWriter(res, fault);
    openStreams++;
    peakStreams = Math.max(peakStreams, openStreams);
    // The guide's first stage: the stream is connected. Its id is the resume cursor, so a
    // client that reconnects with it gets exactly the events after what it had.
    const atCursor = job.events[cursor - 1];
    if (!job.sseToken)
      out.write(
        sseFrame({
          id: known ? lastId : cursor,
          data: JSON.stringify({
            generation_id: job.id,
            status: 'connected',
            stage: 'connected',
            progress: atCursor?.progress ?? 0,
            message: '🔌 Stream connection established',
            timestamp: Date.now() / 1000,
          }),
        }),
      );
    for (let i = cursor; i < job.events.length; i++) {
      out.write(sseFrame({ id: i + 1, data: JSON.stringify(job.events[i]) }));
    }
    const heartbeat = setInterval(() => out.write(': ping\n\n', { isEvent: false }), config.heartbeatMs);
    let idle;
    res.on('close', () => {
      openStreams--;
      clearInterval(heartbeat);
      clearTimeout(idle);
      job.streams.delete(out);
    });
    if (job.completedAt) {
      out.end();
      return;
    }
    out.socket = res.socket;
    job.streams.add(out);
    if (job.sseToken) {
      // The iteration guide: the stream times out after 5 minutes without events.
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          out.write(
            sseFrame({
              data: JSON.stringify({
                generation_id: job.id,
                status: 'timeout',
                stage: 'timeout',
                progress: job.events.at(-1)?.progress ?? 0,
                message: 'Stream timed out: no events for 5 minutes',
                timestamp: Date.now() / 1000,
              }),
            }),
          );
          out.end();
        }, config.iterationIdleTimeoutMs);
      };
      armIdle();
      job.onEvent = armIdle;
    }
  }

  /**
   * A restart: every connection drops, streams are refused while the platform is down, and
   * what happened meanwhile cannot be replayed (the jobs go on; their replay buffers do not).
   */
  let downUntil = 0;
  function restart(downMs) {
    downUntil = Date.now() + downMs;
    for (const job of jobs.values()) for (const stream of job.streams) stream.socket?.destroy();
    later(() => {
      for (const job of jobs.values()) job.replayFrom = job.events.length;
    }, downMs);
  }

  async function route(req, res) {
    const url = new URL(req.url, 'http://localhost');
    config.log(`${req.method} ${url.pathname}`);
    if (handlePreflight(req, res)) return;
    applyCors(req, res);

    if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
    if (url.pathname === '/__faults') return handleFaultAdmin(req, res, faults, { restart });
    if (url.pathname === '/__stats') return sendJson(res, 200, { openStreams, peakStreams });
    if (req.method === 'GET' && url.pathname === '/demo/firehose') return streamFirehose(req, res, url);

    const iterationStream = /^\/generations\/([^/]+)\/stream$/.exec(url.pathname);
    if (req.method === 'GET' && iterationStream) {
      const job = jobs.get(decodeURIComponent(iterationStream[1]));
      if (!job || !job.sseToken) return sendDetail(res, 404, 'Generation not found');
      // The guide shows the token both as ?token= (what EventSource can send) and as a Bearer
      // header; a real client may use either, so both are accepted.
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const token = url.searchParams.get('token') ?? bearer;
      if (token !== job.sseToken || (job.completedAt && Date.now() - Date.parse(job.completedAt) > config.iterationIdleTimeoutMs)) {
        return sendDetail(res, 401, 'Invalid or expired SSE token');
      }
      return openStream(req, res, job);
    }

    const userId = await auth.userFromRequest(req);
    if (!userId) return sendDetail(res, 401, 'Could not validate credentials', { 'WWW-Authenticate': 'Bearer' });

    if (req.method === 'POST' && url.pathname === '/generations/iterate') {
      const body = await readJsonBody(req);
      if (typeof body.parent_generation_id !== 'string' || typeof body.modification_prompt !== 'string' || body.modification_prompt.trim() === '') {
        return sendDetail(res, 422, 'parent_generation_id and modification_prompt are required');
      }
      const parent = jobs.get(body.parent_generation_id);
      if (!parent) return sendDetail(res, 404, 'Parent generation not found');
      if (parent.userId !== userId) return sendDetail(res, 403, "You don't have permission to iterate on this generation");
      if (parent.status !== 'completed') return sendDetail(res, 409, 'Only a completed generation can be iterated on');
      const parentFiles = parent.events.at(-1)?.partial_output?.files_generated?.length ?? 10;
      const sseToken = randomBytes(24).toString('hex');
      const job = startGeneration(userId, {
        prompt: body.modification_prompt,
        project_id: parent.projectId,
        generation_mode: 'classic',
        tech_stack: parent.techStack,
        __durationMs: body.__durationMs,
        __parentId: parent.id,
        __sseToken: sseToken,
        __steps: planIteration({ modificationPrompt: body.modification_prompt, parentFiles, fail: /\[fail\]/i.test(body.modification_prompt) }),
        __id: randomUUID(),
      });
      return sendJson(res, 200, {
        generation_id: job.id,
        sse_token: sseToken,
        status: 'processing',
        parent_generation_id: parent.id,
        message: 'Iteration started',
      });
    }

    if (req.method === 'POST' && url.pathname === `${API}/generate`) {
      const body = await readJsonBody(req);
      if (typeof body.prompt !== 'string' || body.prompt.trim() === '') {
        return sendDetail(res, 422, 'prompt is required');
      }
      const { prompt, project_id, generation_mode, tech_stack, constraints, __fail, __durationMs } = body;
      const job = startGeneration(userId, { prompt, project_id, generation_mode, tech_stack, constraints, __fail, __durationMs });
      return sendJson(res, 200, {
        generation_id: job.id,
        status: job.status,
        message: 'Generation started successfully',
        user_id: userId,
        project_id: job.projectId,
        prompt: job.prompt,
        generation_mode: job.mode,
        created_at: job.createdAt,
        updated_at: job.updatedAt,
      });
    }

    if (req.method === 'GET' && url.pathname === '/demo/generations') {
      const limit = Math.min(1000, Number(url.searchParams.get('limit')) || 200);
      const mine = [...jobs.values()]
        .filter((job) => job.userId === userId)
        .reverse()
        .slice(0, limit);
      return sendJson(res, 200, {
        generations: mine.map((job) => {
          const { current_event: _omit, ...summary } = statusBody(job);
          return { ...summary, prompt: job.prompt, ...(job.parentId ? { variant: 'iteration', parent_generation_id: job.parentId } : {}) };
        }),
      });
    }

    const match = /^\/api\/v2\/generation\/([^/]+)\/(stream|status)$/.exec(url.pathname);
    if (req.method === 'GET' && match) {
      const job = jobs.get(decodeURIComponent(match[1]));
      // iterations are served under /generations/{id}/stream, with their SSE token only
      if (!job || job.sseToken) return sendDetail(res, 404, 'Generation not found');
      if (job.userId !== userId) return sendDetail(res, 403, "You don't have permission to view this generation");
      if (match[2] === 'status') return sendJson(res, 200, statusBody(job));
      return openStream(req, res, job);
    }
    return sendDetail(res, 404, 'Not Found');
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((error) => {
      if (!res.headersSent) sendDetail(res, error.status ?? 500, error.status ? error.message : 'Internal Server Error');
      else res.destroy();
    });
  });
  const connections = countConnections(server);
  const url = await listen(server, config.port, config.host);
  const devToken = await auth.sign(demoUser);
  const otherUserToken = await auth.sign('user_other');

  const autoStart = () => {
    const prompt = DEMO_PROMPTS[Math.floor(Math.random() * DEMO_PROMPTS.length)];
    const techStack = TECH_STACKS[Math.floor(Math.random() * TECH_STACKS.length)];
    startGeneration(demoUser, { prompt, tech_stack: techStack, generation_mode: 'auto', constraints: ['tested'] });
  };
  for (let i = 0; i < config.initialJobs; i++) later(autoStart, i * 400);
  const autoTimer = config.autoStartEveryMs > 0 ? setInterval(autoStart, config.autoStartEveryMs) : undefined;

  return {
    wire: 'guide',
    url,
    devToken,
    otherUserToken,
    /** Start a generation directly (tests), as the given user. */
    startGeneration: (request, userId = demoUser) => startGeneration(userId, request).id,
    signToken: (userId) => auth.sign(userId),
    /** every event a generation emitted, for tests to compare with what a client saw */
    eventsOf: (id) => jobs.get(id)?.events.slice() ?? [],
    /** streams open now, and the most ever open at once */
    stats: () => ({ openStreams, peakStreams, ...connections.connections() }),
    resetPeakConnections: () => connections.resetPeakConnections(),
    async close() {
      clearInterval(autoTimer);
      for (const timer of timers) clearTimeout(timer);
      await closeServer(server);
    },
  };
}
