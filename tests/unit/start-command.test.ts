import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DIST } from '../support/stack';
import { existsSync } from 'node:fs';

// `npm start -- --sources FILE --no-demo`: the contract outside tools rely on.

const children: ChildProcess[] = [];
afterEach(() => children.splice(0).forEach((child) => child.kill('SIGTERM')));

function start(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['server/main.js', ...args], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { ...process.env, PORT: '0', DEMO_PORT: '0' },
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /genwatch is running: (http:\/\/localhost:\d+)/.exec(output);
      if (match) resolve(match[1].replace('localhost', '127.0.0.1'));
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
}

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
    const [source] = await (await fetch(`${url}/sources.json`)).json();
    expect(source).toMatchObject({ id: 'codebegen-demo', kind: 'codebegen' });
    const listing = await fetch(source.discoveryUrl, { headers: { Authorization: `Bearer ${source.token}` } });
    expect(listing.status).toBe(200);
  });
});
