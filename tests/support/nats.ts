import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const NATS_SERVER = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((file) => existsSync(file)) ?? 'nats-server';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A real `nats-server -js` on loopback with a throwaway store, as `.ci/run` installs it. */
export async function startNats(): Promise<{ url: string; close(): Promise<void> }> {
  const port = await freePort();
  const store = await mkdtemp(path.join(os.tmpdir(), 'genwatch-nats-'));
  const child: ChildProcess = spawn(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (output.includes('Server is ready')) return resolve();
      if (child.exitCode !== null) return reject(new Error(`nats-server exited: ${output}`));
      if (Date.now() - started > 10_000) return reject(new Error(`nats-server did not start: ${output}`));
      setTimeout(check, 50);
    };
    child.once('error', reject);
    check();
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      await rm(store, { recursive: true, force: true });
    },
  };
}
