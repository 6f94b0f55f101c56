// Demo Smart Forge platform (smartforge-streaming.md): typed SSE events per project, code in
// 100-character chunks, a heartbeat every 30 s, every viewer of a project gets every event.
// The guide names no start or state endpoint; these are ours: POST /api/projects and
// GET /api/projects/{projectId} (the state the guide's polling fallback reads).
import { randomUUID } from 'node:crypto';
import { pick, startDemoServer, timerSet, scheduleDemoJobs } from '../lib/demo.js';
import { readJsonBody, sendJson, sseFrame, startSse } from '../lib/http.js';
import { answerInstead, createFaultBook, faultyWriter, handleFaultAdmin } from '../lib/faults.js';

const CHUNK = 100;
const PROMPTS = [
  'REST API for a bookstore with authors and reviews',
  'Webhook relay with retries and signatures',
  'Rate-limited URL shortener API',
  'Inventory API with stock alerts',
];

function fileSet(prompt) {
  const entity = (/for an? (\w+)/i.exec(prompt)?.[1] ?? 'item').toLowerCase();
  return [
    {
      path: 'package.json',
      language: 'json',
      content:
        JSON.stringify(
          {
            name: `${entity}-api`,
            version: '1.0.0',
            type: 'module',
            scripts: { start: 'node index.js', test: 'node --test' },
            dependencies: { express: '^4.19.2', zod: '^3.23.8' },
          },
          null,
          2,
        ) + '\n',
    },
    {
      path: 'index.js',
      language: 'javascript',
      content: `import express from 'express';\nimport { router } from './routes/${entity}s.js';\n\nconst app = express();\napp.use(express.json());\napp.use('/api/${entity}s', router);\n\n// Health check for the load balancer\napp.get('/health', (_req, res) => res.json({ ok: true }));\n\nconst port = Number(process.env.PORT ?? 3000);\napp.listen(port, () => {\n  console.log(\`${entity} API listening on \${port}\`);\n});\n`,
    },
    {
      path: `routes/${entity}s.js`,
      language: 'javascript',
      content: `import { Router } from 'express';\nimport { z } from 'zod';\n\nexport const router = Router();\nconst ${entity}s = new Map();\nconst ${entity}Schema = z.object({ name: z.string().min(1), price: z.number().nonnegative() });\n\nrouter.get('/', (_req, res) => {\n  res.json([...${entity}s.values()]);\n});\n\nrouter.post('/', (req, res) => {\n  const parsed = ${entity}Schema.safeParse(req.body);\n  if (!parsed.success) return res.status(400).json({ error: parsed.error.issues });\n  const id = crypto.randomUUID();\n  const record = { id, ...parsed.data };\n  ${entity}s.set(id, record);\n  res.status(201).json(record);\n});\n\nrouter.get('/:id', (req, res) => {\n  const record = ${entity}s.get(req.params.id);\n  return record ? res.json(record) : res.status(404).json({ error: 'Not found' });\n});\n`,
    },
    {
      path: `test/${entity}s.test.js`,
      language: 'javascript',
      content: `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\n\ntest('creates a ${entity}', async () => {\n  const response = await fetch('http://localhost:3000/api/${entity}s', {\n    method: 'POST',\n    headers: { 'Content-Type': 'application/json' },\n    body: JSON.stringify({ name: 'Sample', price: 10 }),\n  });\n  assert.equal(response.status, 201);\n});\n`,
    },
  ];
}

