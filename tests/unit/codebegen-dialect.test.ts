import { describe, expect, it } from 'vitest';
import { codebegenDialect } from '../../src/protocols/codebegen';
import type { Source } from '../../src/protocols/source';

const source: Source = { id: 'cb', name: 'CodeBegen', kind: 'codebegen', baseUrl: 'http://127.0.0.1:9', token: 'secret-token' };
const context = { source, jobId: 'gen_1', receivedAt: 1_700_000_000_500 };
const message = (data: unknown, id = '3') => ({
  data: typeof data === 'string' ? data : JSON.stringify(data),
  event: 'message',
  id,
  lastEventId: id,
});

const progressEvent = {
  generation_id: 'gen_1',
  status: 'processing',
  stage: 'code_generation',
  progress: 0.3,
  message: '📝 Generating API endpoints... (3/10 files)',
  timestamp: 1_700_000_000.123,
  estimated_time_remaining: 45.2,
  current_file: 'app/routers/users.py',
};

describe('CodeBegen dialect', () => {
  it('turns a StreamingProgressEvent into an update on the 0-100 scale', () => {
    const [event] = codebegenDialect.parseStreamMessage(context, message(progressEvent));
    expect(event).toMatchObject({
      kind: 'update',
      key: 'cb/gen_1',
      at: 1_700_000_000_123,
      wireId: '3',
      update: {
        status: 'running',
        stage: 'code_generation',
        progress: 30,
        message: '📝 Generating API endpoints... (3/10 files)',
        currentFile: 'app/routers/users.py',
        etaSeconds: 45.2,
      },
    });
  });

  it('maps completed and failed, carrying the failure message as the error', () => {
    const [done] = codebegenDialect.parseStreamMessage(context, message({ ...progressEvent, status: 'completed', stage: 'completed', progress: 1 }));
    expect(done).toMatchObject({ kind: 'update', update: { status: 'completed', progress: 100 } });
    const [failed] = codebegenDialect.parseStreamMessage(context, message({ ...progressEvent, status: 'failed', stage: 'failed', message: '❌ boom' }));
    expect(failed).toMatchObject({ kind: 'update', update: { status: 'failed', error: '❌ boom' } });
  });

  it('reports what the stream says of itself as notices that change nothing', () => {
    const [connected] = codebegenDialect.parseStreamMessage(context, message({ ...progressEvent, status: 'connected', stage: 'connected' }));
    expect(connected).toMatchObject({ kind: 'notice', level: 'info' });
    const [lost] = codebegenDialect.parseStreamMessage(
      context,
      message({ ...progressEvent, status: 'disconnected', stage: 'stream', message: 'Connection lost' }),
    );
    expect(lost).toMatchObject({ kind: 'notice', level: 'warn', text: 'disconnected: Connection lost' });
    // the platform's last frame says 1.0 even after a failure: nothing of it is applied
    const [closing] = codebegenDialect.parseStreamMessage(context, message({ ...progressEvent, status: 'stream_closing', stage: 'error', progress: 1 }));
    expect(closing).toMatchObject({ kind: 'notice', level: 'info', wireType: 'stream_closing' });
  });

  it('reads a stage that went wrong as news, leaving the verdict to the failed frame', () => {
    const [event] = codebegenDialect.parseStreamMessage(
      context,
      message({ ...progressEvent, status: 'error', stage: 'code_generation_failed', message: '❌ Code generation failed' }),
    );
    expect(event).toMatchObject({ kind: 'update', label: 'error', update: { stage: 'code_generation_failed', message: '❌ Code generation failed' } });
    expect(event.kind === 'update' && event.update.status).toBeUndefined();
  });

  it('takes a heartbeat frame (progress 0.0) as a sign of life, not as progress', () => {
    const [event] = codebegenDialect.parseStreamMessage(context, message({ ...progressEvent, status: 'heartbeat', stage: 'active', progress: 0 }));
    expect(event).toMatchObject({ kind: 'heartbeat', wireType: 'heartbeat' });
  });

  it('keeps an unknown status in the log as unrecognized, apart from invalid messages', () => {
    const [event] = codebegenDialect.parseStreamMessage(context, message({ ...progressEvent, status: 'exploded' }));
    expect(event).toMatchObject({ kind: 'unrecognized', wireType: 'exploded', raw: JSON.stringify({ ...progressEvent, status: 'exploded' }) });
  });

  it.each([
    ['a timestamp', undefined, 1_700_000_000_500],
    ['a null timestamp', null, 1_700_000_000_500],
    ['epoch seconds', 1_700_000_000.123, 1_700_000_000_123],
    ['epoch milliseconds', 1_700_000_000_123, 1_700_000_000_123],
    ['an ISO time with a zone', '2023-11-14T22:13:20.123Z', 1_700_000_000_123],
  ])('reads %s as the platform time (none: the arrival time)', (_name, timestamp, at) => {
    const [event] = codebegenDialect.parseStreamMessage(context, message({ ...progressEvent, timestamp }));
    expect(event).toMatchObject({ kind: 'update', at });
  });

  it.each([
    ['malformed JSON', '{"generation_id": "gen_1", ', /Malformed JSON/, undefined],
    ['a progress that is a string', { ...progressEvent, progress: 'half' }, /progress/, 'progress'],
    ['a timestamp of the wrong type', { ...progressEvent, timestamp: true }, /timestamp/, 'timestamp'],
    ['a status that is not text', { ...progressEvent, status: 7 }, /status/, 'status'],
    ['an event of another generation', { ...progressEvent, generation_id: 'gen_2' }, /another generation/, undefined],
  ])('turns %s into a protocol error that keeps the raw message and names the field', (_name, payload, pattern, path) => {
    const [event] = codebegenDialect.parseStreamMessage(context, message(payload as never));
    expect(event.kind).toBe('protocol-error');
    expect(event.kind === 'protocol-error' && event.error).toMatch(pattern);
    expect(event.raw).toBe(typeof payload === 'string' ? payload : JSON.stringify(payload));
    if (path) expect(event.kind === 'protocol-error' && event.mismatches?.[0]).toMatchObject({ path });
  });

  it('reads a GenerationStatusResponse into a snapshot', () => {
    const context = { source, jobId: 'gen_1', receivedAt: Date.parse('2025-09-23T10:30:06Z') };
    const body = JSON.stringify({
      generation_id: 'gen_1',
      status: 'processing',
      created_at: '2025-09-23T10:30:00Z',
      updated_at: '2025-09-23T10:30:05Z',
      progress: 0.3,
      stage: 'code_generation',
      message: '📝 Generating API endpoints... (3/10 files)',
      current_event: { ...progressEvent, timestamp: Date.parse('2025-09-23T10:30:05.123Z') / 1000 },
      estimated_time_remaining: 45.2,
      has_events: true,
    });
    const [event] = codebegenDialect.parseStatus!(context, body);
    expect(event).toMatchObject({
      kind: 'update',
      at: Date.parse('2025-09-23T10:30:05.123Z'),
      update: { status: 'running', progress: 30, stage: 'code_generation', currentFile: 'app/routers/users.py', createdAt: Date.parse('2025-09-23T10:30:00Z') },
    });
  });

  it('reads the status endpoint on either scale: the guide 0.0-1.0, the platform its raw 0-100', () => {
    const receivedAt = Date.parse('2025-09-23T10:30:06Z');
    const body = (progress: number, currentProgress: number) =>
      JSON.stringify({
        generation_id: 'gen_1',
        status: 'processing',
        created_at: '2025-09-23T10:30:00+00:00',
        updated_at: '2025-09-23T10:30:05.000123+00:00',
        progress,
        stage: 'code_generation',
        message: '',
        current_event: { status: 'processing', progress: currentProgress },
        has_events: true,
      });
    const [guide] = codebegenDialect.parseStatus!({ source, jobId: 'gen_1', receivedAt }, body(0.4, 0.4));
    const [platform] = codebegenDialect.parseStatus!({ source, jobId: 'gen_1', receivedAt }, body(40, 40));
    expect(guide).toMatchObject({ kind: 'update', update: { progress: 40 } });
    expect(platform).toMatchObject({ kind: 'update', update: { progress: 40 } });
  });

  it('rejects a status response whose progress is not a number', () => {
    const [event] = codebegenDialect.parseStatus!(
      context,
      JSON.stringify({
        generation_id: 'gen_1',
        status: 'pending',
        created_at: 'yesterday',
        updated_at: 'now',
        progress: 'half',
        stage: 'x',
        message: '',
        has_events: false,
      }),
    );
    expect(event.kind).toBe('protocol-error');
  });

  it('puts the token only in the Authorization header, never in a URL', () => {
    expect(codebegenDialect.authHeaders(source)).toEqual({ Authorization: 'Bearer secret-token' });
    expect(JSON.stringify(codebegenDialect.streamRequest(source, { jobId: 'gen_1' }))).not.toContain('secret-token');
    expect(codebegenDialect.statusRequest!(source, { jobId: 'gen/1' })?.urls.map((candidate) => candidate.url)).toEqual([
      'http://127.0.0.1:9/api/v2/generation/gen%2F1/status',
    ]);
  });

  it('streams from the platform’s own path first, and from the guide’s when that path does not exist', () => {
    const request = codebegenDialect.streamRequest({ ...source, baseUrl: 'http://127.0.0.1:19' }, { jobId: 'gen_1' });
    expect(request.transport === 'sse' && request.urls).toEqual([
      { variant: 'upstream', url: 'http://127.0.0.1:19/api/v2/generation/generate/gen_1/stream' },
      { variant: 'guide', url: 'http://127.0.0.1:19/api/v2/generation/gen_1/stream' },
    ]);
  });
});
