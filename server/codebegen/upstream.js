// Demo CodeBegen as the platform's own code serves it (upstream-wire.md §1), not as its guides
// describe it: FastAPI-style answers, the v2 stream at /api/v2/generation/generate/{id}/stream
// with bare `data:` frames (no ids, every optional key null, emoji raw), heartbeat frames with
// progress 0.0, `stream_closing` at the end (1.0, even after a failure), a /status that answers
// 500, iterations without an SSE token in their answer and single-use 60-second stream tokens,
// and an iteration that reports `completed` before its last stages.
import { randomBytes, randomUUID } from 'node:crypto';
import { createJwtAuthority } from '../lib/auth.js';
import { scheduleDemoJobs, startDemoServer, timerSet } from '../lib/demo.js';
import { readJsonBody, sendJson } from '../lib/http.js';
import { streamFirehose } from '../lib/firehose.js';
import { answerInstead, createFaultBook, faultyWriter, handleFaultAdmin } from '../lib/faults.js';
import { DEMO_PROMPTS } from './scenario.js';

const API = '/api/v2/generation';
const MODES = ['enhanced', 'classic'];
/** the platform keeps this many events per generation, in memory */
const EVENTS_KEPT = 50;

/** FastAPI's error body. */
const detail = (res, status, text) => sendJson(res, status, { detail: text });

/** FastAPI's 422 for one field. */
function fieldError(res, where, field, type, msg, input, ctx) {
  sendJson(res, 422, { detail: [{ type, loc: [where, field], msg, input, ...(ctx ? { ctx } : {}) }] });
}

/** A string field's length rule, as Pydantic words it; undefined when the value passes. */
function lengthProblem(value, min, max) {
  if (typeof value !== 'string')
    return { type: value === undefined ? 'missing' : 'string_type', msg: value === undefined ? 'Field required' : 'Input should be a valid string' };
  if (value.length < min) return { type: 'string_too_short', msg: `String should have at least ${min} characters`, ctx: { min_length: min } };
  if (value.length > max) return { type: 'string_too_long', msg: `String should have at most ${max} characters`, ctx: { max_length: max } };
  return undefined;
}

/** Python's datetime.isoformat() of an aware UTC time: microseconds and +00:00. */
const isoNow = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');

/** The stages the platform's code reports, on its 0-100 scale (divided by 100 when sent). */
function planStages(mode, fail) {
  const stages =
    mode === 'classic'
      ? [
          ['initializing', 10, '⚙️ Initializing classic generation...'],
          ['code_generation', 30, '📝 Generating code...'],
          ['quality_assessment', 60, '🔍 Assessing code quality...'],
          ['file_management', 80, '📁 Organizing files...'],
        ]
      : [
          ['initialization', 5, '🚀 Starting enhanced generation...'],
          ['setup', 8, '⚙️ Setting up generation environment'],
          ['context_analysis', 15, '🔎 Analyzing project context...'],
          ['context_analysis_complete', 25, '✅ Context analysis complete'],
          ['prompt_enhancement', 30, '✨ Enhancing prompt...'],
          ['prompt_enhancement_complete', 35, '✅ Prompt enhanced'],
          ['prompt_enhancement_complete', 35, '✅ Prompt enhanced'],
          ['code_generation', 40, '📝 Generating code...'],
          ['code_generation', 40, '📝 Generating code...'],
          ['hybrid_generation', 45, '🧠 Hybrid generation in progress...'],
          ['code_generation_complete', 65, '✅ Code generation complete'],
          ['quality_assessment', 75, '🔍 Assessing code quality...'],
          ['quality_assessment_complete', 80, '✅ Quality assessment complete'],
          ['file_management', 85, '📁 Organizing files...'],
          ['finalizing', 95, '📦 Finalizing...'],
        ];
  const steps = stages.map(([stage, progress, message]) => ({ status: 'processing', stage, progress, message }));
  if (fail) {
    const at = Math.ceil(steps.length / 2);
    return [
      ...steps.slice(0, at),
      { status: 'error', stage: 'code_generation_failed', progress: steps[at - 1].progress, message: '❌ Code generation failed: model returned invalid code' },
      { status: 'failed', stage: 'error', progress: 0, message: 'Generation failed: model returned invalid code', error: 'model returned invalid code' },
    ];
  }
  return [...steps, { status: 'completed', stage: 'complete', progress: 100, message: '✅ Generation completed successfully!' }];
}

