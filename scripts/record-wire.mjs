#!/usr/bin/env node
// Records what each demo platform sends, byte for byte and chunk by chunk, into
// tests/fixtures/wire/<platform>-<case>.<variant>.json, for the replay tests. Every exchange
// of one job is kept in order: the request, the status, the headers that matter, and each
// network read as it arrived (SSE), or each WebSocket frame with what prompted it.
//
//   node scripts/record-wire.mjs            all of them
//   node scripts/record-wire.mjs takoss     one platform
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startCodebegenPlatform } from '../server/codebegen/platform.js';
import { startImagegenPlatform } from '../server/imagegen/platform.js';
import { startSmartforgePlatform } from '../server/smartforge/platform.js';
import { startTakossPlatform } from '../server/takoss/platform.js';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../tests/fixtures/wire');
const only = process.argv[2];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const KEPT_HEADERS = ['content-type', 'cache-control', 'x-accel-buffering', 'retry-after'];

/** One HTTP exchange, the body as its network reads. `stopWhen` ends a stream that never ends. */
async function exchange(base, method, route, { headers = {}, body, stopWhen, maxMs = 30_000 } = {}) {
  const controller = new AbortController();
  const response = await fetch(`${base}${route}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json', ...headers } : headers,
    body: body ? JSON.stringify(body) : undefined,
    signal: controller.signal,
  });
  const kept = Object.fromEntries(KEPT_HEADERS.flatMap((name) => (response.headers.get(name) ? [[name, response.headers.get(name)]] : [])));
  const chunks = [];
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  const timer = setTimeout(() => controller.abort(), maxMs);
  let text = '';
  let ended = 'end';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = decoder.decode(value, { stream: true });
      chunks.push(chunk);
      text += chunk;
      if (stopWhen?.(text)) {
        ended = 'hold';
        controller.abort();
        break;
      }
    }
  } catch {
    ended = 'hold';
  } finally {
    clearTimeout(timer);
  }
  // the path without its query: a token never goes into a fixture
  return { request: { method, path: route.split('?')[0], ...(body ? { body } : {}) }, status: response.status, headers: kept, chunks, end: ended };
}

const json = (item) => JSON.parse(item.chunks.join(''));

/** The platform's own address becomes {{baseUrl}}: a replay puts its own in its place. */
async function save(name, fixture, baseUrl) {
  await mkdir(OUT, { recursive: true });
  const about = {
    recorded: 'node scripts/record-wire.mjs, from the demo platform in this variant',
    variant:
      fixture.variant === 'upstream'
        ? "what the platform's own code sends (../shared/upstream-wire.md)"
        : 'what its integration guide describes (../shared/seeds/)',
  };
  const text = JSON.stringify({ about, ...fixture }, null, 2).replaceAll(baseUrl, '{{baseUrl}}');
  await writeFile(path.join(OUT, name), `${text}\n`);
  console.log(`wrote ${name}`);
}

async function codebegen() {
  for (const wire of ['upstream', 'guide']) {
    const platform = await startCodebegenPlatform({ wire, jobDurationMs: 3000, heartbeatMs: 700 });
    const auth = { Authorization: `Bearer ${platform.devToken}` };
    for (const fail of [false, true]) {
      const launch = await exchange(platform.url, 'POST', '/api/v2/generation/generate', {
        headers: auth,
        body: {
          prompt: fail ? 'Inventory service that will fail [fail]' : 'Create a user management API with FastAPI',
          generation_mode: 'enhanced',
          __fail: fail,
        },
      });
      const id = json(launch).generation_id;
      const streamPath = wire === 'upstream' ? `/api/v2/generation/generate/${id}/stream` : `/api/v2/generation/${id}/stream`;
      const stream = await exchange(platform.url, 'GET', streamPath, { headers: auth });
      const status = await exchange(platform.url, 'GET', `/api/v2/generation/${id}/status`, { headers: auth });
      await save(
        `codebegen-${fail ? 'failed' : 'generation'}.${wire}.json`,
        { platform: 'codebegen', variant: wire, job: { id }, exchanges: [launch, stream, status] },
        platform.url,
      );
    }
    // an iteration of a finished generation
    const parent = platform.startGeneration({ prompt: 'Parent generation to iterate on', __fail: false, __durationMs: 300 });
    await sleep(600);
    const iterate = await exchange(platform.url, 'POST', '/generations/iterate', {
      headers: auth,
      body: { parent_generation_id: parent, modification_prompt: 'Add sessions and an audit trail', __durationMs: 3000 },
    });
    const answer = json(iterate);
    const id = answer.generation_id;
    const exchanges = [iterate];
    if (wire === 'guide') {
      // the guide hands the token out with the answer; it goes nowhere near the fixture
      iterate.chunks = [JSON.stringify({ ...answer, sse_token: '[redacted]' })];
      const stream = await fetchIterationStream(platform.url, `/generations/${id}/stream?token=${encodeURIComponent(answer.sse_token)}`);
      exchanges.push(stream);
    } else {
      // each connection needs a fresh single-use token; the stream closes on the early "completed"
      for (let round = 0; round < 6; round++) {
        const mint = await exchange(platform.url, 'POST', `/generations/generate/${id}/stream-token`, { headers: auth });
        if (mint.status !== 200) {
          exchanges.push(mint);
          break;
        }
        const grant = json(mint);
        mint.chunks = [JSON.stringify({ ...grant, sse_token: '[redacted]' })];
        exchanges.push(mint);
        exchanges.push(await fetchIterationStream(platform.url, `${grant.stream_url}?token=${encodeURIComponent(grant.sse_token)}`));
        await sleep(800);
      }
      exchanges.push(await exchange(platform.url, 'GET', `/generations/${id}`, { headers: auth }));
    }
    await save(
      `codebegen-iteration.${wire}.json`,
      { platform: 'codebegen', variant: wire, job: { id, variant: 'iteration', parentId: parent }, exchanges },
      platform.url,
    );
    await platform.close();
  }
}

function fetchIterationStream(base, route) {
  return exchange(base, 'GET', route);
}

async function takoss() {
  for (const wire of ['upstream', 'guide']) {
    const platform = await startTakossPlatform({ wire, jobDurationMs: 2500 });
    const auth = { Authorization: `Bearer ${platform.devToken}` };
    const cases = wire === 'upstream' ? ['generation', 'failed', 'crash'] : ['generation', 'failed'];
    for (const name of cases) {
      const requirements = {
        generation: 'Create a blog with user auth, posts, comments, and search',
        failed: 'Anything at all [fail]',
        crash: 'Something odd [crash]',
      }[name];
      const stream = await exchange(platform.url, 'POST', '/api/generate/stream', {
        headers: auth,
        body: { projectName: 'Blog Platform', description: 'A modern blog with authentication', requirements },
      });
      await save(`takoss-${name}.${wire}.json`, { platform: 'takoss', variant: wire, job: { id: 'tk-recorded' }, exchanges: [stream] }, platform.url);
    }
    if (wire === 'upstream') {
      const listing = await exchange(platform.url, 'GET', '/api/projects', { headers: auth });
      await save('takoss-projects.upstream.json', { platform: 'takoss', variant: wire, exchanges: [listing] }, platform.url);
    }
    await platform.close();
  }
}

async function smartforge() {
  for (const wire of ['upstream', 'guide']) {
    const platform = await startSmartforgePlatform({ wire, jobDurationMs: 3000, heartbeatMs: 400 });
    const auth = platform.devToken ? { Authorization: `Bearer ${platform.devToken}` } : {};
    if (wire === 'upstream') {
      // the launcher's POST is the stream; a second browser watches /api/stream at the same time
      const id = '6f1d2c9e-3b4a-4c8e-9f20-7a1b2c3d4e5f';
      const watcher = exchange(platform.url, 'GET', `/api/stream/${id}`, {
        stopWhen: (text) => /"type":"complete"/.test(text) && text.endsWith('\n\n') && /: heartbeat\n\n$/.test(text),
        maxMs: 10_000,
      });
      await sleep(100);
      const launch = await exchange(platform.url, 'POST', '/api/generate', {
        body: { projectId: id, userMessage: 'REST API for a bookstore with authors and reviews' },
      });
      const viewer = await watcher;
      const project = await exchange(
        platform.url,
        'GET',
        `/api/trpc/projects.getOne?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: { id } } }))}`,
        { headers: auth },
      );
      await save('smartforge-generate.upstream.json', { platform: 'smartforge', variant: wire, job: { id }, exchanges: [launch, project] }, platform.url);
      await save('smartforge-stream.upstream.json', { platform: 'smartforge', variant: wire, job: { id }, exchanges: [viewer, project] }, platform.url);
    } else {
      const create = await exchange(platform.url, 'POST', '/api/projects', { body: { prompt: 'REST API for a bookstore with authors and reviews' } });
      const id = json(create).projectId;
      const viewer = await exchange(platform.url, 'GET', `/api/stream/${id}`, { headers: { 'Last-Event-ID': '0' } });
      const state = await exchange(platform.url, 'GET', `/api/projects/${id}`);
      await save('smartforge-stream.guide.json', { platform: 'smartforge', variant: wire, job: { id }, exchanges: [create, viewer, state] }, platform.url);
    }
    await platform.close();
  }
}

/** A task's socket, polled as genwatch polls it, from before the launch to the final frame. */
async function imagegen() {
  for (const wire of ['upstream', 'guide']) {
    const platform = await startImagegenPlatform({ wire, stepMs: 40, keepAliveMs: 300 });
    const taskId = `task-recorded-${wire}`;
    const socketPath = wire === 'upstream' ? `/api/ws/image-generation/${taskId}` : `/ws/image-generation/${taskId}`;
    const query = wire === 'upstream' ? `?token=${encodeURIComponent(platform.devToken)}` : '';
    const socket = new WebSocket(`${platform.url.replace('http', 'ws')}${socketPath}${query}`);
    const received = [];
    let prompted = 'connect';
    socket.on('message', (data) => {
      received.push({ after: prompted, data: String(data) });
      prompted = 'push';
    });
    await new Promise((resolve) => socket.once('open', resolve));
    await sleep(100);
    const poll = setInterval(() => {
      prompted = 'get_progress';
      socket.send(JSON.stringify({ type: 'get_progress' }));
    }, 150);
    const launchPath = wire === 'upstream' ? '/api/media/generate-image' : '/api/media/generate';
    const launch = await exchange(platform.url, 'POST', launchPath, {
      headers: { Authorization: `Bearer ${platform.devToken}` },
      body: {
        prompt: 'A lighthouse at dusk, oil painting',
        task_id: taskId,
        use_pexels: false,
        use_generation: true,
        use_refinement: true,
        num_inference_steps: 20,
        high_quality: false,
      },
    });
    await sleep(400);
    clearInterval(poll);
    socket.close();
    await save(
      `imagegen-task.${wire}.json`,
      {
        platform: 'imagegen',
        variant: wire,
        job: { id: taskId },
        exchanges: [{ request: { method: 'GET', path: socketPath, upgrade: 'websocket' }, status: 101, frames: received }, launch],
      },
      platform.url,
    );
    await platform.close();
  }
}

const recorders = { codebegen, takoss, smartforge, imagegen };
for (const [name, record] of Object.entries(recorders)) if (!only || only === name) await record();
process.exit(0);
