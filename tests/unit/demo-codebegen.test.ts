import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCodebegenPlatform } from '../../server/codebegen/platform.js';

// The demo platform in its guide variant (`wire: 'guide'`) must follow the integration guide.

let platform: Awaited<ReturnType<typeof startCodebegenPlatform>>;
const requestLog: string[] = [];
beforeAll(async () => {
  platform = await startCodebegenPlatform({ wire: 'guide', jobDurationMs: 600, heartbeatMs: 100, log: (line: string) => requestLog.push(line) });
});
afterAll(() => platform.close());

const auth = (token = platform.devToken) => ({ Authorization: `Bearer ${token}` });
const api = (path: string) => `${platform.url}/api/v2/generation${path}`;

function parseFrames(text: string) {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('id:'))
    .map((frame) => {
      const id = /^id: (.*)$/m.exec(frame)![1];
      const data = JSON.parse(/^data: (.*)$/m.exec(frame)![1]);
      return { id, data };
    });
}

describe('demo CodeBegen platform', () => {
  it('starts a generation and answers as the guide shows', async () => {
    const response = await fetch(api('/generate'), {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'application/json' },
      body: JSON.stringify({
        prompt: 'Create a user management API with FastAPI',
        generation_mode: 'auto',
        tech_stack: 'fastapi_postgres',
        constraints: ['tested'],
      }),
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({
      status: 'processing',
      message: 'Generation started successfully',
      prompt: 'Create a user management API with FastAPI',
      generation_mode: 'enhanced',
    });
    expect(body.generation_id).toMatch(/^gen_/);
  });

  it('streams the stages in the guide order, with ids, emoji and 0-1 progress', async () => {
    const id = platform.startGeneration({ prompt: 'p', __fail: false });
    const response = await fetch(api(`/${id}/stream`), { headers: auth() });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const frames = parseFrames(await response.text());
    const stages = [...new Set(frames.map((frame) => frame.data.stage))];
    expect(stages).toEqual(['connected', 'initializing', 'schema_extraction', 'code_generation', 'code_review', 'documentation', 'finalizing', 'completed']);
    expect(frames.slice(1).map((frame) => Number(frame.id))).toEqual(frames.slice(1).map((_, index) => index + 1));
    for (const { data } of frames) {
      expect(data.progress).toBeGreaterThanOrEqual(0);
      expect(data.progress).toBeLessThanOrEqual(1);
      expect(typeof data.timestamp).toBe('number');
    }
    expect(frames.some((frame) => frame.data.message.startsWith('📝') && frame.data.current_file)).toBe(true);
    expect(frames.at(-1)!.data).toMatchObject({ status: 'completed', message: '✅ Generation completed successfully!' });
  });

  it('replays only what a reconnect missed', async () => {
    const id = platform.startGeneration({ prompt: 'p', __fail: false });
    const full = parseFrames(await (await fetch(api(`/${id}/stream`), { headers: auth() })).text());
    const resumed = parseFrames(await (await fetch(api(`/${id}/stream`), { headers: { ...auth(), 'Last-Event-ID': '5' } })).text());
    expect(resumed[0].data.status).toBe('connected');
    expect(resumed.slice(1).map((frame) => frame.id)).toEqual(full.slice(6).map((frame) => frame.id));
  });

  it('serves /status as a GenerationStatusResponse', async () => {
    const id = platform.startGeneration({ prompt: 'p', __fail: true });
    await fetch(api(`/${id}/stream`), { headers: auth() }).then((response) => response.text());
    const status = await (await fetch(api(`/${id}/status`), { headers: auth() })).json();
    expect(status).toMatchObject({ generation_id: id, status: 'failed', stage: 'failed', has_events: true });
    expect(status.error).toBeTruthy();
    expect(Date.parse(status.completed_at)).not.toBeNaN();
  });

  it('answers 401, 403 and 404 with the guide bodies', async () => {
    const id = platform.startGeneration({ prompt: 'p' });
    const unauthorized = await fetch(api(`/${id}/status`), { headers: auth('not-a-jwt') });
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toEqual({ detail: 'Could not validate credentials', status_code: 401 });
    const forbidden = await fetch(api(`/${id}/stream`), { headers: auth(platform.otherUserToken) });
    expect(forbidden.status).toBe(403);
    expect((await forbidden.json()).detail).toBe("You don't have permission to view this generation");
    const missing = await fetch(api('/gen_nope/status'), { headers: auth() });
    expect(missing.status).toBe(404);
    expect((await missing.json()).detail).toBe('Generation not found');
  });

  it('answers CORS preflights for the dashboard origin', async () => {
    const response = await fetch(api('/gen_x/stream'), {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization,last-event-id' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(response.headers.get('access-control-allow-headers')).toMatch(/Last-Event-ID/);
    const error = await fetch(api('/gen_x/status'), { headers: { Origin: 'http://localhost:5173' } });
    expect(error.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });

  it('lists the caller’s generations for discovery', async () => {
    const id = platform.startGeneration({ prompt: 'listed' });
    const listing = await (await fetch(`${platform.url}/demo/generations`, { headers: auth() })).json();
    expect(listing.generations.find((generation: { generation_id: string }) => generation.generation_id === id)).toMatchObject({ prompt: 'listed' });
    const other = await (await fetch(`${platform.url}/demo/generations`, { headers: auth(platform.otherUserToken) })).json();
    expect(other.generations).toEqual([]);
  });

  it('logs request lines without tokens', () => {
    expect(requestLog.length).toBeGreaterThan(0);
    expect(requestLog.join('\n')).not.toContain(platform.devToken);
  });
});
