/**
 * The obvious store: one deep ref holding every job and every event, one reactive write per
 * event, applied the moment it arrives.
 */
import { ref, toRaw } from 'vue';
import type { JobEvent } from '../../src/model/events';
import { newJob, type Job, type StepSample } from '../../src/model/job';
import { reduceJob } from '../../src/model/reducer';

export const state = ref<{ jobs: Record<string, Job>; events: JobEvent[]; version: number }>({ jobs: {}, events: [], version: 0 });

const sampleListeners = new Map<string, (sample: StepSample) => void>();

export function onSample(key: string, listener: (sample: StepSample) => void): void {
  sampleListeners.set(key, listener);
}

export function ingestEvent(event: JobEvent): void {
  // the shared reducer reads the plain job (through the proxy it would make every sample reactive)
  const current = toRaw(state.value.jobs[event.key]) ?? newJob(event.sourceId, event.jobId, event.platform);
  state.value.jobs[event.key] = reduceJob(current, event);
  state.value.events.push(event);
  state.value.version++;
  if (event.kind === 'update' && event.update.sample) sampleListeners.get(event.key)?.(event.update.sample);
}
