/**
 * Property-based tests of the event path: generated and mutated wire messages of every
 * platform go through its dialect and the reducer, and the job must stay sound whatever
 * arrives, in whatever order.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { JobEvent } from '../../src/model/events';
import { isTerminal, newJob, type Job, type PlatformKind } from '../../src/model/job';
import { reduceJob } from '../../src/model/reducer';
import { dialectFor, PLATFORM_KINDS } from '../../src/protocols';
import type { WireMessage } from '../../src/protocols/dialect';
import type { Source } from '../../src/protocols/source';

const JOB = 'job-1';
const source = (kind: PlatformKind): Source => ({ id: kind, name: kind, kind, baseUrl: 'http://127.0.0.1:9000', token: 'secret-token' });

/** values a hostile or broken platform might put in any field */
const hostileValue = fc.oneof(
  fc.constantFrom(null, -1, -0.5, 101, 1e308, -1e308, 0, 1, 100, '50', 'NaN', '', 'completed', 'bogus', true, [], {}),
  fc.constantFrom(
    '<img src=x onerror=alert(1)>',
    '<script>alert(1)</script>',
    'javascript:alert(1)',
    '\u202Egnp.exe',
    'a\u200Bb',
    '\uD800',
    'x'.repeat(10_000),
  ),
  fc.double(),
  fc.integer(),
  fc.string(),
  fc.jsonValue({ maxDepth: 2 }),
);

