import type { Insights, InsightsQuery } from './compute';
import type { JobFacts } from '../model/facts';
import type { InsightsReply, InsightsRequest } from './worker';

export interface InsightsAnswer {
  insights: Insights;
  /** time the worker spent on the figures, ms */
  computeMs: number;
  /** facts the worker holds */
  stored: number;
}

/** The page's side of the insights worker: a query in, its figures out; only the newest query's answer is used. */
export class InsightsClient {
  private readonly worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'genwatch-insights' });
  private nextId = 0;
  private readonly waiting = new Map<number, (answer: InsightsAnswer) => void>();
  private onLoaded: ((reply: { stored: number; error?: string }) => void) | undefined;
  /** resolves once the stored history is in the worker */
  readonly loaded: Promise<{ stored: number; error?: string }>;

  constructor({ stored = true }: { stored?: boolean } = {}) {
    this.loaded = new Promise((resolve) => (this.onLoaded = resolve));
    this.worker.onmessage = (message: MessageEvent<InsightsReply>) => {
      const reply = message.data;
      if (reply.type === 'loaded') this.onLoaded?.(reply);
      else {
        this.waiting.get(reply.id)?.({ insights: reply.insights, computeMs: reply.computeMs, stored: reply.stored });
        this.waiting.delete(reply.id);
      }
    };
    if (stored) this.send({ type: 'load' });
    else this.onLoaded?.({ stored: 0 });
  }

  private send(request: InsightsRequest): void {
    this.worker.postMessage(request);
  }

  add(facts: JobFacts[]): void {
    if (facts.length) this.send({ type: 'add', facts });
  }

  replace(facts: JobFacts[]): void {
    this.send({ type: 'replace', facts });
  }

  query(query: InsightsQuery): Promise<InsightsAnswer> {
    const id = ++this.nextId;
    // a newer query makes older ones moot: they never resolve
    this.waiting.clear();
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.send({ type: 'query', id, query: { ...query } });
    });
  }

  terminate(): void {
    this.worker.terminate();
    this.waiting.clear();
  }
}
