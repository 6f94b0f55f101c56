// Demo Smart Forge as the platform's own code serves it (upstream-wire.md §3, Next.js 15):
// POST /api/generate starts a generation and is its stream (`thinking`, `chunk` with
// `content`, `file:complete`, `deps:progress`, `preview:ready`, `complete`, and frames after
// `complete`); GET /api/stream/{projectId} relays the same events renamed and flattened, without
// projectId, after `: connected`, with `: heartbeat` every 15 s, and never ends; project rows
// come from tRPC (`projects.getOne`) in its batch envelope. No auth on the streams.
import { randomUUID } from 'node:crypto';
import { createJwtAuthority } from '../lib/auth.js';
import { pick, startDemoServer, timerSet, scheduleDemoJobs } from '../lib/demo.js';
import { readJsonBody, sendJson } from '../lib/http.js';
import { answerInstead, createFaultBook, faultyWriter, handleFaultAdmin } from '../lib/faults.js';

const PROMPTS = [
  'REST API for a bookstore with authors and reviews',
  'Webhook relay with retries and signatures',
  'Rate-limited URL shortener API',
  'Inventory API with stock alerts',
];
/** how long events wait for a viewer of /api/stream before they are dropped */
const QUEUE_MS = 60_000;

function filesFor(prompt) {
  const entity = (/for an? (\w+)/i.exec(prompt)?.[1] ?? 'item').toLowerCase();
  return [
    {
      filename: 'package.json',
      content: `${JSON.stringify({ name: `${entity}-api`, version: '1.0.0', type: 'module', dependencies: { express: '^4.19.2', zod: '^3.23.8' } }, null, 2)}\n`,
    },
    {
      filename: 'src/index.js',
      content: `import express from 'express';\nimport { router } from './routes/${entity}s.js';\n\nconst app = express();\napp.use(express.json());\napp.use('/api/${entity}s', router);\napp.listen(process.env.PORT ?? 3000);\n`,
    },
    {
      filename: `src/routes/${entity}s.js`,
      content: `import { Router } from 'express';\n\nexport const router = Router();\nconst ${entity}s = new Map();\n\nrouter.get('/', (_req, res) => res.json([...${entity}s.values()]));\nrouter.post('/', (req, res) => {\n  const id = crypto.randomUUID();\n  ${entity}s.set(id, { id, ...req.body });\n  res.status(201).json(${entity}s.get(id));\n});\n`,
    },
  ];
}

/** /api/stream's adapter: the original type in `step`, a few fields kept, the timestamp now. */
function relayed(event) {
  const renamed = { thinking: 'step:start', 'api:started': 'step:start', 'generate:start': 'step:start', chunk: 'code:chunk', 'api:complete': 'step:complete' };
  const type = renamed[event.type] ?? (['file:complete', 'complete', 'error'].includes(event.type) ? event.type : 'step:progress');
  const out = { type, message: event.message ?? '', step: event.type };
  for (const key of ['filename', 'path', 'content', 'summary', 'filesModified']) if (event[key] !== undefined) out[key] = event[key];
  return { ...out, timestamp: Date.now() };
}

/** Postgres timestamptz as Supabase sends it: microseconds and +00:00. */
const pgTime = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');

