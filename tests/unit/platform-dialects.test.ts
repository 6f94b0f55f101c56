import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/model/events';
import { newJob } from '../../src/model/job';
import { reduceJob } from '../../src/model/reducer';
import { codebegenDialect } from '../../src/protocols/codebegen';
import { imagegenDialect } from '../../src/protocols/imagegen';
import { parseLaunch } from '../../src/protocols/launch';
import type { Source } from '../../src/protocols/source';
import { smartforgeDialect } from '../../src/protocols/smartforge';
import { takossDialect } from '../../src/protocols/takoss';

// Wire samples as the integration guides print them, and broken ones.

const source = (kind: Source['kind']): Source => ({ id: kind, name: kind, kind, baseUrl: 'http://127.0.0.1:9000', token: 'secret-token' });
const context = (kind: Source['kind'], jobId: string) => ({ source: source(kind), jobId, receivedAt: 1_760_660_680_000 });
const message = (data: unknown, event = 'message') => ({ data: typeof data === 'string' ? data : JSON.stringify(data), event, lastEventId: '' });
const fold = (kind: Source['kind'], jobId: string, events: JobEvent[]) => events.reduce(reduceJob, newJob(kind, jobId, kind));

describe('CodeBegen iteration samples', () => {
  const id = 'e96b74bc-aba8-4837-bb43-237fd687d18b';
  const ctx = context('codebegen', id);
  const samples = [
    {
      generation_id: id,
      status: 'processing',
      stage: 'initializing',
      progress: 0.1,
      message: 'Starting classic generation...',
      generation_mode: 'classic',
      timestamp: 1760660674.205,
    },
    {
      generation_id: id,
      status: 'processing',
      stage: 'phased_generation_started',
      progress: 0.05,
      message: 'Starting phased generation for 1 entities',
      generation_mode: 'classic',
      phase_info: { total_phases: 6, current_phase: 0, entities_count: 1 },
      timestamp: 1760660674.5,
    },
    {
      generation_id: id,
      status: 'processing',
      stage: 'phase_1_complete',
      progress: 0.2,
      message: 'Phase 1 complete: Generated 5 core infrastructure files',
      generation_mode: 'classic',
      phase_info: { phase: 1, name: 'Core Infrastructure', files_generated: 5, total_files: 5 },
      timestamp: 1760660674.8,
    },
    {
      generation_id: id,
      status: 'processing',
      stage: 'phase_2_complete',
      progress: 0.4,
      message: 'Phase 2 complete: Generated 4 User entity files',
      generation_mode: 'classic',
      phase_info: { phase: 2, name: 'User Entity', files_generated: 4, total_files: 9 },
      timestamp: 1760660675.2,
    },
    {
      generation_id: id,
      status: 'processing',
      stage: 'validation',
      progress: 0.97,
      message: '⚠️ Warning: Expected ~14 files, got 12. Some parent files may be missing.',
      generation_mode: 'classic',
      warning_type: 'data_loss_detection',
      parent_file_count: 14,
      new_file_count: 12,
      timestamp: 1760660676.25,
    },
    {
      generation_id: id,
      status: 'failed',
      stage: 'error',
      progress: 0.0,
      message: "Classic generation failed: 'FileManager' object has no attribute 'create_generation_zip'",
      generation_mode: 'classic',
      error: "'FileManager' object has no attribute 'create_generation_zip'",
      timestamp: 1760660676.4,
    },
  ];

  it('reads phase N of M, files per phase, the warning and the failure', () => {
    const events = samples.flatMap((sample) => codebegenDialect.parseStreamMessage(ctx, message(sample)));
    expect(events.every((event) => event.kind === 'update')).toBe(true);
    const job = fold('codebegen', id, events);
    expect(job.step).toEqual({ current: 2, total: 6, label: 'User Entity' });
    expect(job.phaseFiles).toEqual([
      { phase: 1, name: 'Core Infrastructure', files: 5, totalFiles: 5 },
      { phase: 2, name: 'User Entity', files: 4, totalFiles: 9 },
    ]);
    expect(job.warnings).toEqual(['⚠️ Warning: Expected ~14 files, got 12. Some parent files may be missing.']);
    expect(job.status).toBe('failed');
    expect(job.error).toBe("'FileManager' object has no attribute 'create_generation_zip'");
    expect(job.progress).toBe(97); // the failure's 0.0 does not wipe out the progress made
  });

  it('streams with the token handed out at launch as it is, and masks it for display', async () => {
    const request = codebegenDialect.streamRequest(source('codebegen'), { jobId: id, variant: 'iteration', secret: 'sse-secret' });
    expect(request).toMatchObject({ transport: 'sse', displayUrl: `http://127.0.0.1:9000/generations/${id}/stream?token=[redacted]`, heartbeatMs: null });
    expect(request.transport === 'sse' && (await request.prepare!())).toEqual({ url: `http://127.0.0.1:9000/generations/${id}/stream?token=sse-secret` });
    // without one, each connection asks the platform for its own; the generation itself is the status
    expect(codebegenDialect.statusRequest!(source('codebegen'), { jobId: id, variant: 'iteration' })?.urls[0].url).toBe(
      `http://127.0.0.1:9000/generations/${id}`,
    );
  });

  it('waits for the router’s end after an iteration reports `completed` (or `failed`) early', () => {
    const ctx = { ...context('codebegen', id), variant: 'iteration' };
    const frames = [
      { generation_id: id, status: 'processing', stage: 'merging_files', progress: 0.8, message: 'Merging', timestamp: 1760660674.1 },
      { generation_id: id, status: 'failed', stage: 'iteration_error', progress: 0.3, message: 'boom', timestamp: 1760660674.2 },
      { generation_id: id, status: 'completed', stage: 'iteration_complete', progress: 1.0, message: 'Iteration complete', timestamp: 1760660674.3 },
    ];
    const early = fold(
      'codebegen',
      id,
      frames.flatMap((frame) => codebegenDialect.parseStreamMessage(ctx, message(frame))),
    );
    expect(early).toMatchObject({ status: 'running', progress: 80, stage: 'iteration_complete' });
    expect(early.warnings).toEqual(['The iteration reported an error and carries on: boom']);
    const done = reduceJob(
      early,
      codebegenDialect.parseStreamMessage(
        ctx,
        message({ generation_id: id, status: 'completed', stage: 'complete', progress: 1.0, message: 'Done', timestamp: 1760660675 }),
      )[0],
    );
    expect(done).toMatchObject({ status: 'completed', progress: 100 });
  });

  it('rejects a phase_info with a negative count', () => {
    const [event] = codebegenDialect.parseStreamMessage(ctx, message({ ...samples[2], phase_info: { phase: -1 } }));
    expect(event.kind).toBe('protocol-error');
  });
});

