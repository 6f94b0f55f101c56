import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { WsConnection, type WsSignal } from '../../src/transports/websocket';

// The WebSocket transport against a real server on loopback (Node 20 has no WebSocket of
// its own, so the `ws` client stands in for the browser's).

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(onConnection: (socket: import('ws').WebSocket, n: number) => void) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  let n = 0;
  server.on('connection', (socket) => onConnection(socket, n++));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`, connections: () => n };
}

function run(url: string, maxReconnects = 3) {
  const signals: WsSignal[] = [];
  return new Promise<WsSignal[]>((resolve) => {
    new WsConnection({
      url,
      reconnect: { baseMs: 5, maxReconnects },
      WebSocket: NodeWebSocket as unknown as typeof WebSocket,
      onSignal: (signal) => {
        signals.push(signal);
        if (signal.type === 'closed') resolve(signals);
      },
    }).start();
  });
}

describe('WsConnection', () => {
  it('delivers messages and ends on 1000', async () => {
    const server = await serve((socket) => {
      socket.send('{"a":1}');
      socket.send('{"a":2}');
      socket.close(1000);
    });
    const signals = await run(server.url);
    expect(signals.filter((signal) => signal.type === 'message').map((signal) => (signal as { data: string }).data)).toEqual(['{"a":1}', '{"a":2}']);
    expect(signals.at(-1)).toMatchObject({ type: 'closed', reason: 'ended', code: 1000 });
    expect(server.connections()).toBe(1);
  });

  it.each([1008, 4001])('stops on policy close %i without a retry loop', async (code) => {
    const server = await serve((socket) => socket.close(code, 'token expired'));
    const signals = await run(server.url);
    expect(signals.at(-1)).toMatchObject({ type: 'closed', reason: 'fatal', code });
    expect(server.connections()).toBe(1);
  });

  it.each([1002, 1003, 1007, 1009, 3000])('stops on %i (the data or protocol is wrong: trying again will not help)', async (code) => {
    const server = await serve((socket) => socket.close(code));
    const signals = await run(server.url);
    expect(signals.at(-1)).toMatchObject({ type: 'closed', reason: 'fatal', code, error: { closeCode: code, retryable: false } });
    expect(signals.some((signal) => signal.type === 'retrying')).toBe(false);
    expect(server.connections()).toBe(1);
  });

  it.each([1001, 1011, 1012, 1013])('reconnects after %i, then gives up after its budget', async (code) => {
    const server = await serve((socket) => socket.close(code));
    const signals = await run(server.url, 2);
    expect(signals.filter((signal) => signal.type === 'retrying')).toHaveLength(2);
    expect(signals.at(-1)).toMatchObject({ type: 'closed', reason: 'gave-up' });
    expect(server.connections()).toBe(3);
  });

  it('reconnects after an abnormal close (1006) and carries on', async () => {
    const server = await serve((socket, n) => {
      if (n === 0) socket.terminate();
      else {
        socket.send('back');
        socket.close(1000);
      }
    });
    const signals = await run(server.url);
    expect(signals.find((signal) => signal.type === 'retrying')).toMatchObject({ error: { kind: 'socket', closeCode: 1006 } });
    expect(signals.filter((signal) => signal.type === 'message')).toHaveLength(1);
    expect(signals.at(-1)).toMatchObject({ reason: 'ended' });
  });
});