/** What an iteration reports: the orchestrator's stages, its early `completed`, then the router's. */
function planIteration(modificationPrompt) {
  const fail = /\[fail\]/i.test(modificationPrompt);
  const orchestrator = [
    ['iteration_start', 5, '🔄 Starting iteration...'],
    ['loading_parent', 15, '📂 Loading parent generation files'],
    ['analyzing_changes', 30, '🔎 Analyzing requested changes'],
    ['generating_changes', 55, '📝 Generating modified files'],
    ['merging_files', 80, '🔀 Merging files with the parent'],
  ].map(([stage, progress, message]) => ({ status: 'processing', stage, progress, message }));
  const steps = fail
    ? [
        ...orchestrator.slice(0, 3),
        {
          status: 'failed',
          stage: 'iteration_error',
          progress: 30,
          message: "❌ Iteration error: 'NoneType' object has no attribute 'files'",
          error: "'NoneType' object has no attribute 'files'",
        },
        ...orchestrator.slice(3),
      ]
    : orchestrator;
  // the orchestrator says it is done before the router has finished
  steps.push({ status: 'completed', stage: 'iteration_complete', progress: 100, message: '✅ Iteration complete', pauseAfter: 2 });
  steps.push({ status: 'processing', stage: 'quality_assessment', progress: 60, message: '🔍 Assessing code quality...' });
  steps.push({ status: 'processing', stage: 'file_management', progress: 80, message: '📁 Saving files...' });
  if (/remove|drop|delete/i.test(modificationPrompt)) {
    steps.push({ status: 'warning', stage: 'validation', progress: 80, message: '⚠️ Warning: Expected ~14 files, got 12. Some parent files may be missing.' });
  }
  steps.push({ status: 'completed', stage: 'complete', progress: 100, message: '✅ Iteration completed successfully' });
  return steps;
}