describe('Takoss samples', () => {
  const ctx = context('takoss', 'tk-1');
  const stream = [
    { type: 'phase_start', phase: 'initialization', message: 'Starting generation for Blog Platform', progress: 0 },
    { type: 'phase_start', phase: 'analysis', message: 'Analyzing requirements', progress: 10 },
    { type: 'phase_complete', phase: 'analysis', message: 'Found 3 entities', progress: 20, data: { entities: 3 } },
    { type: 'complete', phase: 'complete', message: 'Successfully generated My Application', progress: 100, data: { projectId: 'proj-1234567890' } },
    { type: 'result', data: { success: true, projectId: 'proj-1234567890', phases: { analysis: {} } } },
  ];

  it('follows phases on the 0-100 scale, ends on `complete`, and keeps the result that follows', () => {
    const events = stream.flatMap((sample) => takossDialect.parseStreamMessage(ctx, message(sample)));
    const beforeResult = fold('takoss', 'tk-1', events.slice(0, 4));
    expect(beforeResult).toMatchObject({ status: 'completed', output: { projectId: 'proj-1234567890' } });
    const job = fold('takoss', 'tk-1', events);
    expect(job.status).toBe('completed');
    expect(job.progress).toBe(100);
    expect(job.phaseProgress).toMatchObject({ initialization: 0, analysis: 100 });
    expect(job.output).toMatchObject({ success: true, projectId: 'proj-1234567890', phases: { analysis: {} } });
  });

  it('keeps the result’s HTML visualization out of what is shown, and reads an error without a phase', () => {
    const [result] = takossDialect.parseStreamMessage(
      ctx,
      message({ type: 'result', data: { success: true, projectId: 'p', visualization: `<html>${'x'.repeat(3000)}</html>` } }),
    );
    expect(result.kind === 'update' && result.update.output).toMatchObject({ visualization: '[HTML, 3 KB]' });
    const [crash] = takossDialect.parseStreamMessage(ctx, message({ type: 'error', message: "Cannot read properties of undefined (reading 'entities')" }));
    expect(crash).toMatchObject({ kind: 'update', update: { status: 'failed', error: "Cannot read properties of undefined (reading 'entities')" } });
  });

  it('keeps a type it does not know in the log as unrecognized', () => {
    const [event] = takossDialect.parseStreamMessage(ctx, message({ type: 'code_chunk', phase: 'frontend', message: 'x' }));
    expect(event).toMatchObject({ kind: 'unrecognized', wireType: 'code_chunk' });
  });

  it('turns the guide’s error event into a failure', () => {
    const [event] = takossDialect.parseStreamMessage(ctx, message({ type: 'error', phase: 'error', message: 'Generation failed: API rate limit exceeded' }));
    expect(event).toMatchObject({ kind: 'update', update: { status: 'failed', error: 'Generation failed: API rate limit exceeded' } });
  });

  it.each([
    ['progress as a string', { type: 'phase_start', phase: 'analysis', message: 'x', progress: '10' }],
    ['a result without data', { type: 'result' }],
    ['not JSON', 'data: {"type"'],
  ])('counts %s as invalid', (_name, sample) => {
    const [event] = takossDialect.parseStreamMessage(ctx, message(sample));
    expect(event.kind).toBe('protocol-error');
  });

  it('never re-sends its POST: the stream is the job', async () => {
    const launched = await takossDialect.launch!(source('takoss'), { projectName: 'A', description: 'B', requirements: 'C' });
    expect(launched.pinnedStream).toMatchObject({
      transport: 'sse',
      method: 'POST',
      resumable: false,
      urls: [{ url: 'http://127.0.0.1:9000/api/generate/stream' }],
      drainMs: 10_000,
    });
    expect(parseLaunch(takossDialect.launchSchema!, { projectName: ' ', description: '', requirements: 'x' })).toEqual({
      ok: false,
      fields: { projectName: 'Give the project a name.', description: 'Describe the application.' },
    });
  });
});

