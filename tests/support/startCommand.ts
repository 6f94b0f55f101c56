import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const running: ChildProcess[] = [];

/** Runs `node server/main.js ARGS` (what npm start runs) on free ports; resolves with its URL. */
export function runStartCommand(args: string[], env: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, ['server/main.js', ...args], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { ...process.env, PORT: '0', DEMO_PORT: '0', ...env },
  });
  running.push(child);
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

export function stopStartCommands(): void {
  for (const child of running.splice(0)) child.kill('SIGTERM');
}