export async function startUpstreamSmartforge(options = {}) {
  const config = {
    port: 0,
    jobDurationMs: 20_000,
    heartbeatMs: 15_000,
    autoStartEveryMs: 0,
    initialJobs: 0,
    failRate: 0,
    maxJobs: 300,
    log: () => {},
    ...options,
  };
  const auth = createJwtAuthority({ secret: config.jwtSecret, issuer: 'supabase-demo' });
  const timers = timerSet();
  /** project rows, as Supabase keeps them */
  const projects = new Map();
  /** per project: open /api/stream connections and events waiting for one */
  const channels = new Map();
  const faults = createFaultBook();
  for (const spec of config.faults ?? []) faults.add(spec);
  let openStreams = 0;
  let peakStreams = 0;

  function channel(projectId) {
    let entry = channels.get(projectId);
    if (!entry) {
      entry = { viewers: new Set(), queued: [] };
      channels.set(projectId, entry);
    }
    return entry;
  }

  function publish(projectId, event) {
    const entry = channel(projectId);
    const frame = `data: ${JSON.stringify(relayed(event))}\n\n`;
    if (entry.viewers.size === 0) {
      entry.queued.push({ frame, at: Date.now() });
      return;
    }
    for (const viewer of entry.viewers) viewer.write(frame);
  }

  function row(projectId, prompt) {
    let project = projects.get(projectId);
    if (!project) {
      const now = pgTime();
      project = {
        id: projectId,
        user_id: 'user_demo',
        name: prompt.slice(0, 60),
        framework: 'express',
        status: 'pending',
        created_at: now,
        updated_at: now,
        sandbox_url: null,
        deploy_url: null,
        metadata: {},
        github_repo_url: null,
        prompt,
      };
      projects.set(projectId, project);
      if (projects.size > config.maxJobs) projects.delete(projects.keys().next().value);
    }
    return project;
  }

  /** One generation as /api/generate runs it; `emit` gets each event, `done` when it is over. */
  function generate(projectId, userMessage, emit, { durationMs = config.jobDurationMs } = {}) {
    const project = row(projectId, userMessage);
    const fail = /\[fail\]/i.test(userMessage);
    const files = filesFor(userMessage);
    const setStatus = (status) => {
      project.status = status;
      project.updated_at = pgTime();
    };
    const script = [];
    const step = (fn) => script.push(fn);
    const send = (event) => {
      const stamped = { ...event, timestamp: Date.now() };
      emit(stamped);
      publish(projectId, stamped);
    };
    step(() => {
      setStatus('generating');
      send({ type: 'thinking', message: 'Analyzing your request...' });
    });
    step(() => send({ type: 'template:selected', message: 'Using the Express template', template: 'express' }));
    step(() => send({ type: 'folder:created', message: 'Created src/routes', path: 'src/routes' }));
    step(() => send({ type: 'api:started', message: 'Calling gpt-4o' }));
    const output = files.map((file) => `// ${file.filename}\n${file.content}`).join('\n');
    for (let offset = 0; offset < output.length; offset += 160) {
      const content = output.slice(offset, offset + 160);
      step(() => send({ type: 'chunk', content }));
      if (fail && offset > output.length / 2) {
        step(() => {
          setStatus('failed');
          send({ type: 'error', message: 'Generation failed: the model response was cut off', error: 'finish_reason: length' });
        });
        break;
      }
    }
    if (!fail) {
      step(() => send({ type: 'api:complete', message: 'Model response complete' }));
      for (const file of files) {
        step(() =>
          send({
            type: 'file:complete',
            filename: file.filename,
            filePath: `/home/user/app/${file.filename}`,
            content: file.content,
            message: `✓ Created ${file.filename}`,
          }),
        );
      }
      const packages = ['express', 'zod', 'nodemon'];
      step(() => setStatus('testing'));
      packages.forEach((name, index) => {
        step(() =>
          send({
            type: 'deps:progress',
            currentPackage: name,
            installedCount: index + 1,
            totalCount: packages.length,
            progress: Math.round(((index + 1) / packages.length) * 100),
          }),
        );
      });
      step(() => {
        setStatus('deploying');
        project.sandbox_url = `https://${projectId.slice(0, 8)}.sandbox.invalid`;
        send({ type: 'preview:ready', sandboxUrl: project.sandbox_url });
      });
      step(() => {
        setStatus('deployed');
        send({ type: 'complete', filesModified: files.map((file) => file.filename), turnIndex: 0, message: '✓ API generated successfully!' });
      });
      // the files are written to the sandbox before the stream closes: news may follow `complete`
      step(() => send({ type: 'status', message: 'Files saved to the sandbox' }));
    }
    const stepMs = durationMs / script.length;
    return new Promise((resolve) => {
      let index = 0;
      const next = () => {
        script[index++]();
        if (index < script.length && project.status !== 'failed') timers.later(next, stepMs);
        else resolve();
      };
      timers.later(next, 20);
    });
  }

  function openStream(req, res, projectId) {
    if (Date.now() < downUntil) return sendJson(res, 503, { error: 'Service unavailable' }, { 'Retry-After': '1' });
    const fault = faults.take(projectId);
    if (answerInstead(req, res, fault)) return;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    const out = faultyWriter(res, fault);
    openStreams++;
    peakStreams = Math.max(peakStreams, openStreams);
    out.write(': connected\n\n', { isEvent: false });
    const entry = channel(projectId);
    // what waited for a viewer comes in one burst, once
    const waiting = entry.queued.filter((item) => item.at > Date.now() - QUEUE_MS);
    entry.queued = [];
    for (const item of waiting) out.write(item.frame);
    const beat = setInterval(() => out.write(': heartbeat\n\n', { isEvent: false }), config.heartbeatMs);
    const viewer = { write: (frame) => out.write(frame), socket: res.socket };
    entry.viewers.add(viewer);
    res.on('close', () => {
      openStreams--;
      clearInterval(beat);
      entry.viewers.delete(viewer);
    });
  }

  /** tRPC over GET with batch=1, as the platform's client calls it. */
  async function trpc(req, res, url) {
    const procedure = url.pathname.slice('/api/trpc/'.length);
    const fail = (status, code, message, number) =>
      sendJson(res, status, [{ error: { json: { message, code: number, data: { code, httpStatus: status, path: procedure } } } }]);
    const user = await auth.userFromRequest(req);
    if (user === null) return fail(401, 'UNAUTHORIZED', 'UNAUTHORIZED', -32001);
    if (procedure !== 'projects.getOne' && procedure !== 'projects.getMany')
      return fail(404, 'NOT_FOUND', `No "query"-procedure on path "${procedure}"`, -32004);
    let input;
    try {
      input = JSON.parse(url.searchParams.get('input') ?? '{}')['0']?.json ?? {};
    } catch {
      return fail(400, 'BAD_REQUEST', 'Unable to parse the input', -32600);
    }
    // zod's issues, as tRPC words a rejected input
    const invalid = (issue) => fail(400, 'BAD_REQUEST', JSON.stringify([issue], null, 2), -32600);
    const columnsOf = ({ prompt: _prompt, ...columns }) => columns;
    if (procedure === 'projects.getMany') {
      // the caller's projects, newest first: limit 1-100 (default 20), offset
      const limit = input.limit ?? 20;
      const offset = input.offset ?? 0;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        return invalid({
          code: 'too_big',
          maximum: 100,
          type: 'number',
          inclusive: true,
          message: 'Number must be less than or equal to 100',
          path: ['limit'],
        });
      const mine = [...projects.values()].filter((project) => project.user_id === user).reverse();
      return sendJson(res, 200, [{ result: { data: { json: mine.slice(offset, offset + limit).map(columnsOf) } } }]);
    }
    const id = input.id;
    if (typeof id !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
      return invalid({ validation: 'uuid', code: 'invalid_string', message: 'Invalid uuid', path: ['id'] });
    const project = projects.get(id);
    if (!project) return fail(404, 'NOT_FOUND', 'Project not found', -32004);
    return sendJson(res, 200, [{ result: { data: { json: columnsOf(project) } } }]);
  }

  let downUntil = 0;
  function restart(downMs) {
    downUntil = Date.now() + downMs;
    for (const entry of channels.values()) for (const viewer of entry.viewers) viewer.socket?.destroy();
  }

  async function route(req, res, url) {
    if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
    if (url.pathname === '/__faults') return handleFaultAdmin(req, res, faults, { restart });
    if (url.pathname === '/__stats') return sendJson(res, 200, { openStreams, peakStreams });
    if (req.method === 'POST' && url.pathname === '/api/generate') {
      let body;
      try {
        body = await readJsonBody(req);
      } catch {
        return sendJson(res, 500, { error: 'Failed to process request' });
      }
      if (!body.projectId) return sendJson(res, 400, { error: 'projectId is required' });
      if (!body.userMessage) return sendJson(res, 400, { error: 'userMessage is required' });
      res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
        'X-Content-Type-Options': 'nosniff',
      });
      res.flushHeaders();
      res.socket?.setNoDelay(true);
      const write = (event) => {
        if (!res.destroyed && !res.writableEnded) res.write(`data: ${JSON.stringify(event)}\n\n`);
      };
      await generate(String(body.projectId), String(body.userMessage), write, { durationMs: body.__durationMs ?? config.jobDurationMs });
      res.end();
      return;
    }
    const stream = /^\/api\/stream\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && stream) return openStream(req, res, decodeURIComponent(stream[1]));
    if (req.method === 'GET' && url.pathname.startsWith('/api/trpc/')) return trpc(req, res, url);
    // genwatch's own discovery listing: not the platform's, the same in both wire variants
    if (req.method === 'GET' && url.pathname === '/demo/projects') {
      return sendJson(res, 200, {
        projects: [...projects.values()]
          .reverse()
          .slice(0, 200)
          .map((project) => ({
            projectId: project.id,
            prompt: project.prompt,
            status: project.status,
            step: null,
            error: project.status === 'failed' ? 'Generation failed' : null,
            summary: null,
            createdAt: project.created_at,
            updatedAt: project.updated_at,
          })),
      });
    }
    // Next.js answers a path it has no route for with its HTML 404 page
    res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' });
    return res.end(
      '<!DOCTYPE html><html><head><title>404: This page could not be found.</title></head><body><h1>404</h1><h2>This page could not be found.</h2></body></html>',
    );
  }

  const server = await startDemoServer({ route, log: config.log, port: config.port });
  const autoStart = () => {
    const prompt = pick(PROMPTS);
    void generate(randomUUID(), Math.random() < config.failRate ? `${prompt} [fail]` : prompt, () => {});
  };
  scheduleDemoJobs(timers, config, autoStart, 600);

  return {
    wire: 'upstream',
    url: server.url,
    /** the Supabase access token tRPC wants */
    devToken: await auth.sign('user_demo'),
    /** start a generation as another user's browser would (tests): the project id */
    startProject: (prompt, { durationMs } = {}) => {
      const id = randomUUID();
      void generate(id, prompt, () => {}, { durationMs });
      return id;
    },
    stats: () => ({ openStreams, peakStreams, ...server.connections() }),
    resetPeakConnections: () => server.resetPeakConnections(),
    async close() {
      timers.clear();
      for (const entry of channels.values()) for (const viewer of entry.viewers) viewer.socket?.destroy();
      await server.close();
    },
  };
}
