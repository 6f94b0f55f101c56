/** Platform messages as they come off the wire, generated in the page at the rate a scenario asks. */
import type { JobEvent } from '../../src/model/events';
import { dialectFor } from '../../src/protocols';
import type { Source } from '../../src/protocols/source';

const STAGES = ['initializing', 'analyzing_requirements', 'generating_models', 'generating_routes', 'code_generation', 'writing_tests', 'finalizing'];
const FILES = ['app/main.py', 'app/models.py', 'app/routes/users.py', 'app/db.py', 'tests/test_users.py', 'README.md'];

export interface BenchMessage {
  jobId: string;
  /** the SSE data or WebSocket message */
  data: string;
  id: string;
  /** platform time of the message, ms since the epoch */
  at: number;
}

export const jobIdOf = (index: number) => `gen_bench_${String(index).padStart(5, '0')}`;

/** CodeBegen progress events, spread round-robin over `jobs` generations */
export class CodebegenLoad {
  private sequence = 0;
  private readonly perJob: number[];

  constructor(readonly jobs: number) {
    this.perJob = new Array(jobs).fill(0);
  }

  /** one event for each job: they all exist and run */
  opening(): BenchMessage[] {
    return Array.from({ length: this.jobs }, (_, index) => this.message(index));
  }

  next(count: number): BenchMessage[] {
    const out = new Array<BenchMessage>(count);
    for (let i = 0; i < count; i++) out[i] = this.message(this.sequence++ % this.jobs);
    return out;
  }

  /** one event for each of `count` random jobs */
  random(count: number): BenchMessage[] {
    return Array.from({ length: count }, () => this.message(Math.floor(Math.random() * this.jobs)));
  }

  private message(index: number): BenchMessage {
    const n = ++this.perJob[index];
    const at = performance.timeOrigin + performance.now();
    const jobId = jobIdOf(index);
    // progress climbs slowly and never finishes: every job stays live for the whole run
    const progress = Math.min(0.99, n / 5000);
    const data = JSON.stringify({
      generation_id: jobId,
      status: 'processing',
      stage: STAGES[Math.floor(progress * STAGES.length)],
      progress,
      message: `Writing ${FILES[n % FILES.length]} (${n})`,
      current_file: FILES[n % FILES.length],
      estimated_time_remaining: Math.max(1, 600 - n / 10),
      timestamp: at / 1000,
    });
    return { jobId, data, id: String(n), at };
  }
}

/** Image generation progress messages: a step each, base model then refiner */
export function imagegenStep(taskId: string, step: number, totalSteps: number): BenchMessage {
  const at = performance.timeOrigin + performance.now();
  const half = totalSteps / 2;
  const stage = step <= half ? 'base_model' : 'refiner_model';
  const data = JSON.stringify({
    type: 'progress',
    task_id: taskId,
    status: 'generating',
    current_stage: stage,
    current_step: stage === 'base_model' ? step : step - half,
    total_steps: half,
    percentage: (step / totalSteps) * 100,
    elapsed_time: step * 0.05,
    estimated_remaining: (totalSteps - step) * 0.05,
    message: `Step ${step} of ${totalSteps}`,
    timestamp: new Date(at).toISOString(),
  });
  return { jobId: taskId, data, id: String(step), at };
}

/** The sources both subjects read the messages as: replays, so nothing is ever fetched. */
export const BENCH_SOURCES: Record<'codebegen' | 'imagegen', Source> = {
  codebegen: { id: 'bench-codebegen', name: 'CodeBegen (bench)', kind: 'codebegen', baseUrl: 'http://bench.invalid', replay: true },
  imagegen: { id: 'bench-imagegen', name: 'Images (bench)', kind: 'imagegen', baseUrl: 'http://bench.invalid', replay: true },
};

/** Messages through their platform's real dialect, as a stream would hand them over. */
export function parseMessages(platform: 'codebegen' | 'imagegen', messages: readonly BenchMessage[]): JobEvent[] {
  const source = BENCH_SOURCES[platform];
  const dialect = dialectFor(source.kind)!;
  const receivedAt = Date.now();
  const events: JobEvent[] = [];
  for (const message of messages) {
    events.push(
      ...dialect.parseStreamMessage(
        { source, jobId: message.jobId, receivedAt },
        { data: message.data, event: 'message', id: message.id, lastEventId: message.id },
      ),
    );
  }
  return events;
}
