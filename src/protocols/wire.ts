import * as v from 'valibot';
import type { JobEvent, JobUpdate } from '../model/events';
import { jobKey, type PlatformKind } from '../model/job';
import type { WireContext } from './dialect';
import { describeIssues } from './source';

// Helpers every dialect uses to turn wire text into JobEvents.

export function eventBase(platform: PlatformKind, context: WireContext, at: number, raw?: string) {
  return {
    key: jobKey(context.source.id, context.jobId),
    sourceId: context.source.id,
    jobId: context.jobId,
    platform,
    at,
    receivedAt: context.receivedAt,
    raw,
  };
}

export function protocolError(platform: PlatformKind, context: WireContext, raw: string, error: string): JobEvent {
  return { ...eventBase(platform, context, context.receivedAt, raw), kind: 'protocol-error', error };
}

export function updateEvent(platform: PlatformKind, context: WireContext, at: number, update: JobUpdate, label?: string, raw?: string): JobEvent {
  return { ...eventBase(platform, context, at, raw), kind: 'update', update, label };
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `Malformed JSON: ${(error as Error).message}` };
  }
}

/** JSON text checked against a schema: the value, or the words for a protocol error. */
export function parseWire<T extends v.GenericSchema>(schema: T, text: string, what: string): { ok: true; value: v.InferOutput<T> } | { ok: false; error: string } {
  const json = parseJson(text);
  if (!json.ok) return json;
  const result = v.safeParse(schema, json.value);
  return result.success ? { ok: true, value: result.output } : { ok: false, error: `Invalid ${what}: ${describeIssues(result.issues)}` };
}

/** An ISO 8601 date as ms, or the fallback when absent or unreadable. */
export function isoToMs(value: string | null | undefined, fallback: number): number {
  if (!value) return fallback;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? fallback : ms;
}

export const isoDate = v.pipe(v.string(), v.check((value) => !Number.isNaN(Date.parse(value)), 'not an ISO 8601 date'));

/** A URL the page may show or link to: http(s) and on the platform's own origin, nothing else. */
export function sameOriginUrl(candidate: string, baseUrl: string): string | undefined {
  try {
    const url = new URL(candidate, baseUrl);
    if (!/^https?:$/.test(url.protocol) || url.origin !== new URL(baseUrl).origin) return undefined;
    return url.href;
  } catch {
    return undefined;
  }
}
