// Demo Takoss as the platform's own code serves it (upstream-wire.md §2, branch `Gandharv`):
// Express, POST /api/generate/stream answers 200 text/event-stream (no charset) with bare
// `data:` frames and no timestamps, ends with a `result` frame after `complete`, keeps
// generating when the client goes away, and lists only finished projects at /api/projects.
import { createJwtAuthority } from '../lib/auth.js';
import { pick, startDemoServer, timerSet, scheduleDemoJobs } from '../lib/demo.js';
import { readJsonBody, sendJson } from '../lib/http.js';
import { createRunListing } from './listing.js';
import { answerInstead, createFaultBook, faultyWriter, handleFaultAdmin } from '../lib/faults.js';

const DEMO_REQUESTS = [
  { projectName: 'Blog Platform', description: 'A modern blog with authentication', requirements: 'Create a blog with user auth, posts, comments, and search' },
  { projectName: 'Task Manager', description: 'Team task management system', requirements: 'Build a task app with teams, assignments, and deadlines' },
  { projectName: 'E-commerce Store', description: 'Online shopping platform', requirements: 'E-commerce with products, cart, checkout, and orders' },
  { projectName: 'Clinic Booking 🦷', description: 'Appointments', requirements: 'Booking for a dental clinic with reminders' },
];

/** The orchestrator's progress events, with its percentages (simpleTakossOrchestrator.ts). */
function planEvents(request) {
  const text = String(request.requirements ?? '');
  const entities = 3 + (text.length % 4);
  const features = entities * 2;
  const score = 40 + entities * 5;
  const events = [
    { type: 'phase_start', phase: 'initialization', message: `🚀 Starting generation for ${request.projectName}`, progress: 0 },
    { type: 'phase_start', phase: 'analysis', message: '🔍 Analyzing requirements...', progress: 10 },
    {
      type: 'phase_complete',
      phase: 'analysis',
      message: `✅ Found ${entities} entities and ${features} features`,
      progress: 20,
      data: { entities, features },
    },
    { type: 'phase_start', phase: 'complexity', message: '📊 Analyzing complexity...', progress: 30 },
    { type: 'phase_complete', phase: 'complexity', message: `✅ Complexity score: ${score}/100`, progress: 40, data: { score } },
    { type: 'phase_start', phase: 'database', message: '🗄️ Designing database schema...', progress: 50 },
    { type: 'phase_complete', phase: 'database', message: `✅ Database schema designed with ${entities} tables`, progress: 60 },
    { type: 'phase_start', phase: 'frontend', message: '🎨 Generating frontend components...', progress: 70 },
    { type: 'phase_complete', phase: 'frontend', message: `✅ Generated ${entities * 3} components`, progress: 80 },
    { type: 'phase_start', phase: 'deployment', message: '🚢 Preparing deployment configuration...', progress: 90 },
    { type: 'phase_complete', phase: 'deployment', message: '✅ Deployment configuration ready', progress: 95 },
  ];
  if (/\[crash\]/i.test(text)) return { events: events.slice(0, 3), crash: "Cannot read properties of undefined (reading 'entities')" };
  if (/\[fail\]/i.test(text))
    return {
      events: [...events.slice(0, 5), { type: 'error', phase: 'error', message: 'Generation failed: Claude API rate limit exceeded', progress: 0 }],
      error: 'Claude API rate limit exceeded',
    };
  return { events, entities };
}

/** The visualization the platform returns: a whole HTML page, tens of KB. */
function visualization(projectName, entities) {
  const rows = Array.from({ length: 400 }, (_, index) => `<tr><td>entity_${index % entities}</td><td>field_${index}</td><td>varchar(255)</td></tr>`).join('');
  return `<!DOCTYPE html><html><head><title>${projectName} architecture</title><style>body{font-family:sans-serif}</style></head><body><h1>${projectName}</h1><table>${rows}</table><script>console.log("diagram")</script></body></html>`;
}

