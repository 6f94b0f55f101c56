// Small HTTP helpers shared by the demo platforms. Plain node:http, no framework,
// so what goes over the wire is exactly what the integration guides describe.

/** CORS: the dashboard runs on another origin and sends Authorization and Last-Event-ID. */
export function applyCors(req, res, { allowedOrigins = '*' } = {}) {
  const origin = req.headers.origin;
  if (!origin) return;
  const allowed = allowedOrigins === '*' || allowedOrigins.includes(origin);
  if (!allowed) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Expose-Headers', 'Retry-After, Content-Type');
}

export function handlePreflight(req, res, options) {
  if (req.method !== 'OPTIONS') return false;
  applyCors(req, res, options);
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Last-Event-ID, Cache-Control, X-API-Key');
  res.setHeader('Access-Control-Max-Age', '600');
  res.writeHead(204).end();
  return true;
}

export function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** FastAPI-style error body, as the CodeBegen guide shows it. */
export function sendDetail(res, status, detail, headers = {}) {
  sendJson(res, status, { detail, status_code: status }, headers);
}

export async function readJsonBody(req, limit = 1 << 20) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('Request body too large'), { status: 413 });
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw Object.assign(new Error('Request body is not valid JSON'), { status: 400 });
  }
}

export function startSse(res, extraHeaders = {}) {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
    ...extraHeaders,
  });
  res.flushHeaders();
  // Nagle would hold small progress events back; streams want them on the wire now.
  res.socket?.setNoDelay(true);
}

export function sseFrame({ id, event, data }) {
  let frame = '';
  if (id !== undefined) frame += `id: ${id}\n`;
  if (event) frame += `event: ${event}\n`;
  for (const line of String(data).split('\n')) frame += `data: ${line}\n`;
  return frame + '\n';
}

export function listen(server, port, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(`http://${host}:${address.port}`);
    });
  });
}

/** Close a server and every connection it still holds (streams never end by themselves). */
export function closeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
