import { networkError, TransportError } from './error';
import { inOriginTurn } from './originGate';

const STATUS_WORDS: Record<number, string> = {
  400: 'Bad request',
  401: 'Not authorized: the token was rejected',
  403: 'Forbidden: this token may not see it',
  404: 'Not found',
  408: 'Request timeout',
  422: 'Request rejected',
  429: 'Too many requests',
  500: 'Server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

/** 408, 429 and 5xx may pass; any other 4xx will not fix itself by asking again. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The reason in an error body, as platforms word it: `{"detail": "..."}` (FastAPI), a list of
 * field errors under `detail` (FastAPI's 422), `{"error": "..."}` (Express), `{"error": {"message"}}`
 * (ComfyUI), or a tRPC error.
 */
export function errorDetail(parsed: unknown): string | undefined {
  const entry = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!entry || typeof entry !== 'object') return undefined;
  const record = entry as Record<string, unknown>;
  const trpc = (record.error as { json?: { message?: unknown } } | undefined)?.json?.message;
  if (typeof trpc === 'string') return (zodIssues(trpc) ?? trpc).slice(0, 300);
  const candidate = record.detail ?? record.error ?? record.message;
  if (typeof candidate === 'string') return candidate.slice(0, 300);
  // ComfyUI: {"error": {"type", "message", "details"}, "node_errors": {...}}
  const nested = candidate as { message?: unknown; details?: unknown } | undefined;
  if (nested && typeof nested === 'object' && typeof nested.message === 'string') {
    return (typeof nested.details === 'string' && nested.details ? `${nested.message}: ${nested.details}` : nested.message).slice(0, 300);
  }
  if (Array.isArray(candidate)) {
    const fields = candidate.flatMap((item) => {
      if (!item || typeof item !== 'object') return [];
      const { loc, msg } = item as { loc?: unknown; msg?: unknown };
      if (typeof msg !== 'string') return [];
      const where = Array.isArray(loc) ? loc.filter((part) => part !== 'body').join('.') : '';
      return [where ? `${where}: ${msg}` : msg];
    });
    if (fields.length) return fields.join('; ').slice(0, 300);
  }
  return undefined;
}

/** tRPC puts a rejected input's zod issues in its message as JSON: "id: Invalid uuid" reads better. */
function zodIssues(message: string): string | undefined {
  if (!message.trimStart().startsWith('[')) return undefined;
  try {
    const issues: unknown = JSON.parse(message);
    if (!Array.isArray(issues)) return undefined;
    const words = issues.flatMap((issue) => {
      const { path, message: text } = (issue ?? {}) as { path?: unknown; message?: unknown };
      if (typeof text !== 'string') return [];
      return [Array.isArray(path) && path.length ? `${path.join('.')}: ${text}` : text];
    });
    return words.length ? words.join('; ') : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a little of an error body for the reason, and whether a 404 is about the path itself. */
export async function httpError(response: Response): Promise<TransportError> {
  let detail: string | undefined;
  let json = false;
  try {
    const text = (await response.text()).slice(0, 4096);
    const parsed: unknown = JSON.parse(text);
    json = true;
    detail = errorDetail(parsed);
  } catch {
    // not JSON: the status alone says enough
  }
  const words = STATUS_WORDS[response.status] ?? `HTTP ${response.status}`;
  let error = new TransportError({
    kind: 'http',
    status: response.status,
    message: `${response.status} ${words}${detail ? ` (${detail})` : ''}`,
    retryable: isRetryableStatus(response.status),
    retryAfterMs: parseRetryAfter(response.headers.get('Retry-After')),
  });
  // A framework answers an unknown path with its bare "Not Found" (FastAPI, Starlette) or an
  // HTML page (Next.js, Express); a platform that knows the path names what it did not find.
  if (response.status === 404 && (!json || (detail !== undefined && /^not found\.?$/i.test(detail)))) error = error.with({ routeMissing: true });
  return error;
}

/** Full jitter (AWS architecture blog): spreads reconnects of many clients over the window. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(random() * ceiling);
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** One JSON request with the same error vocabulary as the streams. Throws a TransportError. */
export async function requestJson(url: string, init: RequestInit & { fetch?: typeof fetch } = {}): Promise<unknown> {
  const { fetch: fetchImpl, ...rest } = init;
  // what changes something (a launch, a cancel) goes before the reads waiting for the origin
  const urgent = (rest.method ?? 'GET').toUpperCase() !== 'GET';
  const { response, text } = await inOriginTurn(url, urgent, async () => {
    let response: Response;
    try {
      response = await (fetchImpl ?? globalThis.fetch.bind(globalThis))(url, rest);
    } catch (error) {
      throw networkError(error);
    }
    if (!response.ok) throw await httpError(response);
    return { response, text: await response.text() };
  });
  try {
    return JSON.parse(text);
  } catch {
    throw new TransportError({ kind: 'content-type', status: response.status, message: 'The response is not JSON', retryable: false });
  }
}
