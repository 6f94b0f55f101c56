#!/usr/bin/env node
// `npm start`: the demo platforms plus the dashboard, and the /sources.json that joins them.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startAppServer } from './app-server.js';
import { parseFaultFlags } from './lib/faults.js';
import { startCodebegenPlatform } from './codebegen/platform.js';
import { startComfyuiPlatform } from './comfyui/platform.js';
import { startImagegenPlatform } from './imagegen/platform.js';
import { startSmartforgePlatform } from './smartforge/platform.js';
import { startTakossPlatform } from './takoss/platform.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HELP = `Usage: npm start -- [options]

  --sources FILE   serve FILE as /sources.json instead of the demo sources
  --no-demo        start no demo platforms
  --dev            run the dashboard from source with hot reload (Vite)
  --wire VARIANT   what the demo platforms send: 'upstream' (default), as the platforms'
                   own code does, or 'guide', as their integration guides describe
  --fault P:JSON   inject a fault into demo platform P (codebegen, takoss, smartforge,
                   imagegen, comfyui) from the start, e.g. 'codebegen:{"kind":"close-after","events":3}';
                   repeatable; kinds are listed in server/lib/faults.js
  --relay          watch every job through a genwatch relay started beside the dashboard,
                   with an in-memory log: one stream per browser, shared URLs live for everyone
  --nats URL       the relay keeps its log in NATS JetStream at URL and shares the jobs with
                   other relays on it (implies --relay; also NATS_URL)
  --help           this text

Environment:
  PORT                      dashboard port (default 5173)
  DEMO_PORT                 first demo platform port (default PORT + 1; the five use five ports)
  DEMO_JOB_SECONDS          length of one demo generation (default 40)
  DEMO_START_EVERY_SECONDS  a new demo generation this often (default 4, 0 stops it)
  DEMO_FAIL_RATE            share of demo generations that fail (default 0.1)
  DEMO_WIRE                 the default of --wire
  RELAY_PORT                the relay's port (default PORT + 6)
  RELAY_TOKEN               what dashboards send the relay (default: a fresh random one)
  NATS_URL                  the default of --nats