/** a message shaped as the platform sends it, before mutation */
const shaped: Record<PlatformKind, fc.Arbitrary<{ event: string; payload: Record<string, unknown> }>> = {
  codebegen: fc
    .record({
      generation_id: fc.constantFrom(JOB, JOB, JOB, 'other-job'),
      // the guide's statuses and those the platform's code sends
      status: fc.constantFrom(
        'connected',
        'processing',
        'completed',
        'failed',
        'error',
        'timeout',
        'disconnected',
        'heartbeat',
        'stream_closing',
        'warning',
        'critical_error',
        'pending',
      ),
      stage: fc.constantFrom(
        'initializing',
        'code_generation',
        'finalizing',
        'phase_1_complete',
        'error',
        'connected',
        'iteration_complete',
        'iteration_error',
        'terminal',
        'complete',
        'active',
      ),
      progress: fc.double({ min: -0.5, max: 1.5, noNaN: true }),
      message: fc.string(),
      timestamp: fc.oneof(
        fc.double({ min: 1.7e9, max: 1.8e9, noNaN: true }),
        fc.constant(null),
        fc.constantFrom('2026-02-13T10:11:12.123456', '1760660674205'),
      ),
      ab_group: fc.constant(null),
      partial_output: fc.constant(null),
      estimated_time_remaining: fc.option(fc.integer({ min: -10, max: 1000 })),
      current_file: fc.option(fc.string()),
      phase_info: fc.option(
        fc.record({ phase: fc.integer({ min: -1, max: 9 }), total_phases: fc.integer({ min: 0, max: 9 }), files_generated: fc.integer({ min: -1, max: 50 }) }),
      ),
    })
    .map((payload) => ({ event: 'message', payload })),
  takoss: fc
    .record({
      type: fc.constantFrom('phase_start', 'phase_complete', 'phase_progress', 'progress', 'complete', 'result', 'error'),
      phase: fc.constantFrom('initialization', 'analysis', 'generation', 'complete'),
      message: fc.string(),
      progress: fc.integer({ min: -20, max: 150 }),
      data: fc.option(fc.record({ success: fc.boolean(), projectId: fc.string(), visualization: fc.constant('<html><script>alert(1)</script></html>') })),
    })
    .map((payload) => ({ event: 'message', payload })),
  // the guide's typed events, and the platform's own (flat, renamed on /api/stream, or raw from /api/generate)
  smartforge: fc
    .constantFrom(
      'project:created',
      'step:start',
      'step:progress',
      'file:generating',
      'code:chunk',
      'chunk',
      'file:complete',
      'deps:progress',
      'preview:ready',
      'thinking',
      'complete',
      'error',
      'heartbeat',
    )
    .chain((type) =>
      fc
        .record({
          type: fc.constant(type),
          projectId: fc.constantFrom('job-1', 'job-1', 'job-2', undefined),
          timestamp: fc.constantFrom('2025-10-01T10:00:00.000Z', 'yesterday', '', 1_760_000_000_000),
          step: fc.constantFrom('Planning', 'Generating', 'Validating', 'Complete', 'Deploying', 'thinking', 'deps:progress'),
          path: fc.constantFrom('index.js', 'src/a.ts', '../../etc/passwd', '<b>x</b>.js', undefined),
          filename: fc.constantFrom('index.js', undefined),
          chunk: fc.string(),
          content: fc.string(),
          progress: fc.integer({ min: -10, max: 200 }),
          index: fc.integer({ min: -1, max: 5 }),
          total: fc.integer({ min: 0, max: 5 }),
          message: fc.string(),
        })
        .map((payload) => ({ event: type, payload })),
    ),
  imagegen: fc
    .record({
      type: fc.constantFrom('progress', 'progress', 'keep-alive', 'status', 'pong'),
      task_id: fc.constantFrom(JOB, JOB, 'task-2'),
      status: fc.constantFrom('pending', 'generating', 'completed', 'failed'),
      current_step: fc.integer({ min: -1, max: 60 }),
      total_steps: fc.integer({ min: 0, max: 50 }),
      percentage: fc.double({ min: -10, max: 200, noNaN: true }),
      current_stage: fc.constantFrom('base_model', 'refiner_model', ''),
      error: fc.constantFrom(null, 'Out of memory'),
      elapsed_time: fc.double({ min: 0, max: 100, noNaN: true }),
      estimated_remaining: fc.double({ min: -5, max: 100, noNaN: true }),
      timestamp: fc.constantFrom('2025-12-17T05:24:35.123Z', '2025-12-17T07:24:35.123456', 'not a date'),
      image_url: fc.option(fc.constantFrom('http://127.0.0.1:9000/media/a.svg', 'javascript:alert(1)', 'https://evil.example/x.png')),
    })
    .map((payload) => ({ event: 'message', payload })),
  // ComfyUI's {type, data}: the execution messages, for this prompt or another, and the broadcast ones
  comfyui: fc
    .record({
      type: fc.constantFrom(
        'execution_start',
        'execution_cached',
        'executing',
        'progress',
        'executed',
        'execution_success',
        'execution_error',
        'status',
        'progress_state',
      ),
      data: fc.record({
        prompt_id: fc.constantFrom(JOB, JOB, 'other-prompt'),
        node: fc.constantFrom('3', '9', 7, null),
        value: fc.integer({ min: -1, max: 30 }),
        max: fc.integer({ min: 0, max: 25 }),
        nodes: fc.constantFrom(['4'], [], 'x'),
        output: fc.constantFrom(null, { images: [{ filename: 'a.png', subfolder: '', type: 'output' }] }, { images: [{ filename: '../x', type: 'temp' }] }),
        exception_message: fc.string(),
        timestamp: fc.oneof(fc.integer({ min: 1_760_000_000_000, max: 1_770_000_000_000 }), fc.constant('noon')),
      }),
    })
    .map((payload) => ({ event: 'message', payload })),
};

/** a platform message, then: kept, a field set to a hostile value, a field removed, or bytes broken */
function wire(kind: PlatformKind): fc.Arbitrary<WireMessage> {
  return fc
    .tuple(shaped[kind], fc.nat({ max: 3 }), fc.string({ maxLength: 12 }), hostileValue, fc.nat())
    .map(([{ event, payload }, mutation, field, value, cut]) => {
      const keys = Object.keys(payload);
      const target = keys[cut % keys.length];
      let data: string;
      if (mutation === 1) data = JSON.stringify({ ...payload, [target]: value });
      else if (mutation === 2) {
        const { [target]: _dropped, ...rest } = payload;
        data = JSON.stringify({ ...rest, [field]: value });
      } else if (mutation === 3) data = JSON.stringify(payload).slice(0, cut % 40);
      else data = JSON.stringify(payload);
      return { data, event, lastEventId: '' };
    });
}