export async function startGuideSmartforge(options = {}) {
  const config = {
    port: 0,
    jobDurationMs: 20_000,
    heartbeatMs: 30_000,
    autoStartEveryMs: 0,
    initialJobs: 0,
    failRate: 0,
    maxJobs: 300,
    log: () => {},
    ...options,
  };
  const timers = timerSet();
  const projects = new Map();
  const faults = createFaultBook();
  for (const spec of config.faults ?? []) faults.add(spec);
  let openStreams = 0;
  let peakStreams = 0;

  function broadcast(project, type, payload) {
    const event = { type, projectId: project.id, timestamp: new Date().toISOString(), ...payload };
    project.events.push(event);
    project.updatedAt = event.timestamp;
    const frame = sseFrame({ id: project.events.length, event: type, data: JSON.stringify(event) });
    for (const viewer of project.viewers) viewer.write(frame);
    if (type === 'complete' || type === 'error') {
      for (const viewer of project.viewers) viewer.end();
      project.viewers.clear();
    }
  }

  function startProject(prompt, { durationMs = config.jobDurationMs, fail = /\[fail\]/i.test(prompt) } = {}) {
    const id = `sf_${Date.now().toString(36)}_${randomUUID().slice(0, 6)}`;
    const files = fileSet(prompt);
    const now = new Date().toISOString();
    const project = {
      id,
      prompt,
      status: 'queued',
      step: undefined,
      files: [],
      events: [],
      viewers: new Set(),
      createdAt: now,
      updatedAt: now,
      error: undefined,
      summary: undefined,
    };
    projects.set(id, project);
    if (projects.size > config.maxJobs) {
      for (const [oldId, old] of projects) if (old.viewers.size === 0 && projects.size > config.maxJobs) projects.delete(oldId);
    }
    const script = [];
    const step = (fn) => script.push(fn);
    step(() => broadcast(project, 'project:created', { prompt }));
    step(() => {
      project.status = 'planning';
      project.step = 'Planning';
      broadcast(project, 'step:start', { step: 'Planning', message: 'Planning API structure...' });
    });
    step(() => broadcast(project, 'step:complete', { step: 'Planning', message: `Planned ${files.length} files`, files: files.map((file) => file.path) }));
    step(() => {
      project.status = 'generating';
      project.step = 'Generating';
      broadcast(project, 'step:start', { step: 'Generating', message: 'Generating code...' });
    });
    files.forEach((file, index) => {
      step(() => {
        project.files.push({ path: file.path, language: file.language, content: '', status: 'generating' });
        broadcast(project, 'file:generating', { path: file.path, language: file.language, index, total: files.length, message: `Generating ${file.path}...` });
      });
      if (fail && index === 2) {
        step(() => {
          project.status = 'error';
          project.error = `Model returned invalid code for ${file.path}`;
          broadcast(project, 'error', { message: project.error, path: file.path });
        });
        return;
      }
      for (let offset = 0; offset < file.content.length; offset += CHUNK) {
        const chunk = file.content.slice(offset, offset + CHUNK);
        step(() => {
          project.files[index].content += chunk;
          broadcast(project, 'code:chunk', { path: file.path, chunk, offset });
        });
      }
      step(() => {
        project.files[index].status = 'complete';
        broadcast(project, 'file:complete', {
          path: file.path,
          size: file.content.length,
          lines: file.content.split('\n').length - 1,
          index,
          total: files.length,
          message: `Created ${file.path}`,
        });
      });
    });
    step(() => broadcast(project, 'step:complete', { step: 'Generating', message: `Generated ${files.length} files` }));
    step(() => {
      project.status = 'validating';
      project.step = 'Validating';
      broadcast(project, 'step:start', { step: 'Validating', message: 'Validating generated code...' });
    });
    step(() => broadcast(project, 'validation:start', { message: 'Running the generated tests in a sandbox' }));
    step(() => broadcast(project, 'validation:complete', { passed: true, issues: [], message: 'All checks passed' }));
    step(() => broadcast(project, 'step:complete', { step: 'Validating', message: 'Validation passed' }));
    step(() => {
      project.status = 'complete';
      project.step = 'Complete';
      project.summary = `API generated successfully with ${files.length} files`;
      broadcast(project, 'complete', { message: '✓ API generated successfully!', summary: project.summary, fileCount: files.length });
    });
    const stepMs = durationMs / script.length;
    let index = 0;
    const next = () => {
      if (project.status === 'error') return;
      script[index++]();
      if (index < script.length && project.status !== 'error') timers.later(next, stepMs);
    };
    timers.later(next, 20);
    return project;
  }

  function state(project) {
    return {
      projectId: project.id,
      prompt: project.prompt,
      status: project.status,
      step: project.step ?? null,
      files: project.files.map((file) => ({ ...file })),
      error: project.error ?? null,
      summary: project.summary ?? null,
      createdAt: project.createdAt,
      updatedAt: project.updatedAt,
    };
  }

  function openStream(req, res, project) {
    if (Date.now() < downUntil) return sendJson(res, 503, { error: 'Restarting' }, { 'Retry-After': '1' });
    const fault = faults.take(project.id);
    if (answerInstead(req, res, fault)) return;
    startSse(res);
    const out = faultyWriter(res, fault);
    openStreams++;
    peakStreams = Math.max(peakStreams, openStreams);
    // The guide's stream has no resume; a reconnect that names the last id it saw gets the
    // rest (what a restart has not wiped), so dropped connections still end up with every event.
    const lastId = Number.parseInt(String(req.headers['last-event-id'] ?? ''), 10);
    if (Number.isInteger(lastId) && lastId >= 0) {
      const from = Math.max(lastId, project.replayFrom ?? 0);
      project.events.slice(from).forEach((event, offset) => out.write(sseFrame({ id: from + offset + 1, event: event.type, data: JSON.stringify(event) })));
    }
    const heartbeat = setInterval(() => out.write(`: heartbeat ${new Date().toISOString()}\n\n`, { isEvent: false }), config.heartbeatMs);
    res.on('close', () => {
      openStreams--;
      clearInterval(heartbeat);
      project.viewers.delete(out);
    });
    if (project.status === 'complete' || project.status === 'error') {
      out.end();
      return;
    }
    out.socket = res.socket;
    project.viewers.add(out);
  }

  let downUntil = 0;
  function restart(downMs) {
    downUntil = Date.now() + downMs;
    for (const project of projects.values()) for (const viewer of project.viewers) viewer.socket?.destroy();
    timers.later(() => {
      for (const project of projects.values()) project.replayFrom = project.events.length;
    }, downMs);
  }

  async function route(req, res, url) {
    if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
    if (url.pathname === '/__faults') return handleFaultAdmin(req, res, faults, { restart });
    if (url.pathname === '/__stats') return sendJson(res, 200, { openStreams, peakStreams });
    if (req.method === 'POST' && url.pathname === '/api/projects') {
      const body = await readJsonBody(req);
      if (typeof body.prompt !== 'string' || body.prompt.trim().length < 3) return sendJson(res, 400, { error: 'prompt must be at least 3 characters' });
      const project = startProject(body.prompt.trim(), { durationMs: body.__durationMs ?? config.jobDurationMs });
      return sendJson(res, 201, { projectId: project.id, status: project.status, streamUrl: `/api/stream/${project.id}` });
    }
    if (req.method === 'GET' && url.pathname === '/demo/projects') {
      return sendJson(res, 200, {
        projects: [...projects.values()]
          .reverse()
          .slice(0, 200)
          .map((project) => {
            const { files: _files, ...summary } = state(project);
            return summary;
          }),
      });
    }
    const match = /^\/api\/(stream|projects)\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && match) {
      const project = projects.get(decodeURIComponent(match[2]));
      if (!project) return sendJson(res, 404, { error: 'Project not found' });
      return match[1] === 'stream' ? openStream(req, res, project) : sendJson(res, 200, state(project));
    }
    return sendJson(res, 404, { error: 'Not found' });
  }

  const server = await startDemoServer({ route, log: config.log, port: config.port });
  const autoStart = () => startProject(pick(PROMPTS), { fail: Math.random() < config.failRate });
  scheduleDemoJobs(timers, config, autoStart, 600);

  return {
    wire: 'guide',
    url: server.url,
    startProject: (prompt, options) => startProject(prompt, options).id,
    stats: () => ({ openStreams, peakStreams, ...server.connections() }),
    resetPeakConnections: () => server.resetPeakConnections(),
    async close() {
      timers.clear();
      for (const project of projects.values()) for (const viewer of project.viewers) viewer.socket?.destroy();
      await server.close();
    },
  };
}
