import type { BenchMessage } from './load';

/** One implementation of the pipeline under measure: genwatch's, or the naive baseline. */
export interface Subject {
  name: 'genwatch' | 'naive';
  /** the board of all jobs, on screen, with nothing on it yet */
  mountBoard(): Promise<void>;
  /** one step chart per image task, on screen */
  mountCharts(taskIds: readonly string[]): Promise<void>;
  /** wire messages of one platform: through its dialect, into the store */
  ingest(platform: 'codebegen' | 'imagegen', messages: readonly BenchMessage[]): void;
  /** events ingested and not yet applied to what is on screen */
  backlog(): number;
  /** called after every DOM update that applied events */
  onDomUpdate(callback: () => void): void;
  /** the element that scrolls the board */
  boardScroller(): HTMLElement;
  /** job rows in the DOM now */
  domRows(): number;
}
