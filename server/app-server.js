// Serves the built dashboard (dist/) with history-API fallback, and /sources.json.
import http from 'node:http';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { closeServer, listen } from './lib/http.js';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * @param {object} options
 * @param {string} options.root the built app
 * @param {() => Promise<string>} options.sources the JSON text served at /sources.json
 * @param {number} [options.port]
 * @param {string} [options.host]
 */
export async function startAppServer({ root, sources, port = 0, host = '127.0.0.1' }) {
  const rootDir = path.resolve(root);
  const indexPath = path.join(rootDir, 'index.html');
  await stat(indexPath); // fail at start when the app was not built

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname === '/sources.json') {
      try {
        const text = await sources();
        res.writeHead(200, { 'Content-Type': TYPES['.json'], 'Cache-Control': 'no-store' });
        res.end(text);
      } catch (error) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`sources unavailable: ${error.message}`);
      }
      return;
    }
    const filePath = path.join(rootDir, path.normalize(decodeURIComponent(url.pathname)));
    if (filePath.startsWith(rootDir + path.sep)) {
      const info = await stat(filePath).catch(() => null);
      if (info?.isFile()) {
        const ext = path.extname(filePath);
        res.writeHead(200, {
          'Content-Type': TYPES[ext] ?? 'application/octet-stream',
          'Content-Length': info.size,
          // Vite puts a content hash in every asset name: those never change.
          'Cache-Control': url.pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        });
        if (req.method === 'HEAD') res.end();
        else createReadStream(filePath).pipe(res);
        return;
      }
    }
    if (path.extname(url.pathname)) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    // Every other path is a route of the single-page app (/jobs/..., /connections).
    // Read per request: a rebuild while serving must not leave stale asset names behind.
    const indexHtml = await readFile(indexPath);
    res.writeHead(200, { 'Content-Type': TYPES['.html'], 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : indexHtml);
  });
  const url = await listen(server, port, host);
  return { url, close: () => closeServer(server) };
}
