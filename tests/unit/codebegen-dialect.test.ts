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

  it('reports connected and stream errors as notices that change nothing', () => {
    const [connected] = codebegenDialect.parseStreamMessage(context, message({ ...progressEvent, status: 'connected', stage: 'connected' }));
    expect(connected).toMatchObject({ kind: 'notice', level: 'info' });
    const [lost] = codebegenDialect.parseStreamMessage(context, message({ ...progressEvent, status: 'error', stage: 'stream_error', message: 'Connection lost' }));
    expect(lost).toMatchObject({ kind: 'notice', level: 'warn', text: 'error: Connection lost' });
  });

  it.each([
    ['malformed JSON', '{"generation_id": "gen_1", ', /Malformed JSON/],
    ['a progress that is a string', { ...progressEvent, progress: 'half' }, /progress/],
    ['a missing timestamp', { ...progressEvent, timestamp: undefined }, /timestamp/],
    ['an unknown status', { ...progressEvent, status: 'exploded' }, /status/],
    ['an event of another generation', { ...progressEvent, generation_id: 'gen_2' }, /another generation/],
  ])('turns %s into a protocol error that keeps the raw message', (_name, payload, pattern) => {
    const [event] = codebegenDialect.parseStreamMessage(context, message(payload as never));
    expect(event.kind).toBe('protocol-error');
    expect(event.kind === 'protocol-error' && event.error).toMatch(pattern);
    expect(event.raw).toBe(typeof payload === 'string' ? payload : JSON.stringify(payload));
  });

  it('reads a GenerationStatusResponse into a snapshot', () => {
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

  it('rejects a status response with a bad date', () => {
    const [event] = codebegenDialect.parseStatus!(context, JSON.stringify({ generation_id: 'gen_1', status: 'pending', created_at: 'yesterday', updated_at: 'now', progress: 0, stage: 'x', message: '', has_events: false }));
    expect(event.kind).toBe('protocol-error');
  });

  it('puts the token only in the Authorization header, never in a URL', () => {
    expect(codebegenDialect.authHeaders(source)).toEqual({ Authorization: 'Bearer secret-token' });
    expect(JSON.stringify(codebegenDialect.streamRequest(source, { jobId: 'gen_1' }))).not.toContain('secret-token');
    expect(codebegenDialect.statusUrl!(source, { jobId: 'gen/1' })).toBe('http://127.0.0.1:9/api/v2/generation/gen%2F1/status');
  });
});