describe('Smart Forge samples', () => {
  const ctx = context('smartforge', 'sf_1');
  const at = '2025-10-01T10:00:00.000Z';
  const events = [
    ['project:created', { type: 'project:created', projectId: 'sf_1', timestamp: at, prompt: 'Bookstore API' }],
    ['step:start', { type: 'step:start', projectId: 'sf_1', timestamp: at, step: 'Generating', message: 'Generating code...' }],
    ['file:generating', { type: 'file:generating', projectId: 'sf_1', timestamp: at, path: 'index.js', language: 'javascript', index: 0, total: 2 }],
    ['code:chunk', { type: 'code:chunk', projectId: 'sf_1', timestamp: at, path: 'index.js', chunk: 'import express' }],
    ['code:chunk', { type: 'code:chunk', projectId: 'sf_1', timestamp: at, path: 'index.js', chunk: " from 'express';\n" }],
    ['file:complete', { type: 'file:complete', projectId: 'sf_1', timestamp: at, path: 'index.js', index: 0, total: 2 }],
    ['file:generating', { type: 'file:generating', projectId: 'sf_1', timestamp: at, path: 'routes.js', index: 1, total: 2 }],
  ] as const;

  it('assembles files from chunks and follows the file being written', () => {
    const parsed = events.flatMap(([type, payload]) => smartforgeDialect.parseStreamMessage(ctx, message(payload, type)));
    const job = fold('smartforge', 'sf_1', parsed);
    expect(job.files['index.js']).toEqual({ path: 'index.js', language: 'javascript', content: "import express from 'express';\n", done: true });
    expect(job.fileOrder).toEqual(['index.js', 'routes.js']);
    expect(job.activeFile).toBe('routes.js');
    expect(job.step).toEqual({ current: 2, total: 4, label: 'Generating' });
    expect(job.progress).toBeCloseTo(46);
  });

  it('reads the platform’s own flat events: no projectId, the original type in `step`, code in `content`', () => {
    const receivedAt = 1_760_660_680_000;
    const flat = [
      { type: 'step:start', message: 'Analyzing your request...', step: 'thinking', timestamp: receivedAt - 900 },
      { type: 'code:chunk', message: '', step: 'chunk', content: '// index.js\nimport express', timestamp: receivedAt - 800 },
      {
        type: 'file:complete',
        message: '✓ Created index.js',
        step: 'file:complete',
        filename: 'index.js',
        content: "import express from 'express';\n",
        timestamp: receivedAt - 700,
      },
      { type: 'step:progress', message: '', step: 'deps:progress', timestamp: receivedAt - 600 },
      { type: 'complete', message: '✓ API generated successfully!', step: 'complete', filesModified: ['index.js'], timestamp: receivedAt - 500 },
    ];
    const parsed = flat.flatMap((payload) => smartforgeDialect.parseStreamMessage(ctx, message(payload)));
    expect(parsed.map((event) => event.kind)).toEqual(['update', 'update', 'update', 'update', 'update']);
    const job = fold('smartforge', 'sf_1', parsed);
    expect(job).toMatchObject({ status: 'completed', progress: 100 });
    expect(job.files['index.js']).toMatchObject({ content: "import express from 'express';\n", done: true });
    expect(job.files['(model output)'].content).toBe('// index.js\nimport express');
    expect(job.phases.map((phase) => phase.stage)).toEqual(['Planning', 'Generating', 'Validating', 'Complete']);
    expect(parsed[0].at).toBe(receivedAt - 900); // epoch ms
  });

  it('keeps a type it does not know in the log as unrecognized', () => {
    const [event] = smartforgeDialect.parseStreamMessage(ctx, message({ type: 'sandbox:exploded', projectId: 'sf_1' }));
    expect(event).toMatchObject({ kind: 'unrecognized', wireType: 'sandbox:exploded' });
  });

  it.each([
    ['a finished file without its name', { type: 'file:complete', projectId: 'sf_1', content: 'x' }, 'file:complete'],
    ['a payload under another event name', { type: 'complete', projectId: 'sf_1' }, 'error'],
    ['another project', { type: 'complete', projectId: 'sf_2' }, 'complete'],
    ['a chunk over the 64 KB cap', { type: 'code:chunk', projectId: 'sf_1', path: 'a', chunk: 'x'.repeat(70_000) }, 'code:chunk'],
  ])('counts %s as invalid', (_name, payload, event) => {
    const [parsed] = smartforgeDialect.parseStreamMessage(ctx, message(payload, event));
    expect(parsed.kind).toBe('protocol-error');
  });

  it('reads the project state the polling fallback uses, files included', () => {
    const [event] = smartforgeDialect.parseStatus!(
      ctx,
      JSON.stringify({
        projectId: 'sf_1',
        prompt: 'Bookstore API',
        status: 'generating',
        step: 'Generating',
        error: null,
        summary: null,
        createdAt: at,
        updatedAt: at,
        files: [{ path: 'index.js', language: 'javascript', content: 'const a = 1;\n', status: 'complete' }],
      }),
    );
    const job = fold('smartforge', 'sf_1', [event]);
    expect(job).toMatchObject({ status: 'running', title: 'Bookstore API', stage: 'Generating' });
    expect(job.files['index.js'].done).toBe(true);
  });
});

