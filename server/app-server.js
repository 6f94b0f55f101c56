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
 * The dashboard's Content-Security-Policy: scripts and styles only from the dashboard itself
 * (no inline script, no eval), no plugins, no <base>, no framing, and network access only to
 * the dashboard and the configured sources (HTTP for their APIs, WebSocket for their sockets,
 * images for their results). Violations are reported to /__csp-report.
 * With a relay, the dashboard talks to the relay alone: the platforms' origins stay only for
 * their images.
 * @param {string} sourcesText the JSON served at /sources.json
 * @param {string[]} [relayUrls] the relays this dashboard uses, if any
 */
export function contentSecurityPolicy(sourcesText, relayUrls) {
  const origins = new Set();
  const sockets = new Set();
  let list = [];
  try {
    list = JSON.parse(sourcesText);
  } catch {
    // an unreadable sources file gives a dashboard that can reach nothing but itself
  }
  for (const source of Array.isArray(list) ? list : []) {
    for (const address of [source?.baseUrl, source?.discoveryUrl]) {
      let url;
      try {
        url = new URL(address);
      } catch {
        continue;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
      origins.add(url.origin);
      sockets.add(url.origin.replace(/^http/, 'ws'));
    }
  }
  const images = [...origins].join(' ');
  const network = relayUrls?.length ? [...new Set(relayUrls.map((address) => new URL(address).origin))].join(' ') : [...origins, ...sockets].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob: ${images}`.trim(),
    `connect-src 'self' ${network}`.trim(),
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    'report-uri /__csp-report',
  ].join('; ');
}

const MAX_REPORT_BYTES = 64 * 1024;

/**
 * @param {object} options
 * @param {string} options.root the built app
 * @param {() => Promise<string>} options.sources the JSON text served at /sources.json
 * @param {number} [options.port]
 * @param {string} [options.host]
 * @param {(line: string) => void} [options.log] CSP violations, one line each
 * @param {{ url: string, token: string, fallbackUrls?: string[] }} [options.relay] the relay the dashboard uses, served as
 *   /relay.json (none: the dashboard talks to the platforms itself)
 */
export async function startAppServer({ root, sources, port = 0, host = '127.0.0.1', log = () => {}, relay }) {
  const rootDir = path.resolve(root);
  const indexPath = path.join(rootDir, 'index.html');
  await stat(indexPath); // fail at start when the app was not built

  /** CSP violations the browser reported, newest last (the tests read them) */
  const cspReports = [];

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/__csp-report' && req.method === 'POST') {
      const report = await readReport(req).catch(() => undefined);
      if (report !== undefined) {
        cspReports.push(report);
        if (cspReports.length > 1000) cspReports.shift();
        const body = report?.['csp-report'] ?? report;
        log(
          `CSP violation: ${body?.['violated-directive'] ?? body?.effectiveDirective ?? 'unknown'} blocked ${String(body?.['blocked-uri'] ?? body?.blockedURL ?? '').replace(/\?.*$/, '')}`,
        );
      }
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/__csp-reports' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': TYPES['.json'], 'Cache-Control': 'no-store' }).end(JSON.stringify(cspReports));
      return;
    }
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
    if (url.pathname === '/relay.json') {
      if (!relay)
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).end('No relay: the dashboard talks to the platforms');
      else res.writeHead(200, { 'Content-Type': TYPES['.json'], 'Cache-Control': 'no-store' }).end(JSON.stringify(relay));
      return;
    }
    const filePath = path.join(rootDir, path.normalize(decodeURIComponent(url.pathname)));
    if (filePath.startsWith(rootDir + path.sep)) {
      const info = await stat(filePath).catch(() => null);
      if (info?.isFile()) {
        const ext = path.extname(filePath);
        res.writeHead(200, {
          'Content-Type': TYPES[ext] ?? 'application/octet-stream',
          'X-Content-Type-Options': 'nosniff',
          ...(ext === '.html'
            ? { 'Content-Security-Policy': contentSecurityPolicy(await sources().catch(() => '[]'), relay && [relay.url, ...(relay.fallbackUrls ?? [])]) }
            : {}),
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
    const policy = contentSecurityPolicy(await sources().catch(() => '[]'), relay && [relay.url, ...(relay.fallbackUrls ?? [])]);
    res.writeHead(200, {
      'Content-Type': TYPES['.html'],
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': policy,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : indexHtml);
  });
  const url = await listen(server, port, host);
  return { url, cspReports, close: () => closeServer(server) };
}

/** a CSP report body: JSON, bounded */
async function readReport(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_REPORT_BYTES) return undefined;
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
