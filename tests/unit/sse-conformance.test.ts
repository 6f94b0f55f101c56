import { afterEach, describe, expect, it } from 'vitest';
import { SseConnection, type SseSignal } from '../../src/transports/sse';
import { pause, startScriptServer, writeChunks, type Responder } from '../support/scriptServer';

// Cases from sse-conformance.md, each against a real server on 127.0.0.1.

const servers: { close(): Promise<void> }[] = [];
const connections: SseConnection[] = [];
afterEach(async () => {
  connections.splice(0).forEach((connection) => connection.close());
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const KB2 = 'x'.repeat(2048);
const BOM = '\uFEFF';

/** First request gets `first`; any later one gets 204 so the client stops. */
function once(first: Responder): Responder {
  return (req, res, request) => {
    if (request.n === 0) return first(req, res, request);
    res.writeHead(204).end();
  };
}

async function run(
  respond: Responder,
  { until, timeoutMs = 4000, retryBaseMs = 10 }: { until?: (signals: SseSignal[]) => boolean; timeoutMs?: number; retryBaseMs?: number } = {},
) {
  const server = await startScriptServer(respond);
  servers.push(server);
  const signals: SseSignal[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const connection = new SseConnection({
    url: server.url,
    reconnect: { baseMs: retryBaseMs },
    onSignal: (signal) => {
      signals.push(signal);
      if (signal.type === 'closed' || until?.(signals)) resolveDone();
    },
  });
  connections.push(connection);
  connection.start();
  await Promise.race([done, pause(timeoutMs)]);
  connection.close();
  const messages = signals.filter((signal): signal is Extract<SseSignal, { type: 'message' }> => signal.type === 'message');
  return { signals, messages, data: messages.map((message) => message.data), requests: server.requests, connection };
}

describe('SSE client conformance', () => {
  it('1: a simple event', async () => {
    const { data } = await run(once((_q, res) => writeChunks(res, ['data: hello\n\n'])));
    expect(data).toEqual(['hello']);
  });

  it('2: comments and mixed line endings between data lines', async () => {
    const body = `data:1\r:\0\n:\r\ndata:2\n:${KB2}\rdata:3\n:data:fail\r:${KB2}\ndata:4\n\n`;
    const { data } = await run(once((_q, res) => writeChunks(res, [body])));
    expect(data).toEqual(['1\n2\n3\n4']);
  });

  it('3: empty data fields', async () => {
    const { data } = await run(once((_q, res) => writeChunks(res, ['data:\n\ndata\ndata\n\ndata:test\n\n'])));
    expect(data).toEqual(['', '\n', 'test']);
  });

  it('4: only a leading BOM is stripped', async () => {
    const { data } = await run(once((_q, res) => writeChunks(res, [`${BOM}data:1\n\n${BOM}data:2\n\ndata:3\n\n`])));
    expect(data).toEqual(['1', '3']);
  });

  it('5: a second BOM spoils the first line', async () => {
    const { data } = await run(once((_q, res) => writeChunks(res, [`${BOM}${BOM}data:1\n\ndata:2\n\ndata:3\n\n`])));
    expect(data).toEqual(['2', '3']);
  });

  it.each([
    ['6: retry with a leading zero', 'retry:02000\ndata:x\n\n'],
    ['7: a bogus retry is ignored', 'retry:2000\nretry:1000x\ndata:x\n\n'],
  ])('%s', async (_name, body) => {
    let firstEndedAt = 0;
    const { requests } = await run(
      once(async (_q, res) => {
        await writeChunks(res, [body]);
        firstEndedAt = Date.now();
      }),
      { timeoutMs: 5000 },
    );
    expect(requests).toHaveLength(2);
    const waited = requests[1].at - firstEndedAt;
    expect(waited).toBeGreaterThanOrEqual(1900);
    expect(waited).toBeLessThan(3000);
  });

  it('8: an unterminated event is dropped and its id not used', async () => {
    const { data, requests } = await run(once((_q, res) => writeChunks(res, ['data:test1\n\nid:test\ndata:test2'])));
    expect(data).toEqual(['test1']);
    expect(requests).toHaveLength(2);
    expect(requests[1].headers['last-event-id']).toBeUndefined();
  });

  it('9: the last event id persists across events', async () => {
    const { messages } = await run(once((_q, res) => writeChunks(res, ['id: 1\ndata: 1\n\ndata:2\n\n'])));
    expect(messages.map((message) => [message.data, message.lastEventId])).toEqual([
      ['1', '1'],
      ['2', '1'],
    ]);
  });

  it('10: an empty id resets it, and no header is sent', async () => {
    const { messages, requests } = await run(once((_q, res) => writeChunks(res, ['id: 1\ndata: 1\n\nid:\ndata:2\n\n'])));
    expect(messages.map((message) => message.lastEventId)).toEqual(['1', '']);
    expect(requests[1].headers['last-event-id']).toBeUndefined();
  });

  it('11: reconnect carries Last-Event-ID', async () => {
    const { data, requests } = await run(once((_q, res) => writeChunks(res, ['id: X\nretry: 200\ndata: hello\n\n'])));
    expect(data).toEqual(['hello']);
    expect(requests[1].headers['last-event-id']).toBe('X');
  });

  it('12: an id without data still counts', async () => {
    const { requests } = await run(once((_q, res) => writeChunks(res, ['id: 7\n\n'], { end: 'drop' })));
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests[1].headers['last-event-id']).toBe('7');
  });

  it('13: NUL in data', async () => {
    const { data } = await run(once((_q, res) => writeChunks(res, ['data:\0\n\n'])));
    expect(data).toEqual(['\u0000']);
  });

  it('14: an empty event name is a message', async () => {
    const { messages } = await run(once((_q, res) => writeChunks(res, ['event: \ndata:data\n\n'])));
    expect(messages.map((message) => [message.event, message.data])).toEqual([['message', 'data']]);
  });

  it('15: always UTF-8, whatever the charset says', async () => {
    const body = Buffer.concat([Buffer.from('data:ok'), Buffer.from([0xe2, 0x80, 0xa6]), Buffer.from('\n\n')]);
    const { data } = await run(once((_q, res) => writeChunks(res, [body], { contentType: 'text/event-stream;charset=windows-1252' })));
    expect(data).toEqual(['ok…']);
  });

  it('16: a 4-byte emoji split across chunks', async () => {
    const emoji = Buffer.from('✅🦷', 'utf8');
    const head = Buffer.concat([Buffer.from('data: '), emoji.subarray(0, 5)]);
    const tail = Buffer.concat([emoji.subarray(5), Buffer.from('\n\n')]);
    const { data } = await run(once((_q, res) => writeChunks(res, [head, tail])));
    expect(data).toEqual(['✅🦷']);
  });

  it('17: CRLF split across chunks', async () => {
    const { data } = await run(once((_q, res) => writeChunks(res, ['data: A\r\n', 'data: B\r', '\n', 'data: C\r\n', '\n'])));
    expect(data).toEqual(['A\nB\nC']);
  });

  it('18: CR, LF and CRLF line endings', async () => {
    const { data } = await run(once((_q, res) => writeChunks(res, ['data: cr\r\rdata: lf\n\ndata: crlf\r\n\r\n'])));
    expect(data).toEqual(['cr', 'lf', 'crlf']);
  });

  it('19: a field split across chunks', async () => {
    const { data } = await run(once((_q, res) => writeChunks(res, ['da', 'ta: hel', 'lo\n\n'])));
    expect(data).toEqual(['hello']);
  });

  it('20: a comment is a sign of life, not an event', async () => {
    const { signals, data } = await run(once((_q, res) => writeChunks(res, [': ping\n\n'])));
    expect(data).toEqual([]);
    expect(signals.filter((signal) => signal.type === 'comment')).toHaveLength(1);
  });

  it('21: a text/html answer is an error and never parsed', async () => {
    const { signals, data, requests } = await run((_q, res) => writeChunks(res, ['data: not an event\n\n'], { contentType: 'text/html' }));
    expect(data).toEqual([]);
    expect(requests).toHaveLength(1);
    const closed = signals.at(-1);
    expect(closed).toMatchObject({ type: 'closed', reason: 'fatal', error: { kind: 'content-type' } });
  });

  it('22: 204 ends the stream without retrying', async () => {
    const { signals, requests } = await run((_q, res) => void res.writeHead(204).end());
    await pause(100);
    expect(requests).toHaveLength(1);
    expect(signals.at(-1)).toMatchObject({ type: 'closed', reason: 'ended' });
  });

  it.each([401, 403, 404])('23: %i stops with the reason, no retry loop', async (status) => {
    const { signals, requests } = await run((_q, res) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ detail: 'Could not validate credentials' }));
    });
    await pause(100);
    expect(requests).toHaveLength(1);
    const closed = signals.at(-1);
    expect(closed).toMatchObject({ type: 'closed', reason: 'fatal', error: { status } });
    expect((closed as { error: { message: string } }).error.message).toContain(String(status));
  });

  it('24: 503 with Retry-After waits at least that long', async () => {
    const { requests } = await run(
      (_q, res, request) => {
        if (request.n === 0) res.writeHead(503, { 'Retry-After': '1' }).end();
        else res.writeHead(204).end();
      },
      { timeoutMs: 4000 },
    );
    expect(requests).toHaveLength(2);
    expect(requests[1].at - requests[0].at).toBeGreaterThanOrEqual(950);
  });

  it('gives up after the configured number of failed reconnects', async () => {
    const server = await startScriptServer((req) => {
      req.socket.destroy();
    });
    servers.push(server);
    const signals: SseSignal[] = [];
    await new Promise<void>((resolve) => {
      const connection = new SseConnection({
        url: server.url,
        reconnect: { baseMs: 5, maxReconnects: 3 },
        onSignal: (signal) => {
          signals.push(signal);
          if (signal.type === 'closed') resolve();
        },
      });
      connections.push(connection);
      connection.start();
    });
    expect(server.requests).toHaveLength(4); // the first try and three reconnects
    expect(signals.at(-1)).toMatchObject({ type: 'closed', reason: 'gave-up' });
  });
});
