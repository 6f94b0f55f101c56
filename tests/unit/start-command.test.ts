import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DIST } from '../support/stack';
import { existsSync } from 'node:fs';
import { runStartCommand, stopStartCommands } from '../support/startCommand';

// `npm start -- --sources FILE --no-demo`: the contract outside tools rely on.

afterEach(stopStartCommands);
const start = (args: string[]) => runStartCommand(args);

describe.runIf(existsSync(path.join(DIST, 'index.html')))('start command', () => {
  it('serves a given sources file and starts no demo platform', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'genwatch-'));
    const file = path.join(dir, 'sources.json');
    const sources = [{ id: 'prod', name: 'Production', kind: 'codebegen', baseUrl: 'http://127.0.0.1:9' }];
    await writeFile(file, JSON.stringify(sources));
    const url = await start(['--sources', file, '--no-demo']);
    expect(await (await fetch(`${url}/sources.json`)).json()).toEqual(sources);
    const page = await fetch(`${url}/jobs/prod/gen_1`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<div id="app">');
  });

  it('writes the demo sources, with a working dev token, to /sources.json', async () => {
    const url = await start([]);
    const sources = await (await fetch(`${url}/sources.json`)).json();
    expect(sources.map((entry: { kind: string }) => entry.kind)).toEqual(['codebegen', 'takoss', 'smartforge', 'imagegen', 'comfyui']);
    const [codebegen, takoss] = sources;
    // CodeBegen's own code lists its running generations: no listing of the demo's beside it
    expect(codebegen.discoveryUrl).toBeUndefined();
    const running = await fetch(`${codebegen.baseUrl}/generations/?status=processing`, { headers: { Authorization: `Bearer ${codebegen.token}` } });
    expect(running.status).toBe(200);
    // Takoss lists only finished projects: the demo's listing shows the running ones
    const listing = await fetch(takoss.discoveryUrl, { headers: { Authorization: `Bearer ${takoss.token}` } });
    expect(listing.status).toBe(200);
  });

  it.runIf(existsSync(path.join(DIST, '..', 'dist-relay', 'main.js')))(
    'with --relay: a relay beside the dashboard holds the tokens; the dashboard gets its address and token',
    async () => {
      const url = await start(['--relay']);
      const relay = await (await fetch(`${url}/relay.json`)).json();
      expect(relay).toEqual({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), token: expect.any(String) });
      expect(relay.token.length).toBeGreaterThanOrEqual(24);
      const sources = await (await fetch(`${url}/sources.json`)).json();
      expect(sources).toHaveLength(5);
      expect(sources.every((source: { token?: string }) => source.token === undefined)).toBe(true);
      expect((await fetch(`${relay.url}/v1/sources`)).status).toBe(401);
      const relayed = await (await fetch(`${relay.url}/v1/sources`, { headers: { Authorization: `Bearer ${relay.token}` } })).json();
      expect(relayed.map((source: { kind: string }) => source.kind)).toEqual(['codebegen', 'takoss', 'smartforge', 'imagegen', 'comfyui']);
      const csp = (await fetch(url)).headers.get('content-security-policy')!;
      expect(csp).toContain(`connect-src 'self' ${relay.url};`);
    },
  );
});
