import { createParser } from 'eventsource-parser';
import type { JobEvent } from '../../src/model/events';
import type { Job } from '../../src/model/job';

export type Relayed = JobEvent & { seq: number };

/**
 * A dashboard's stream from a relay, read as the dashboard reads it (fetch, SSE), for tests
 * and the benchmark: what arrived, the last id, and the connection id for subscriptions.
 */
export async function openRelayStream(
  relayUrl: string,
  token: string,
  { open, visible, lastEventId }: { open?: string[]; visible?: string[]; lastEventId?: string } = {},
) {
  const controller = new AbortController();
  const response = await fetch(`${relayUrl}/v1/stream`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) },
    body: JSON.stringify({ open, visible }),
    signal: controller.signal,
  });
  if (!response.ok) throw new Error(`relay answered ${response.status}`);
  const state = {
    connection: '',
    lastEventId: '',
    snapshot: undefined as Job[] | undefined,
    events: [] as Relayed[],
    /** receive time of every event, by seq */
    receivedAt: new Map<number, number>(),
    ended: false,
  };
  const parser = createParser({
    onEvent(message) {
      if (message.id !== undefined) state.lastEventId = message.id;
      if (message.event === 'hello') state.connection = JSON.parse(message.data).connection;
      else if (message.event === 'snapshot') state.snapshot = JSON.parse(message.data);
      else if (message.event === 'events') {
        const now = performance.now();
        for (const event of JSON.parse(message.data) as Relayed[]) {
          state.events.push(event);
          state.receivedAt.set(event.seq, now);
        }
      }
    },
  });
  const reading = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body!) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    } catch {
      // aborted
    }
    state.ended = true;
  })();
  return {
    state,
    async subscribe(interest: { open?: string[]; visible?: string[] }) {
      const answer = await fetch(`${relayUrl}/v1/subscriptions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ connection: state.connection, ...interest }),
      });
      if (!answer.ok) throw new Error(`subscription answered ${answer.status}`);
    },
    async close() {
      controller.abort();
      await reading;
    },
  };
}

/** A relay's JSON API with the token, for tests. */
export function relayApi(relayUrl: string, token: string) {
  return async (path: string, body?: unknown) => {
    const response = await fetch(`${relayUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => undefined) };
  };
}