const TERMINAL_FIRST = (events: readonly Job[]) => events.find((job) => isTerminal(job.status))?.status;

describe.each(PLATFORM_KINDS)('%s: any sequence of messages', (kind) => {
  const dialect = dialectFor(kind)!;

  it('never throws, keeps progress within 0-100 and never lowers it, keeps a finished job finished, and counts every event', () => {
    fc.assert(
      fc.property(fc.array(wire(kind), { maxLength: 40 }), (messages) => {
        let job = newJob(kind, JOB, kind);
        const history: Job[] = [];
        let counted = 0;
        let errors = 0;
        let unknown = 0;
        for (const message of messages) {
          const events: JobEvent[] = dialect.parseStreamMessage(
            { source: source(kind), jobId: JOB, receivedAt: 1_760_000_000_000, variant: message.data.length % 2 ? 'iteration' : undefined },
            message,
          );
          for (const event of events) {
            expect(event.jobId).toBe(JOB);
            expect(event.key).toBe(`${kind}/${JOB}`);
            const before = job;
            job = reduceJob(job, event);
            if (event.kind === 'update' || event.kind === 'notice' || event.kind === 'protocol-error' || event.kind === 'unrecognized' || event.kind === 'link')
              counted++;
            if (event.kind === 'protocol-error') errors++;
            if (event.kind === 'unrecognized') unknown++;
            expect(Number.isFinite(job.progress)).toBe(true);
            expect(job.progress).toBeGreaterThanOrEqual(0);
            expect(job.progress).toBeLessThanOrEqual(100);
            expect(job.progress).toBeGreaterThanOrEqual(before.progress);
            if (isTerminal(before.status)) expect(job.status).toBe(before.status);
            for (const sample of job.samples) expect(Number.isFinite(sample.step) && Number.isFinite(sample.elapsed)).toBe(true);
            if (job.imageUrl) expect(job.imageUrl.startsWith('http://127.0.0.1:9000/')).toBe(true);
            history.push(job);
          }
        }
        expect(job.eventCount).toBe(counted);
        expect(job.protocolErrors).toBe(errors);
        expect(job.unrecognized).toBe(unknown);
        const firstTerminal = TERMINAL_FIRST(history);
        if (firstTerminal) expect(job.status).toBe(firstTerminal);
      }),
      { numRuns: 1000 },
    );
  }, 20_000);

  it('ends in the same state whatever order the same messages arrive in, for status and progress', () => {
    fc.assert(
      fc.property(
        fc
          .array(wire(kind), { maxLength: 25 })
          .chain((messages) => fc.tuple(fc.constant(messages), fc.shuffledSubarray(messages, { minLength: messages.length, maxLength: messages.length }))),
        ([inOrder, shuffled]) => {
          const fold = (list: WireMessage[]) =>
            list
              .flatMap((message) => dialect.parseStreamMessage({ source: source(kind), jobId: JOB, receivedAt: 1_760_000_000_000 }, message))
              .reduce(reduceJob, newJob(kind, JOB, kind));
          const a = fold(inOrder);
          const b = fold(shuffled);
          // counts never depend on order; finished or not never depends on order
          expect(b.eventCount).toBe(a.eventCount);
          expect(b.protocolErrors).toBe(a.protocolErrors);
          expect(b.unrecognized).toBe(a.unrecognized);
          expect(isTerminal(b.status)).toBe(isTerminal(a.status));
        },
      ),
      { numRuns: 200 },
    );
  });
});