describe('image generation samples', () => {
  const ctx = { ...context('imagegen', 'task-123'), receivedAt: Date.parse('2025-12-17T05:24:36Z') };
  const progress = {
    type: 'progress',
    task_id: 'task-123',
    status: 'generating',
    current_step: 32,
    total_steps: 50,
    percentage: 64.0,
    current_stage: 'base_model',
    elapsed_time: 46.5,
    estimated_remaining: 26.3,
    message: 'Base model generation: step 32/50',
    timestamp: '2025-12-17T05:24:35.123Z',
  };

  it('reads step N of M, the stage, the ETA and a chart sample', () => {
    const job = fold('imagegen', 'task-123', imagegenDialect.parseStreamMessage(ctx, message(progress)));
    expect(job).toMatchObject({ status: 'running', progress: 64, stage: 'base_model', step: { current: 32, total: 50, label: 'base_model' } });
    expect(job.etaAt).toBe(Date.parse('2025-12-17T05:24:35.123Z') + 26_300);
    expect(job.samples).toEqual([{ elapsed: 46.5, step: 32, totalSteps: 50, stage: 'base_model', estimatedRemaining: 26.3, at: ctx.receivedAt }]);
  });

  it('treats keep-alive as a heartbeat and a failed message as a failure', () => {
    expect(imagegenDialect.parseStreamMessage(ctx, message({ type: 'keep-alive' }))[0].kind).toBe('heartbeat');
    const [failed] = imagegenDialect.parseStreamMessage(
      ctx,
      message({ type: 'progress', task_id: 'task-123', status: 'failed', error: 'Out of memory', message: 'Generation failed: Out of memory' }),
    );
    expect(failed).toMatchObject({ kind: 'update', update: { status: 'failed', error: 'Out of memory' } });
  });

  it('shows only an http(s) image URL of the platform itself', () => {
    const done = { ...progress, status: 'completed', percentage: 100 };
    const [ok] = imagegenDialect.parseStreamMessage(ctx, message({ ...done, image_url: 'http://127.0.0.1:9000/media/task-123.svg' }));
    expect(ok.kind === 'update' && ok.update.imageUrl).toBe('http://127.0.0.1:9000/media/task-123.svg');
    for (const bad of ['javascript:alert(1)', 'https://evil.example/x.png']) {
      const events = imagegenDialect.parseStreamMessage(ctx, message({ ...done, image_url: bad }));
      expect(events.some((event) => event.kind === 'update' && event.update.imageUrl)).toBe(false);
      expect(events.some((event) => event.kind === 'protocol-error')).toBe(true);
    }
  });

  it.each([
    ['a percentage as a string', { ...progress, percentage: '64' }],
    ['a negative step', { ...progress, current_step: -1 }],
    ['another task', { ...progress, task_id: 'task-999' }],
    ['an unknown status', { ...progress, status: 'exploded' }],
  ])('counts %s as invalid', (_name, sample) => {
    expect(imagegenDialect.parseStreamMessage(ctx, message(sample))[0].kind).toBe('protocol-error');
  });

  it('reads the platform’s own frames: pending with nulls, a zone-less local time, the status frame, the final frame', () => {
    // the server's clock is two hours ahead of UTC and says so nowhere
    const pending = {
      type: 'progress',
      task_id: 'task-123',
      status: 'pending',
      current_step: 0,
      total_steps: 80,
      percentage: 0,
      current_stage: '',
      elapsed_time: 0,
      estimated_remaining: 0,
      error: null,
      message: 'Initializing generation...',
      timestamp: '2025-12-17T07:24:35.500000',
    };
    const [first] = imagegenDialect.parseStreamMessage(ctx, message(pending));
    expect(first).toMatchObject({ kind: 'update', at: Date.parse('2025-12-17T05:24:35.500Z'), update: { status: 'pending' } });
    expect(
      imagegenDialect.parseStreamMessage(ctx, message({ type: 'status', message: 'Waiting for generation to start...', task_id: 'task-123' }))[0],
    ).toMatchObject({ kind: 'notice', wireType: 'status' });
    expect(imagegenDialect.parseStreamMessage(ctx, message({ type: 'pong' }))[0].kind).toBe('heartbeat');
    const [final] = imagegenDialect.parseStreamMessage(
      ctx,
      message({ ...pending, status: 'completed', current_step: 80, percentage: 100, current_stage: 'refiner_model', message: 'Image generated successfully' }),
    );
    expect(final).toMatchObject({ kind: 'update', label: 'final frame', update: { status: 'completed', progress: 100 } });
  });

  it('reads a frame of the later global socket, fields wrapped in `data`', () => {
    const [event] = imagegenDialect.parseStreamMessage(
      ctx,
      message({
        type: 'progress',
        event: 'task.progress.task-123',
        data: { taskId: 'task-123', status: 'generating', current_step: 5, total_steps: 50, percentage: 10 },
        timestamp: '2025-12-17T05:24:35+00:00',
      }),
    );
    expect(event).toMatchObject({ kind: 'update', update: { status: 'running', progress: 10 } });
  });

  it('keeps a type it does not know in the log as unrecognized', () => {
    expect(imagegenDialect.parseStreamMessage(ctx, message({ type: 'approval_status', timestamp: 12345.6 }))[0]).toMatchObject({
      kind: 'unrecognized',
      wireType: 'approval_status',
    });
  });

  it('opens the platform’s socket path with ?token= first, then the guide’s, and asks for progress', () => {
    const request = imagegenDialect.streamRequest(source('imagegen'), { jobId: 'task-1' });
    expect(request).toMatchObject({
      transport: 'websocket',
      urls: [
        { variant: 'upstream', url: 'ws://127.0.0.1:9000/api/ws/image-generation/task-1?token=secret-token' },
        { variant: 'guide', url: 'ws://127.0.0.1:9000/ws/image-generation/task-1' },
      ],
      displayUrl: 'ws://127.0.0.1:9000/api/ws/image-generation/task-1?token=%5Bredacted%5D',
      outgoing: { every: { text: '{"type":"get_progress"}', ms: 1000 } },
    });
  });
});
