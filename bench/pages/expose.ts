import * as scenarios from './scenarios';
import type { ChartWork } from './measure';
import type { CodebegenLoad } from './load';
import type { Subject } from './subject';

export interface BenchApi {
  subject: string;
  ingest: (options?: object) => ReturnType<typeof scenarios.ingest>;
  sustainable: (options?: object) => ReturnType<typeof scenarios.sustainable>;
  burst: (options?: object) => ReturnType<typeof scenarios.burst>;
  board: (options?: object) => ReturnType<typeof scenarios.board>;
  charts: (options?: object) => ReturnType<typeof scenarios.charts>;
  memorySetup: (jobs: number) => Promise<void>;
  memoryStep: (count: number, timeoutMs: number) => ReturnType<typeof scenarios.memoryStep>;
}

/** What the runner calls through page.evaluate: one scenario per page load. */
export function exposeBench(subject: Subject, work: ChartWork): void {
  let memoryLoad: CodebegenLoad | undefined;
  const api: BenchApi = {
    subject: subject.name,
    ingest: (options) => scenarios.ingest(subject, options),
    sustainable: (options) => scenarios.sustainable(subject, options),
    burst: (options) => scenarios.burst(subject, options),
    board: (options) => scenarios.board(subject, options),
    charts: (options) => scenarios.charts(subject, work, options),
    async memorySetup(jobs) {
      memoryLoad = await scenarios.memorySetup(subject, jobs);
    },
    memoryStep: (count, timeoutMs) => scenarios.memoryStep(subject, memoryLoad!, count, timeoutMs),
  };
  (window as unknown as { bench: BenchApi }).bench = api;
}
