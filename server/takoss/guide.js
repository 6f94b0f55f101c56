// Demo Takoss platform (takoss-streaming.md): POST /api/generate/stream answers with an SSE
// body that is the whole generation; POST /api/generate answers once, at the end. JWT or API key.
import { randomUUID } from 'node:crypto';
import { createJwtAuthority } from '../lib/auth.js';
import { pick, startDemoServer, timerSet, scheduleDemoJobs } from '../lib/demo.js';
import { readJsonBody, sendJson, sseFrame, startSse } from '../lib/http.js';
import { createRunListing } from './listing.js';
import { answerInstead, createFaultBook, faultyWriter, handleFaultAdmin } from '../lib/faults.js';

const DEMO_REQUESTS = [
  { projectName: 'Blog Platform', description: 'A blog with authors', requirements: 'Build a blog with authentication and comments' },
  { projectName: 'Team Todo', description: 'Shared todo lists', requirements: 'Todo app with teams and due dates' },
  { projectName: 'Recipe Box', description: 'Recipes and ratings', requirements: 'Recipe catalogue with search and ratings' },
  { projectName: 'Clinic Booking 🦷', description: 'Appointments', requirements: 'Booking for a dental clinic with reminders' },
];

/** The guide's phases with its progress percentages. */
function planTakoss(request, fail) {
  const entities = 3 + (request.requirements.length % 4);
  const components = entities * 3;
  const steps = [
    { type: 'phase_start', phase: 'initialization', message: `Starting generation for ${request.projectName}`, progress: 0 },
    { type: 'phase_start', phase: 'analysis', message: 'Analyzing requirements and extracting features', progress: 10 },
    {
      type: 'phase_complete',
      phase: 'analysis',
      message: `Found ${entities} entities and ${entities * 2} features`,
      progress: 20,
      data: { entities, features: entities * 2 },
    },
    { type: 'phase_start', phase: 'complexity', message: 'Estimating project complexity', progress: 30 },
    { type: 'phase_complete', phase: 'complexity', message: `Complexity score: ${40 + entities * 5}`, progress: 40, data: { score: 40 + entities * 5 } },
    { type: 'phase_start', phase: 'database', message: 'Designing database schema', progress: 50 },
    { type: 'phase_complete', phase: 'database', message: `Database schema designed for ${entities} entities`, progress: 60, data: { tables: entities } },
    { type: 'phase_start', phase: 'frontend', message: 'Generating UI components', progress: 70 },
    { type: 'phase_progress', phase: 'frontend', message: `Generated ${Math.floor(components / 2)} of ${components} components`, progress: 75 },
    { type: 'phase_complete', phase: 'frontend', message: `Generated ${components} components`, progress: 80, data: { components } },
    { type: 'phase_start', phase: 'deployment', message: 'Preparing deployment configuration', progress: 90 },
    { type: 'phase_complete', phase: 'deployment', message: 'Deployment configuration ready', progress: 95, data: { target: 'docker' } },
  ];
  if (fail) {
    const at = 4 + (request.projectName.length % 5);
    return [...steps.slice(0, at), { type: 'error', phase: 'error', message: 'Generation failed: API rate limit exceeded', progress: 0 }];
  }
  return steps;
}

function resultFor(projectId, steps) {
  const phases = {};
  for (const step of steps) if (step.type === 'phase_complete') phases[step.phase] = { message: step.message, ...step.data };
  return { success: true, projectId, phases };
}

export async function startGuideTakoss(options = {}) {
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
  /** runs the demo started by itself, listed by the discovery endpoint */
  const listed = createRunListing(config.maxJobs);

  async function authorized(req) {
    if (req.headers['x-api-key'] === config.apiKey) return true;
    return (await auth.userFromRequest(req)) !== null;
  }

  function validate(body) {
    for (const field of ['projectName', 'description', 'requirements']) {
      if (typeof body[field] !== 'string' || body[field].trim() === '') return `${field} is required`;
    }
    return undefined;
  }

  /** Runs one generation, calling `onEvent` for each stream event; resolves with the result or undefined on failure. */
  function run(request, onEvent, { durationMs = config.jobDurationMs, fail = /\[fail\]/i.test(request.requirements) } = {}) {
    const projectId = `proj-${Date.now()}-${randomUUID().slice(0, 6)}`;
    const steps = planTakoss(request, fail);
    const stepMs = durationMs / (steps.length + 1);
    let index = 0;
    let timer;
    const done = new Promise((resolve) => {
      const next = () => {
        if (index < steps.length) {
          const step = steps[index++];
          onEvent(step);
          if (step.type === 'error') return resolve(undefined);
          timer = timers.later(next, stepMs);
          return;
        }
        const complete = { type: 'complete', phase: 'complete', message: `Successfully generated ${request.projectName}`, progress: 100, data: { projectId } };
        onEvent(complete);
        resolve(resultFor(projectId, steps));
      };
      timer = timers.later(next, 30);
    });
    return { projectId, done, abort: () => timers.cancel(timer) };
  }

  async function route(req, res, url) {
    if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
    if (url.pathname === '/__faults') return handleFaultAdmin(req, res, faults);
    if (!(await authorized(req))) return sendJson(res, 401, { error: 'Unauthorized: a valid JWT or API key is required' });

    if (req.method === 'GET' && url.pathname === '/demo/projects') {
      return sendJson(res, 200, { projects: listed.list() });
    }
    if (req.method !== 'POST' || !['/api/generate/stream', '/api/generate'].includes(url.pathname)) {
      return sendJson(res, 404, { error: 'Not found' });
    }
    const body = await readJsonBody(req);
    const problem = validate(body);
    if (problem) return sendJson(res, 400, { error: problem });

    if (url.pathname === '/api/generate') {
      const result = await run(body, () => {}).done;
      return result ? sendJson(res, 200, result) : sendJson(res, 500, { success: false, error: 'Generation failed: API rate limit exceeded' });
    }
    // Takoss jobs have no id before they start: faults here apply to the next stream(s).
    const fault = faults.take('*');
    if (answerInstead(req, res, fault)) return;
    startSse(res);
    const out = faultyWriter(res, fault);
    const generation = run(body, (event) => out.write(sseFrame({ data: JSON.stringify(event) })), { durationMs: body.__durationMs ?? config.jobDurationMs });
    // The stream is the job: a client that goes away takes the generation with it.
    res.on('close', () => generation.abort());
    const result = await generation.done;
    if (result) out.write(sseFrame({ data: JSON.stringify({ type: 'result', data: result }) }));
    out.end();
  }

  function autoStart() {
    const request = pick(DEMO_REQUESTS);
    let onEvent = () => {};
    const generation = run(request, (event) => onEvent(event), { fail: Math.random() < config.failRate });
    onEvent = listed.track(generation.projectId, request);
  }

  const server = await startDemoServer({ route, log: config.log, port: config.port });
  scheduleDemoJobs(timers, config, autoStart, 500);

  return {
    wire: 'guide',
    url: server.url,
    apiKey: config.apiKey,
    devToken: await auth.sign('user_demo'),
    async close() {
      timers.clear();
      await server.close();
    },
  };
}
