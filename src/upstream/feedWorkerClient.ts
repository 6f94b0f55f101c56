import { historyOptionsFromSettings } from '../persistence/history';
import type { FeedWorkerMessage } from './feedWorker';

/** how long a tab waits for the feed worker before it shares feeds with the other tabs itself */
const WORKER_START_TIMEOUT_MS = 5000;

/** Whether this browser can run the feeds in a worker every tab shares (Chrome on Android, for one, cannot). */
export function feedWorkerAvailable(): boolean {
  return typeof SharedWorker === 'function';
}

/** kept for the page's life: the worker runs while any tab of the dashboard holds it */
let worker: SharedWorker | undefined;

/**
 * Starts the browser's feed worker, or connects to the one running. Resolves once it holds the
 * feed lock (a tab that asks for it next only shows what the worker brings): true, or false when
 * it could not start in time, and the tabs share their feeds among themselves.
 */
export function startFeedWorker(): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (running: boolean) => {
      clearTimeout(timer);
      resolve(running);
    };
    const timer = setTimeout(() => settle(false), WORKER_START_TIMEOUT_MS);
    try {
      worker ??= new SharedWorker(new URL('./feedWorker.ts', import.meta.url), { type: 'module', name: 'genwatch-feeds' });
    } catch {
      return settle(false);
    }
    worker.onerror = () => settle(false);
    worker.port.onmessage = (event: MessageEvent<FeedWorkerMessage>) => {
      if (event.data.type === 'ready') settle(true);
      else if (event.data.type === 'failed') settle(false);
    };
    worker.port.start();
    worker.port.postMessage({ type: 'hello', history: historyOptionsFromSettings() } satisfies FeedWorkerMessage);
  });
}