export async function startUpstreamTakoss(options = {}) {
  const config = {
    port: 0,
    jobDurationMs: 20_000,
    autoStartEveryMs: 0,
    initialJobs: 0,
    failRate: 0,
    apiKey: 'tk_demo_key',
    maxJobs: 300,
    log: () => {},
    ...options,
  };
  const auth = createJwtAuthority({ secret: config.jwtSecret, issuer: 'takoss-demo' });
  const timers = timerSet();
  const faults = createFaultBook();
  for (const spec of config.faults ?? []) faults.add(spec);
  /** what ProjectWriter has on disk: finished projects only */
  const written = new Map();
  /** runs the demo started by itself, for genwatch's discovery listing */
  const listed = createRunListing(config.maxJobs);

  /** authMiddleware.authenticate: a Bearer JWT or an x-api-key. */
  async function authenticate(req, res) {
    if (req.headers['x-api-key']) {
      if (req.headers['x-api-key'] === config.apiKey) return 'user_demo';
      sendJson(res, 401, { error: 'Invalid API key' });
      return undefined;
    }
    if (!/^Bearer\s+\S+/i.test(req.headers.authorization ?? '')) {
      sendJson(res, 401, { error: 'No authentication provided. Use Bearer token or x-api-key header.' });
      return undefined;
    }
    const userId = await auth.userFromRequest(req);
    if (!userId) sendJson(res, 401, { error: 'Invalid or expired token' });
    return userId ?? undefined;
  }

  /** One generation; `onEvent` gets each progress event. Resolves with the result (success or not). */
  function generate(request, onEvent, { durationMs = config.jobDurationMs, userId = 'user_demo' } = {}) {
    const plan = planEvents(request);
    const stepMs = durationMs / (plan.events.length + 1);
    return new Promise((resolve) => {
      let index = 0;
      const next = () => {
        if (index < plan.events.length) {
          const event = plan.events[index++];
          onEvent(event);
          if (event.type === 'error') return resolve({ success: false, error: plan.error, phases: {} });
          timers.later(next, stepMs);
          return;
        }
        if (plan.crash) return resolve({ crash: plan.crash });
        const projectId = `proj-${Date.now()}`;
        onEvent({ type: 'complete', phase: 'complete', message: `🎉 Successfully generated ${request.projectName}`, progress: 100, data: { projectId } });
        const phases = {
          analysis: { entities: plan.entities, features: plan.entities * 2 },
          complexity: { score: 40 + plan.entities * 5 },
          database: { tables: plan.entities },
          frontend: { components: plan.entities * 3 },
          deployment: { target: 'docker' },
        };
        written.set(projectId, {
          projectId,
          projectName: request.projectName,
          description: request.description,
          requirements: request.requirements,
          generatedAt: new Date().toISOString(),
          files: ['package.json', 'src/index.ts', 'prisma/schema.prisma', 'src/components/App.tsx', 'Dockerfile'],
          generatedBy: userId,
        });
        if (written.size > config.maxJobs) written.delete(written.keys().next().value);
        resolve({
          success: true,
          projectId,
          phases,
          visualization: visualization(request.projectName, plan.entities),
          explanation: `${request.projectName}: ${plan.entities} entities across a REST API, a React frontend and a Docker deployment.`,
        });
      };
      timers.later(next, 30);
    });
  }

  async function route(req, res, url) {
    if (url.pathname === '/healthz' || url.pathname === '/health') return sendJson(res, 200, { status: 'healthy', timestamp: new Date().toISOString() });
    if (url.pathname === '/__faults') return handleFaultAdmin(req, res, faults);

    const known =
      (req.method === 'POST' && (url.pathname === '/api/generate/stream' || url.pathname === '/api/generate')) ||
      (req.method === 'GET' && (url.pathname === '/api/projects' || /^\/api\/projects\/[^/]+$/.test(url.pathname) || url.pathname === '/demo/projects'));
    if (!known) {
      // Express's own answer to a path it has no route for
      res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(
        `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot ${req.method} ${url.pathname.replace(/[<>&]/g, '')}</pre>\n</body>\n</html>\n`,
      );
    }
    const userId = await authenticate(req, res);
    if (!userId) return;

    if (req.method === 'GET' && url.pathname === '/demo/projects') {
      return sendJson(res, 200, { projects: listed.list() });
    }
    if (req.method === 'GET' && url.pathname === '/api/projects') return sendJson(res, 200, [...written.values()]);
    if (req.method === 'GET') {
      const project = written.get(decodeURIComponent(url.pathname.split('/').at(-1)));
      return project ? sendJson(res, 200, project) : sendJson(res, 404, { error: 'Project not found' });
    }

    // the request body is taken as it is: nothing is checked
    const body = await readJsonBody(req);
    if (url.pathname === '/api/generate') {
      const result = await generate(body, () => {}, { userId });
      if (result.crash) return sendJson(res, 500, { error: result.crash });
      return sendJson(res, 200, result);
    }
    const fault = faults.take('*');
    if (answerInstead(req, res, fault)) return;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    const out = faultyWriter(res, fault);
    // the platform does not notice a client that went away: the generation goes on regardless
    const result = await generate(body, (event) => out.write(`data: ${JSON.stringify(event)}\n\n`), {
      durationMs: body.__durationMs ?? config.jobDurationMs,
      userId,
    });
    if (result.crash) out.write(`data: ${JSON.stringify({ type: 'error', message: result.crash })}\n\n`);
    else out.write(`data: ${JSON.stringify({ type: 'result', data: result })}\n\n`);
    out.end();
  }

  function autoStart() {
    const request = pick(DEMO_REQUESTS);
    const fail = Math.random() < config.failRate;
    // the project id comes with `complete`: the demo's listing names the run itself
    const onEvent = listed.track(`run-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`, request);
    void generate(fail ? { ...request, requirements: `${request.requirements} [fail]` } : request, onEvent);
  }

  const server = await startDemoServer({ route, log: config.log, port: config.port });
  scheduleDemoJobs(timers, config, autoStart, 500);

  return {
    wire: 'upstream',
    url: server.url,
    apiKey: config.apiKey,
    devToken: await auth.sign('user_demo'),
    /** projects the platform has written, as GET /api/projects lists them */
    projects: () => [...written.values()],
    async close() {
      timers.clear();
      await server.close();
    },
  };
}