export async function startUpstreamCodebegen(options = {}) {
  const config = {
    port: 0,
    jobDurationMs: 40_000,
    autoStartEveryMs: 0,
    initialJobs: 0,
    // 60 turns of a 0.5 s loop
    heartbeatMs: 30_000,
    failRate: 0,
    maxJobs: 500,
    streamTokenTtlMs: 60_000,
    // the /generations stream gives up after this long while a generation has no events yet
    iterationWaitMs: 60_000,
    log: () => {},
    ...options,
  };
  const auth = createJwtAuthority({ secret: config.jwtSecret });
  const demoUser = 'user_demo';
  /** @type {Map<string, any>} */
  const jobs = new Map();
  const streamTokens = new Map();
  const tokenRequests = new Map();
  const faults = createFaultBook();
  for (const spec of config.faults ?? []) faults.add(spec);
  const timers = timerSet();
  const later = timers.later;
  let openStreams = 0;
  let peakStreams = 0;

  /** The response model of a generation: every key, unset ones null. */
  function generationModel(job) {
    return {
      generation_id: job.id,
      status: job.status,
      message: job.message,
      user_id: job.userId,
      project_id: job.projectId,
      prompt: job.prompt,
      context: job.context,
      generation_mode: job.mode,
      ab_group: null,
      enhanced_features: null,
      is_iteration: job.isIteration,
      parent_generation_id: job.parentId,
      output_path: null,
      file_count: null,
      total_size_bytes: null,
      quality_score: null,
      extracted_schema: null,
      error_message: job.error ?? null,
      generation_time_seconds: null,
      tech_stack: job.techStack,
      domain: null,
      version: 1,
      version_name: null,
      is_active: true,
      diff_from_previous: null,
      changes_summary: null,
      created_at: job.createdAt,
      updated_at: job.updatedAt,
      completed_at: job.completedAt ?? null,
    };
  }

  /** What the /generations router answers for a generation (its GenerationResponse model): `id`, not `generation_id`. */
  function generationResponse(job) {
    return {
      id: job.id,
      user_id: job.userId,
      project_id: job.projectId,
      prompt: job.prompt,
      status: job.status,
      context: job.context,
      output_files: null,
      quality_score: null,
      extracted_schema: null,
      review_feedback: null,
      documentation: null,
      error_message: job.error ?? null,
      schema_extraction_time: null,
      code_generation_time: null,
      review_time: null,
      docs_generation_time: null,
      total_time: null,
      is_iteration: job.isIteration,
      parent_generation_id: job.parentId,
      version: 1,
      version_name: null,
      is_active: true,
      storage_path: null,
      file_count: null,
      total_size_bytes: null,
      diff_from_previous: null,
      changes_summary: null,
      download_url: null,
      cloud_storage_enabled: false,
      artifacts: [],
      created_at: job.createdAt,
      updated_at: job.updatedAt,
    };
  }

  /** One stream frame: the StreamingProgressEvent model, every key present. */
  function frame(job, event, overrides = {}) {
    const model = {
      generation_id: job?.id ?? overrides.generation_id,
      status: event.status,
      stage: event.stage,
      progress: event.progress / 100,
      message: event.message,
      ab_group: null,
      enhanced_features: null,
      generation_mode: job?.mode ?? null,
      estimated_time_remaining: event.estimated_time_remaining ?? null,
      current_file: null,
      partial_output: null,
      timestamp: event.timestamp,
      ...overrides,
    };
    return `data: ${JSON.stringify(model)}\n\n`;
  }

  function createJob(userId, { prompt, projectId = null, mode, context = {}, techStack = 'fastapi_postgres', isIteration = false, parentId = null }) {
    const now = isoNow();
    const job = {
      id: randomUUID(),
      userId,
      prompt,
      projectId,
      mode,
      context,
      techStack,
      isIteration,
      parentId,
      status: 'pending',
      message: 'Generation started',
      createdAt: now,
      updatedAt: now,
      completedAt: undefined,
      error: undefined,
      events: [],
      listeners: new Set(),
    };
    jobs.set(job.id, job);
    if (jobs.size > config.maxJobs) {
      for (const [id, old] of jobs) {
        if (jobs.size <= config.maxJobs) break;
        if (old.completedAt && old.listeners.size === 0) jobs.delete(id);
      }
    }
    return job;
  }

  function record(job, step, remainingSeconds) {
    const event = {
      generation_id: job.id,
      status: step.status,
      stage: step.stage,
      progress: step.progress,
      message: step.message,
      timestamp: Date.now() / 1000,
    };
    if (step.status === 'processing' && remainingSeconds !== undefined) event.estimated_time_remaining = Math.round(remainingSeconds * 10) / 10;
    job.events.push(event);
    if (job.events.length > EVENTS_KEPT) job.events.shift();
    job.updatedAt = isoNow();
    job.message = step.message;
    if (job.status === 'pending') job.status = 'processing';
    // the generation's own status changes at its true end only
    const final = step.stage === 'complete' || (!job.isIteration && step.status === 'failed');
    if (final) {
      job.status = step.status;
      job.completedAt = job.updatedAt;
      if (step.error) job.error = step.error;
    }
    for (const listener of job.listeners) listener(event);
  }

  function run(job, steps, durationMs) {
    const stepMs = Math.max(1, durationMs / steps.length);
    let index = 0;
    const next = () => {
      const step = steps[index++];
      record(job, step, (steps.length - index) * (stepMs / 1000));
      if (index < steps.length) later(next, stepMs * (step.pauseAfter ?? 1));
    };
    later(next, Math.min(stepMs, 50));
  }

  function startGeneration(userId, request) {
    const mode = request.generation_mode === 'classic' ? 'classic' : 'enhanced';
    const job = createJob(userId, {
      prompt: request.prompt,
      projectId: request.project_id ?? null,
      mode,
      context: request.context ?? {},
      techStack: request.tech_stack ?? 'fastapi_postgres',
    });
    const fail = request.__fail ?? Math.random() < config.failRate;
    run(job, planStages(mode, fail), request.__durationMs ?? config.jobDurationMs);
    return job;
  }

  /** Which user a request's Bearer token names; answers 401 itself when none. */
  async function authenticate(req, res) {
    const header = req.headers.authorization ?? '';
    if (!/^Bearer\s+\S+$/i.test(header)) {
      detail(res, 401, 'Not authenticated');
      return undefined;
    }
    const userId = await auth.userFromRequest(req);
    if (!userId) {
      detail(res, 401, 'Invalid token: Signature verification failed.');
      return undefined;
    }
    return userId;
  }

  function sseHeaders(res) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.socket?.setNoDelay(true);
  }

  function countStream(res) {
    openStreams++;
    peakStreams = Math.max(peakStreams, openStreams);
    res.on('close', () => openStreams--);
  }

  let downUntil = 0;
  /** A restart: connections drop, streams are refused for a while, and the in-memory events are gone. */
  function restart(downMs) {
    downUntil = Date.now() + downMs;
    for (const job of jobs.values()) {
      for (const listener of job.listeners) listener.socket?.destroy();
      job.events = [];
    }
  }

  /** GET /api/v2/generation/generate/{id}/stream: no check that the generation exists or is the caller's. */
  function v2Stream(req, res, id) {
    if (Date.now() < downUntil) return detail(res, 503, 'Service Unavailable');
    const fault = faults.take(id);
    if (answerInstead(req, res, fault)) return;
    // each router keeps its own events: this one never sees an iteration's (only heartbeats)
    const stored = jobs.get(id);
    const job = stored && !stored.isIteration ? stored : undefined;
    sseHeaders(res);
    countStream(res);
    const out = faultyWriter(res, fault);
    const now = () => Date.now() / 1000;
    out.write(
      frame(
        job,
        { status: 'connected', stage: 'initializing', progress: 0, message: 'Connected to generation stream', timestamp: now() },
        { generation_id: id },
      ),
    );
    const heartbeat = () =>
      out.write(frame(job, { status: 'heartbeat', stage: 'active', progress: 0, message: 'Connection alive', timestamp: now() }, { generation_id: id }));
    heartbeat();
    const beat = setInterval(heartbeat, config.heartbeatMs);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(beat);
      job?.listeners.delete(listener);
      out.end();
    };
    const send = (event) => {
      out.write(frame(job, event));
      if (event.status === 'completed' || event.status === 'failed') {
        // the stream closes once any stored event is final, with this frame, even after a failure
        out.write(frame(job, { status: 'stream_closing', stage: event.stage, progress: 100, message: 'Stream closing', timestamp: now() }));
        close();
      }
    };
    const listener = (event) => send(event);
    listener.socket = res.socket;
    res.on('close', () => {
      closed = true;
      clearInterval(beat);
      job?.listeners.delete(listener);
    });
    if (!job) return;
    for (const event of job.events.slice()) {
      if (closed) return;
      send(event);
    }
    if (!closed) job.listeners.add(listener);
  }

  /** GET /generations/generate/{id}/stream?token=: single-use token, no heartbeat. */
  function iterationStream(req, res, url, id) {
    const token = url.searchParams.get('token');
    if (token === null) return fieldError(res, 'query', 'token', 'missing', 'Field required', null);
    const grant = streamTokens.get(token);
    streamTokens.delete(token);
    if (!grant || grant.expiresAt < Date.now()) return detail(res, 401, 'Invalid or expired SSE token. Please request a new token.');
    const job = jobs.get(id);
    if (!job) return detail(res, 404, 'Generation not found');
    if (grant.generationId !== id) return detail(res, 403, 'Access denied');
    if (Date.now() < downUntil) return detail(res, 503, 'Service Unavailable');
    const fault = faults.take(id);
    if (answerInstead(req, res, fault)) return;
    sseHeaders(res);
    countStream(res);
    const out = faultyWriter(res, fault);
    const now = () => Date.now() / 1000;
    const last = job.events.at(-1);
    out.write(
      frame(job, { status: job.status, stage: 'connected', progress: last?.progress ?? 0, message: 'Connected to generation stream', timestamp: now() }),
    );
    if (['completed', 'failed', 'cancelled'].includes(job.status)) {
      out.write(
        frame(job, {
          status: job.status,
          stage: 'terminal',
          progress: job.status === 'completed' ? 100 : (last?.progress ?? 0),
          message: `Generation ${job.status}`,
          timestamp: now(),
        }),
      );
      out.end();
      return;
    }
    let closed = false;
    let waiting;
    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(waiting);
      job.listeners.delete(listener);
      out.end();
    };
    // after each batch the stream closes when the newest stored event is a final status
    const relay = (events) => {
      for (const event of events) out.write(frame(job, event));
      if (['completed', 'failed', 'cancelled'].includes(job.events.at(-1)?.status)) close();
    };
    const listener = (event) => relay([event]);
    listener.socket = res.socket;
    res.on('close', () => {
      closed = true;
      clearTimeout(waiting);
      job.listeners.delete(listener);
    });
    if (job.events.length === 0) {
      waiting = setTimeout(() => {
        if (closed || job.events.length > 0) return;
        out.write(frame(job, { status: 'failed', stage: 'timeout', progress: 0, message: 'Timed out waiting for generation events', timestamp: now() }));
        close();
      }, config.iterationWaitMs);
    } else {
      relay(job.events.slice());
    }
    if (!closed) job.listeners.add(listener);
  }

  function ownJob(res, id, userId) {
    const job = jobs.get(id);
    if (!job) {
      detail(res, 404, 'Generation not found');
      return undefined;
    }
    if (job.userId !== userId) {
      detail(res, 403, 'Not authorized to access this generation');
      return undefined;
    }
    return job;
  }

  async function route(req, res, url) {
    if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
    if (url.pathname === '/__faults') return handleFaultAdmin(req, res, faults, { restart });
    if (url.pathname === '/__stats') return sendJson(res, 200, { openStreams, peakStreams });
    if (req.method === 'GET' && url.pathname === '/demo/firehose') return streamFirehose(req, res, url);

    const iteration = /^\/generations\/generate\/([^/]+)\/stream$/.exec(url.pathname);
    if (req.method === 'GET' && iteration) return iterationStream(req, res, url, decodeURIComponent(iteration[1]));

    const userId = await authenticate(req, res);
    if (!userId) return;

    const v2 = /^\/api\/v2\/generation\/generate\/([^/]+)\/stream$/.exec(url.pathname);
    if (req.method === 'GET' && v2) return v2Stream(req, res, decodeURIComponent(v2[1]));

    const status = /^\/api\/v2\/generation\/([^/]+)\/status$/.exec(url.pathname);
    if (req.method === 'GET' && status) {
      if (!ownJob(res, decodeURIComponent(status[1]), userId)) return;
      // as written, the handler reads `generation.status.value` off a plain string column
      return detail(res, 500, 'Failed to retrieve generation status');
    }

    if (req.method === 'POST' && (url.pathname === `${API}/generate` || url.pathname === '/generations/iterate')) {
      const body = await readJsonBody(req);
      const iterate = url.pathname === '/generations/iterate';
      const field = iterate ? 'modification_prompt' : 'prompt';
      const problem = lengthProblem(body[field], 10, iterate ? 2000 : 5000);
      if (problem) return fieldError(res, 'body', field, problem.type, problem.msg, body[field] ?? null, problem.ctx);
      if (!iterate) {
        const job = startGeneration(userId, body);
        return sendJson(res, 201, generationModel(job));
      }
      if (typeof body.parent_generation_id !== 'string') return fieldError(res, 'body', 'parent_generation_id', 'missing', 'Field required', null);
      const parent = ownJob(res, body.parent_generation_id, userId);
      if (!parent) return;
      const job = createJob(userId, {
        prompt: body.modification_prompt,
        projectId: parent.projectId,
        mode: 'classic',
        context: body.context ?? {},
        techStack: parent.techStack,
        isIteration: true,
        parentId: parent.id,
      });
      run(job, planIteration(body.modification_prompt), body.__durationMs ?? config.jobDurationMs);
      // the answer has no sse_token: each connection asks for its own
      return sendJson(res, 201, generationModel(job));
    }

    const mint = /^\/generations\/generate\/([^/]+)\/stream-token$/.exec(url.pathname);
    if (req.method === 'POST' && mint) {
      const id = decodeURIComponent(mint[1]);
      const job = ownJob(res, id, userId);
      if (!job) return;
      const key = `${userId}/${id}`;
      const recent = (tokenRequests.get(key) ?? []).filter((at) => at > Date.now() - 60_000);
      recent.push(Date.now());
      tokenRequests.set(key, recent);
      if (recent.length > 10) return sendJson(res, 429, { detail: 'Too many stream token requests. Try again in a minute.' }, { 'Retry-After': '60' });
      if (job.status === 'completed' || job.status === 'failed') return detail(res, 400, `Generation already ${job.status}`);
      const token = randomBytes(32).toString('base64url');
      streamTokens.set(token, { generationId: id, userId, expiresAt: Date.now() + config.streamTokenTtlMs });
      return sendJson(res, 200, {
        sse_token: token,
        expires_in: Math.round(config.streamTokenTtlMs / 1000),
        stream_url: `/generations/generate/${encodeURIComponent(id)}/stream`,
        generation_id: id,
      });
    }

    const one = /^\/generations\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && one && one[1] !== '') {
      const job = ownJob(res, decodeURIComponent(one[1]), userId);
      return job ? sendJson(res, 200, generationResponse(job)) : undefined;
    }
    if (req.method === 'GET' && url.pathname === '/generations') {
      // FastAPI's redirect to the route's trailing slash
      res.writeHead(307, { Location: `/generations/${url.search}` });
      return res.end();
    }
    if (req.method === 'GET' && url.pathname === '/generations/') {
      // skip >= 0, 1 <= limit <= 100 (default 50), filtered by status and is_iteration, newest first
      const limit = Number(url.searchParams.get('limit') ?? 50);
      const skip = Number(url.searchParams.get('skip') ?? 0);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        return fieldError(res, 'query', 'limit', 'less_than_equal', 'Input should be less than or equal to 100', url.searchParams.get('limit'));
      if (!Number.isInteger(skip) || skip < 0)
        return fieldError(res, 'query', 'skip', 'greater_than_equal', 'Input should be greater than or equal to 0', url.searchParams.get('skip'));
      const status = url.searchParams.get('status');
      if (status !== null && !['pending', 'processing', 'completed', 'failed', 'cancelled'].includes(status))
        return fieldError(res, 'query', 'status', 'enum', "Input should be 'pending', 'processing', 'completed', 'failed' or 'cancelled'", status);
      const iteration = url.searchParams.get('is_iteration');
      const mine = [...jobs.values()]
        .filter((job) => job.userId === userId && (status === null || job.status === status) && (iteration === null || String(job.isIteration) === iteration))
        .reverse();
      return sendJson(res, 200, mine.slice(skip, skip + limit).map(generationResponse));
    }

    // genwatch's own discovery listing: not the platform's, the same in both wire variants
    if (req.method === 'GET' && url.pathname === '/demo/generations') {
      const limit = Math.min(1000, Number(url.searchParams.get('limit')) || 200);
      const mine = [...jobs.values()]
        .filter((job) => job.userId === userId)
        .reverse()
        .slice(0, limit);
      return sendJson(res, 200, {
        generations: mine.map((job) => {
          const last = job.events.at(-1);
          return {
            generation_id: job.id,
            status: job.status,
            created_at: job.createdAt,
            updated_at: job.updatedAt,
            progress: job.status === 'completed' ? 1 : Math.min(1, (last && last.status !== 'failed' ? last.progress : 0) / 100),
            stage: last?.stage ?? 'initializing',
            message: job.message,
            has_events: job.events.length > 0,
            ...(job.completedAt ? { completed_at: job.completedAt } : {}),
            ...(job.error ? { error: job.error } : {}),
            prompt: job.prompt,
            ...(job.isIteration ? { variant: 'iteration', parent_generation_id: job.parentId } : {}),
          };
        }),
      });
    }
    return detail(res, 404, 'Not Found');
  }

  const server = await startDemoServer({
    route,
    log: config.log,
    port: config.port,
    onError: (error, res) => detail(res, error.status ?? 500, error.status ? error.message : 'Internal Server Error'),
  });
  const url = server.url;
  const devToken = await auth.sign(demoUser);
  const otherUserToken = await auth.sign('user_other');

  const autoStart = () => {
    const prompt = DEMO_PROMPTS[Math.floor(Math.random() * DEMO_PROMPTS.length)];
    startGeneration(demoUser, { prompt, generation_mode: MODES[Math.floor(Math.random() * MODES.length)] });
  };
  scheduleDemoJobs(timers, config, autoStart, 400);

  return {
    wire: 'upstream',
    url,
    devToken,
    otherUserToken,
    /** Start a generation directly (tests), as the given user. */
    startGeneration: (request, userId = demoUser) => startGeneration(userId, request).id,
    signToken: (userId) => auth.sign(userId),
    /** the events a generation has stored (0-100 scale, the newest 50), for tests */
    eventsOf: (id) => jobs.get(id)?.events.slice() ?? [],
    stats: () => ({ openStreams, peakStreams, ...server.connections() }),
    resetPeakConnections: () => server.resetPeakConnections(),
    async close() {
      timers.clear();
      await server.close();
    },
  };
}
