/// <reference lib="webworker" />
import { loadFacts } from '../persistence/facts';
import { computeInsights, FactTable, type Insights, type InsightsQuery } from './compute';
import type { JobFacts } from '../model/facts';

// Off the main thread: holds every kept fact, as columns in end-time order, and answers each window.

export type InsightsRequest =
  | { type: 'load' }
  /** jobs that finished since (or that the page knows and the database may not) */
  | { type: 'add'; facts: JobFacts[] }
  /** a given history instead of the stored one (benchmarks, demos) */
  | { type: 'replace'; facts: JobFacts[] }
  | { type: 'query'; id: number; query: InsightsQuery };

export type InsightsReply =
  { type: 'loaded'; stored: number; error?: string } | { type: 'result'; id: number; insights: Insights; computeMs: number; stored: number };

const byKey = new Map<string, JobFacts>();
/** the facts as columns, made again only when a fact was added since */
let table: FactTable | undefined;

function add(facts: readonly JobFacts[]): void {
  for (const fact of facts) {
    // a finished job's facts do not change: the page sends the ones it knows again and again
    if (byKey.has(fact.key)) continue;
    byKey.set(fact.key, fact);
    table = undefined;
  }
}

function columns(): FactTable {
  table ??= new FactTable([...byKey.values()].sort((a, b) => a.finishedAt - b.finishedAt));
  return table;
}

const post = (reply: InsightsReply) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(reply);

self.onmessage = async (message: MessageEvent<InsightsRequest>) => {
  const request = message.data;
  switch (request.type) {
    case 'load':
      try {
        add(await loadFacts());
        post({ type: 'loaded', stored: byKey.size });
      } catch (error) {
        post({ type: 'loaded', stored: byKey.size, error: `The stored history could not be read: ${(error as Error).message}` });
      }
      return;
    case 'add':
      add(request.facts);
      // made now, while nobody waits, rather than when the next window is asked for
      if (!table) setTimeout(columns, 0);
      return;
    case 'replace':
      byKey.clear();
      table = undefined;
      add(request.facts);
      return;
    case 'query': {
      const started = performance.now();
      const insights = computeInsights(columns(), request.query);
      post({ type: 'result', id: request.id, insights, computeMs: performance.now() - started, stored: byKey.size });
      return;
    }
  }
};
