import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  n: number;
  at: number;
  method: string;
  headers: http.IncomingHttpHeaders;
}

export type Responder = (req: http.IncomingMessage, res: http.ServerResponse, request: RecordedRequest) => void | Promise<void>;

/** A loopback server that answers each request with a scripted byte sequence. */
export async function startScriptServer(respond: Responder) {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const request = { n: requests.length, at: Date.now(), method: req.method ?? 'GET', headers: req.headers };
    requests.push(request);
    void Promise.resolve(respond(req, res, request)).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/stream`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes each piece as its own chunk, with a pause between, then ends (or drops) the response. */
export async function writeChunks(
  res: http.ServerResponse,
  pieces: (string | Uint8Array)[],
  { contentType = 'text/event-stream', end = 'end' as 'end' | 'drop' | 'hold', gapMs = 15 } = {},
) {
  res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  for (const piece of pieces) {
    res.write(piece);
    await pause(gapMs);
  }
  if (end === 'end') res.end();
  else if (end === 'drop') res.socket?.destroy();
}
