/**
 * The wire scenario: one stream from the demo platform, read by genwatch's SSE client and by
 * the browser's native EventSource, in the same page. Both count the data they were handed.
 */
import { SseConnection } from '../../src/transports/sse';

interface WireResult {
  client: string;
  events: number;
  megabytes: number;
  seconds: number;
  megabytesPerSecond: number;
}

function result(client: string, events: number, bytes: number, startedAt: number): WireResult {
  const seconds = (performance.now() - startedAt) / 1000;
  const megabytes = bytes / 1e6;
  return {
    client,
    events,
    megabytes: Number(megabytes.toFixed(2)),
    seconds: Number(seconds.toFixed(3)),
    megabytesPerSecond: Number((megabytes / seconds).toFixed(2)),
  };
}

function genwatchClient(url: string, expected: number): Promise<WireResult> {
  return new Promise((resolve, reject) => {
    let events = 0;
    let bytes = 0;
    const startedAt = performance.now();
    const connection = new SseConnection({
      url,
      reconnect: { onEnd: false, maxReconnects: 0 },
      onSignal: (signal) => {
        if (signal.type === 'message') {
          events++;
          bytes += signal.data.length;
        } else if (signal.type === 'closed') {
          if (events === expected) resolve(result('genwatch SseConnection', events, bytes, startedAt));
          else reject(new Error(`genwatch client: ${events} of ${expected} events (${signal.reason})`));
        }
      },
    });
    connection.start();
  });
}

function nativeClient(url: string, expected: number): Promise<WireResult> {
  return new Promise((resolve, reject) => {
    let events = 0;
    let bytes = 0;
    const startedAt = performance.now();
    const source = new EventSource(url);
    source.onmessage = (message) => {
      events++;
      bytes += (message.data as string).length;
      if (events === expected) {
        source.close();
        resolve(result('native EventSource', events, bytes, startedAt));
      }
    };
    source.onerror = () => {
      if (events < expected) {
        source.close();
        reject(new Error(`EventSource: ${events} of ${expected} events`));
      }
    };
  });
}

(window as unknown as { wire: unknown }).wire = {
  genwatch: (url: string, expected: number) => genwatchClient(url, expected),
  native: (url: string, expected: number) => nativeClient(url, expected),
};
