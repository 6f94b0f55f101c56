// What every demo platform shares: an HTTP server with CORS, a request log and JSON errors.
import http from 'node:http';
import { applyCors, closeServer, handlePreflight, listen, sendJson } from './http.js';

/**
 * @param {object} options
 * @param {(req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void>|void} options.route
 * @param {(line: string) => void} [options.log] one line per request: method and path, never the query
 *   (an iteration stream carries its token there)
 * @param {(error: any, res: http.ServerResponse) => void} [options.onError] how this platform words an error
 */
export async function startDemoServer({ route, log = () => {}, onError, port = 0, host = '127.0.0.1' }) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    log(`${req.method} ${url.pathname}`);
    if (handlePreflight(req, res)) return;
    applyCors(req, res);
    Promise.resolve(route(req, res, url)).catch((error) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (onError) onError(error, res);
      else sendJson(res, error.status ?? 500, { error: error.status ? error.message : 'Internal Server Error' });
    });
  });
  const url = await listen(server, port, host);
  return { server, url, ...countConnections(server), close: () => closeServer(server) };
}

/** The TCP connections a server holds, however many requests each carries: a browser gives an origin six. */
export function countConnections(server) {
  let openConnections = 0;
  let peakConnections = 0;
  server.on('connection', (socket) => {
    peakConnections = Math.max(peakConnections, ++openConnections);
    socket.on('close', () => openConnections--);
  });
  return {
    connections: () => ({ openConnections, peakConnections }),
    resetPeakConnections: () => (peakConnections = openConnections),
  };
}

export function pick(list, random = Math.random) {
  return list[Math.floor(random() * list.length)];
}

/** Timers that all stop when the platform closes. */
export function timerSet() {
  const timers = new Set();
  return {
    later(fn, ms) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
      return timer;
    },
    every(fn, ms) {
      const timer = setInterval(fn, ms);
      timers.add(timer);
      return timer;
    },
    cancel(timer) {
      clearTimeout(timer);
      clearInterval(timer);
      timers.delete(timer);
    },
    clear() {
      for (const timer of timers) {
        clearTimeout(timer);
        clearInterval(timer);
      }
      timers.clear();
    },
  };
}

/** The jobs a demo platform starts by itself: `initialJobs` at boot, `spacingMs` apart, then one every `autoStartEveryMs`. */
export function scheduleDemoJobs(timers, { initialJobs = 0, autoStartEveryMs = 0 }, start, spacingMs) {
  for (let i = 0; i < initialJobs; i++) timers.later(start, i * spacingMs);
  if (autoStartEveryMs > 0) timers.every(start, autoStartEveryMs);
}
