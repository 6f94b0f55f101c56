// The simulated dashboards of the relay benchmark, in a process of their own so that their
// parsing does not slow the publisher down: forked by relay.mjs, told where to connect, asked
// for what they saw when the run is over.
import { createParser } from 'eventsource-parser';

const TOKEN = process.env.RELAY_TOKEN;

/** A simulated dashboard: one SSE stream to a relay, resumed on another when it drops. */
function simulatedViewer(relayUrls, interest) {
  const state = { latencies: [], received: 0, openSeqs: new Set(), lastEventId: '', reconnects: 0, connection: '' };
  let controller;
  let stopped = false;
  let urlIndex = 0;
  const watched = new Set([...interest.open, ...interest.visible]);
  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const response = await fetch(`${relayUrls[urlIndex]}/v1/stream`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${TOKEN}`,
            'Content-Type': 'application/json',
            ...(state.lastEventId ? { 'Last-Event-ID': state.lastEventId } : {}),
          },
          body: JSON.stringify(interest),
          signal: controller.signal,
        });
        const parser = createParser({
          onEvent(message) {
            if (message.id !== undefined) state.lastEventId = message.id;
            if (message.event === 'hello') state.connection = JSON.parse(message.data).connection;
            if (message.event !== 'events') return;
            const now = Date.now();
            for (const event of JSON.parse(message.data)) {
              state.received++;
              if (watched.has(event.key) && !state.resuming) state.latencies.push(now - event.at);
              if (interest.open.includes(event.key)) state.openSeqs.add(event.seq);
            }
          },
        });
        const decoder = new TextDecoder();
        for await (const chunk of response.body) parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // dropped: resume below
      }
      if (stopped) return;
      // the relay went away: the next one, from the last id
      state.reconnects++;
      state.resuming = true;
      setTimeout(() => (state.resuming = false), 2000);
      urlIndex = Math.min(urlIndex + 1, relayUrls.length - 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const running = run();
  return {
    state,
    interest,
    async stop() {
      stopped = true;
      controller?.abort();
      await running;
    },
  };
}

let viewers = [];
process.on('message', async (message) => {
  if (message.type === 'start') {
    viewers = message.viewers.map(({ urls, interest }) => simulatedViewer(urls, interest));
    process.send({ type: 'started' });
  } else if (message.type === 'newest') {
    // per viewer, the newest sequence of its open job it has
    process.send({ type: 'newest', seqs: viewers.map((viewer) => Math.max(0, ...viewer.state.openSeqs)) });
  } else if (message.type === 'stop') {
    await Promise.all(viewers.map((viewer) => viewer.stop()));
    process.send({
      type: 'results',
      viewers: viewers.map((viewer) => ({
        latencies: viewer.state.latencies,
        received: viewer.state.received,
        reconnects: viewer.state.reconnects,
        openSeqs: [...viewer.state.openSeqs],
      })),
    });
  }
});