`;

const { values: args } = parseArgs({
  options: {
    sources: { type: 'string' },
    'no-demo': { type: 'boolean', default: false },
    dev: { type: 'boolean', default: false },
    wire: { type: 'string', default: process.env.DEMO_WIRE ?? 'upstream' },
    fault: { type: 'string', multiple: true, default: [] },
    relay: { type: 'boolean', default: false },
    nats: { type: 'string', default: process.env.NATS_URL },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (!['upstream', 'guide'].includes(args.wire)) {
  console.error(`genwatch could not start: --wire must be 'upstream' or 'guide', not '${args.wire}'`);
  process.exit(1);
}

const port = Number(process.env.PORT ?? 5173);
const demoPort = Number(process.env.DEMO_PORT ?? port + 1);
const closers = [];

async function startDemo() {
  const seconds = Number(process.env.DEMO_JOB_SECONDS ?? 40);
  const every = Number(process.env.DEMO_START_EVERY_SECONDS ?? 4) * 1000;
  const failRate = Number(process.env.DEMO_FAIL_RATE ?? 0.1);
  // Five platforms, five origins: each gets its own browser connection budget, as in real life.
  const portFor = (offset) => (demoPort === 0 ? 0 : demoPort + offset);
  const faults = parseFaultFlags(args.fault);
  const wire = args.wire;
  const codebegen = await startCodebegenPlatform({
    wire,
    port: portFor(0),
    jobDurationMs: seconds * 1000,
    autoStartEveryMs: every,
    initialJobs: 6,
    failRate,
    faults: faults.codebegen,
  });
  const takoss = await startTakossPlatform({
    wire,
    port: portFor(1),
    jobDurationMs: seconds * 500,
    autoStartEveryMs: every * 3,
    initialJobs: 2,
    failRate,
    faults: faults.takoss,
  });
  const smartforge = await startSmartforgePlatform({
    wire,
    port: portFor(2),
    jobDurationMs: seconds * 600,
    autoStartEveryMs: every * 3,
    initialJobs: 2,
    failRate,
    faults: faults.smartforge,
  });
  const imagegen = await startImagegenPlatform({
    wire,
    port: portFor(3),
    stepMs: Math.max(50, seconds * 15),
    autoStartEveryMs: every * 2,
    initialJobs: 2,
    failRate,
    faults: faults.imagegen,
  });
  // ComfyUI has no guide of its own: its demo speaks as its server code does, whatever --wire says
  const comfyuiStepMs = Math.max(50, seconds * 10);
  // a demo prompt: 20 sampler steps and the graph's other nodes (about 60 ms each)
  const comfyuiPromptMs = 20 * comfyuiStepMs + 8 * 60;
  const comfyui = await startComfyuiPlatform({
    port: portFor(4),
    stepMs: comfyuiStepMs,
    // one worker, like ComfyUI's: prompts come a little slower than it finishes them, at any
    // pace (else its queue grows for as long as the demo runs)
    autoStartEveryMs: every > 0 ? Math.max(every * 3, Math.ceil(comfyuiPromptMs * 1.25)) : 0,
    initialJobs: 2,
    failRate,
    faults: faults.comfyui,
  });
  closers.push(codebegen.close, takoss.close, smartforge.close, imagegen.close, comfyui.close);
  console.log(
    `demo platforms (${wire === 'guide' ? 'as their guides describe them' : 'as their own code sends'}): CodeBegen ${codebegen.url}, Takoss ${takoss.url}, Smart Forge ${smartforge.url}, image generation ${imagegen.url}, ComfyUI ${comfyui.url}`,
  );
  // Jobs are found through each platform's own listings (CodeBegen's /generations/, Smart
  // Forge's project list, ComfyUI's queue and history, Takoss's finished projects). Where the
  // platform lists no running jobs (Takoss, image generation; every guide), the demo's own
  // listing adds them, so that the board shows what the demo starts.
  const demoListing = (url, platformListsRunning) => (wire === 'guide' || !platformListsRunning ? { discoveryUrl: url } : {});
  return [
    {
      id: 'codebegen-demo',
      name: 'CodeBegen (demo)',
      kind: 'codebegen',
      baseUrl: codebegen.url,
      token: codebegen.devToken,
      ...demoListing(`${codebegen.url}/demo/generations`, true),
    },
    {
      id: 'takoss-demo',
      name: 'Takoss (demo)',
      kind: 'takoss',
      baseUrl: takoss.url,
      token: takoss.devToken,
      ...demoListing(`${takoss.url}/demo/projects`, false),
    },
    {
      id: 'smartforge-demo',
      name: 'Smart Forge (demo)',
      kind: 'smartforge',
      baseUrl: smartforge.url,
      token: smartforge.devToken,
      ...demoListing(`${smartforge.url}/demo/projects`, true),
    },
    {
      id: 'imagegen-demo',
      name: 'Image generation (demo)',
      kind: 'imagegen',
      baseUrl: imagegen.url,
      token: imagegen.devToken,
      ...demoListing(`${imagegen.url}/demo/tasks`, false),
    },
    { id: 'comfyui-demo', name: 'ComfyUI (demo)', kind: 'comfyui', baseUrl: comfyui.url },
  ];
}

/** The relay beside the dashboard, following the platforms with their tokens; the dashboard gets its address and token only. */
async function startRelayFor(readSources) {
  const entry = path.join(projectRoot, 'dist-relay', 'main.js');
  if (!existsSync(entry)) throw new Error('dist-relay/ is missing: run `npm run build:relay` (npm start does it first)');
  const { startRelayWith, readSources: parseSources } = await import(entry);
  const file = path.join(projectRoot, '.genwatch', 'relay-sources.json');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, await readSources(), { mode: 0o600 });
  const token = process.env.RELAY_TOKEN || randomBytes(24).toString('base64url');
  const relay = await startRelayWith({
    sources: await parseSources(file),
    token,
    nats: args.nats || undefined,
    port: process.env.RELAY_PORT !== undefined ? Number(process.env.RELAY_PORT) : port === 0 ? 0 : port + 6,
  });
  closers.push(() => relay.closeAll());
  console.log(`genwatch relay ${relay.relayId} (${relay.log.kind === 'jetstream' ? `NATS JetStream at ${args.nats}` : 'in-memory log'}): ${relay.url}`);
  return { relay, config: { url: relay.url, token } };
}

/** The sources as a dashboard behind a relay sees them: the relay holds the tokens. */
async function withoutTokens(text) {
  return JSON.stringify(
    JSON.parse(text).map(({ token: _token, ...source }) => source),
    null,
    2,
  );
}

async function main() {
  let readSources;
  if (args.sources) {
    const file = path.resolve(args.sources);
    JSON.parse(await readFile(file, 'utf8')); // fail at start, not in the browser
    readSources = () => readFile(file, 'utf8');
  } else {
    const sources = args['no-demo'] ? [] : await startDemo();
    const file = path.join(projectRoot, '.genwatch', 'sources.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(sources, null, 2), { mode: 0o600 });
    readSources = () => readFile(file, 'utf8');
  }
  if (args.sources && !args['no-demo']) await startDemo();

  const { relay, config: relayConfig } = args.relay || args.nats ? await startRelayFor(readSources) : {};
  const dashboardSources = relay ? async () => withoutTokens(await readSources()) : readSources;

  let url;
  if (args.dev) {
    const { createServer } = await import('vite');
    const vite = await createServer({
      root: projectRoot,
      server: { port, strictPort: true, host: '127.0.0.1' },
      plugins: [
        {
          name: 'genwatch-sources',
          configureServer(server) {
            server.middlewares.use('/sources.json', async (_req, res) => {
              res.setHeader('Content-Type', 'application/json; charset=utf-8');
              res.setHeader('Cache-Control', 'no-store');
              res.end(await dashboardSources());
            });
            server.middlewares.use('/relay.json', (_req, res) => {
              res.statusCode = relayConfig ? 200 : 404;
              res.setHeader('Cache-Control', 'no-store');
              res.end(relayConfig ? JSON.stringify(relayConfig) : 'No relay');
            });
          },
        },
      ],
    });
    await vite.listen();
    closers.push(() => vite.close());
    url = `http://localhost:${port}`;
  } else {
    const app = await startAppServer({
      root: path.join(projectRoot, 'dist'),
      sources: dashboardSources,
      port,
      log: (line) => console.warn(line),
      relay: relayConfig,
    });
    closers.push(app.close);
    url = `http://localhost:${new URL(app.url).port}`;
  }
  // the dashboard's origin, as a browser names it either way, may call the relay
  for (const origin of [url, url.replace('localhost', '127.0.0.1')]) relay?.allowOrigin(origin);
  console.log(`\n  genwatch is running: ${url}\n`);
}

async function shutdown() {
  await Promise.allSettled(closers.map((close) => close()));
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

main().catch((error) => {
  console.error(`genwatch could not start: ${error.message}`);
  process.exit(1);
});
