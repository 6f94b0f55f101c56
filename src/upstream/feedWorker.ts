/// <reference lib="webworker" />
import type { HistoryOptions } from '../persistence/history';
import { TabUpstream } from './tabs';
import { WorkerBoard } from './workerBoard';

// The browser's feed layer, off every page's main thread: transports, dialects, order buffers,
// feeds, stream budgets, discovery and history writes run here once for all of the dashboard's
// tabs, which only render what it sends. It takes the tabs' feed lock and speaks their protocol,
// so that should it ever go away, a tab takes the feeds over as it would from another tab.

/** what a tab says when it connects, and what the worker answers */
export type FeedWorkerMessage = { type: 'hello'; history: HistoryOptions } | { type: 'ready'; leads: boolean } | { type: 'failed'; message: string };

const scope = self as unknown as SharedWorkerGlobalScope;
let started: Promise<boolean> | undefined;

/** the feeds run once, with the history limits of the first tab that connected */
function start(history: HistoryOptions): Promise<boolean> {
  started ??= (async () => {
    const board = new WorkerBoard(history);
    await board.restore();
    const feeds = new TabUpstream(board, (port, overrides) => board.direct(port, overrides), 'worker');
    board.followedBy(feeds);
    return feeds.start();
  })();
  return started;
}

scope.onconnect = (connected) => {
  const port = connected.ports[0];
  const reply = (message: FeedWorkerMessage) => port.postMessage(message);
  port.onmessage = (event: MessageEvent<FeedWorkerMessage>) => {
    if (event.data.type !== 'hello') return;
    start(event.data.history).then(
      (leads) => reply({ type: 'ready', leads }),
      (error: unknown) => reply({ type: 'failed', message: error instanceof Error ? error.message : String(error) }),
    );
  };
  port.start();
};
