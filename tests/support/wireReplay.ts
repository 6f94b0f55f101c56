import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer } from 'ws';

/** One exchange of a recorded transcript (see scripts/record-wire.mjs). */
export interface RecordedExchange {
  request: { method: string; path: string; upgrade?: 'websocket'; body?: unknown };
  status: number;
  headers?: Record<string, string>;
  /** the body as its network reads arrived */
  chunks?: string[];
  /** 'hold': the platform never ended it */
  end?: 'end' | 'hold';
  /** WebSocket frames in order, each with what prompted it */
  frames?: { after: 'connect' | 'get_progress' | 'push'; data: string }[];
}

export interface Transcript {
  platform: 'codebegen' | 'takoss' | 'smartforge' | 'imagegen';
  variant: 'upstream' | 'guide';
  job?: { id: string; variant?: string; parentId?: string };
  exchanges: RecordedExchange[];
}

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/wire');

/** A transcript, with the recorded platform's address (`{{baseUrl}}`) replaced by `baseUrl`. */
export function loadTranscript(name: string, baseUrl = 'http://127.0.0.1:9'): Transcript {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8').replaceAll('{{baseUrl}}', baseUrl)) as Transcript;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A loopback server that plays a transcript back: each request gets the next recorded
 * exchange for its method and path, its body written in the recorded network reads; a socket
 * gets its frames, one per poll it sends. Anything not recorded is answered as a framework
 * answers an unknown path.
 */
export async function startReplayServer(name: string, { gapMs = 2 } = {}) {
  let waiting: RecordedExchange[] = [];
  const served: string[] = [];
  const held = new Set<http.ServerResponse>();
  const take = (method: string, route: string, upgrade?: boolean) => {
    const index = waiting.findIndex(
      (exchange) => exchange.request.method === method && exchange.request.path === route && !!exchange.request.upgrade === !!upgrade,
    );
    return index < 0 ? undefined : waiting.splice(index, 1)[0];
  };
  const server = http.createServer((req, res) => {
    const route = new URL(req.url ?? '/', 'http://localhost').pathname;
    served.push(`${req.method} ${route}`);
    const exchange = take(req.method ?? 'GET', route);
    if (!exchange) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"detail":"Not Found"}');
      return;
    }
    void (async () => {
      res.writeHead(exchange.status, exchange.headers ?? {});
      res.flushHeaders();
      for (const chunk of exchange.chunks ?? []) {
        if (res.destroyed) return;
        res.write(chunk);
        await pause(gapMs);
      }
      if (exchange.end === 'hold') held.add(res);
      else res.end();
    })();
  });
  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const route = new URL(req.url ?? '/', 'http://localhost').pathname;
    served.push(`WS ${route}`);
    const exchange = take('GET', route, true);
    if (!exchange) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      const frames = exchange.frames ?? [];
      let next = 0;
      const sendRun = () => {
        // one frame, then whatever the platform pushed right after it
        if (next < frames.length) ws.send(frames[next++].data);
        while (next < frames.length && frames[next].after === 'push') ws.send(frames[next++].data);
      };
      while (next < frames.length && frames[next].after === 'connect') ws.send(frames[next++].data);
      ws.on('message', () => {
        if (next < frames.length) sendRun();
        else if (frames.length) ws.send(frames.at(-1)!.data);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const transcript = loadTranscript(name, url);
  waiting = transcript.exchanges.slice();
  return {
    url,
    transcript,
    /** requests in the order they came */
    served,
    /** recorded exchanges nobody asked for */
    unserved: () => waiting,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
