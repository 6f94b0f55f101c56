import * as v from 'valibot';
import type { JobEvent, JobUpdate, WireMismatch } from '../model/events';
import { jobKey, type PlatformKind } from '../model/job';
import type { WireContext } from './dialect';

// Helpers every dialect uses to turn wire text into JobEvents, and the tolerance they share:
// timestamps in any of the forms platforms send, progress on either scale, unknown fields
// kept (the raw message goes to the log), unknown message types logged as unrecognized.

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

export function protocolError(
  platform: PlatformKind,
  context: WireContext,
  raw: string,
  error: string,
  details: { mismatches?: WireMismatch[]; wireType?: string } = {},
): JobEvent {
  const event: JobEvent = { ...eventBase(platform, context, context.receivedAt, raw), kind: 'protocol-error', error };
  if (details.mismatches?.length) event.mismatches = details.mismatches;
  if (details.wireType !== undefined) event.wireType = details.wireType;
  return event;
}

/** A well-formed message of a type this dialect does not know: kept in the log, never applied. */
export function unrecognized(platform: PlatformKind, context: WireContext, raw: string, wireType: string, at = context.receivedAt): JobEvent {
  return { ...eventBase(platform, context, at, raw), kind: 'unrecognized', wireType };
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

/** Each failing field of a schema check: where, what genwatch expected, what came. */
export function mismatchesOf(issues: readonly v.BaseIssue<unknown>[]): WireMismatch[] {
  return issues.slice(0, 10).map((issue) => ({
    path: issue.path?.map((item) => String(item.key)).join('.') ?? '',
    expected: issue.expected ?? issue.message,
    received: issue.received,
  }));
}

export type WireParse<T> = { ok: true; value: T } | { ok: false; error: string; mismatches?: WireMismatch[] };

/** A value checked against a schema: the value, or the words and fields for a protocol error. */
export function checkWire<T extends v.GenericSchema>(schema: T, value: unknown, what: string): WireParse<v.InferOutput<T>> {
  const result = v.safeParse(schema, value);
  return result.success
    ? { ok: true, value: result.output }
    : { ok: false, error: `Invalid ${what}: ${describeIssues(result.issues)}`, mismatches: mismatchesOf(result.issues) };
}

/** JSON text checked against a schema. */
export function parseWire<T extends v.GenericSchema>(schema: T, text: string, what: string): WireParse<v.InferOutput<T>> {
  const json = parseJson(text);
  if (!json.ok) return json;
  return checkWire(schema, json.value, what);
}

/** The error event for a failed parse, with its mismatched fields. */
export function invalid(
  platform: PlatformKind,
  context: WireContext,
  raw: string,
  failure: { error: string; mismatches?: WireMismatch[] },
  wireType?: string,
): JobEvent {
  return protocolError(platform, context, raw, failure.error, { mismatches: failure.mismatches, wireType });
}

/** An ISO 8601 date as ms, or the fallback when absent or unreadable. */
export function isoToMs(value: string | null | undefined, fallback: number): number {
  if (!value) return fallback;
  return platformTime(value, fallback);
}

export const isoDate = v.pipe(
  v.string(),
  v.check((value) => !Number.isNaN(Date.parse(value)), 'not an ISO 8601 date'),
);

/** A timestamp in any form the platforms use: epoch seconds or ms (number or numeric text), ISO 8601. */
export const wireTime = v.optional(v.nullable(v.union([v.pipe(v.number(), v.finite()), v.string()])));

const EARLIEST = Date.UTC(2000, 0, 1);
const DAY_MS = 86_400_000;
const QUARTER_HOUR_MS = 15 * 60_000;
const ISO_ZONE = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/**
 * When something happened by the platform's clock, as ms since the epoch. Platforms send epoch
 * seconds (CodeBegen), epoch ms (Smart Forge), ISO with a zone, ISO without one (image
 * generation: the server's local time), or nothing (Takoss). A zone-less time is taken in the
 * zone that puts it nearest the arrival time (zones are whole quarter hours). Anything else,
 * or a time that cannot be right (before 2000, a day ahead, a monotonic clock), is the arrival time.
 */
export function platformTime(value: unknown, receivedAt: number): number {
  let ms: number | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) {
    ms = Math.abs(value) < 1e11 ? value * 1000 : value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d+(?:\.\d+)?$/.test(text)) return platformTime(Number(text), receivedAt);
    if (ISO_DATE_TIME.test(text) && !ISO_ZONE.test(text)) {
      const asUtc = Date.parse(`${text.replace(' ', 'T')}Z`);
      if (!Number.isNaN(asUtc)) {
        const offset = Math.round((receivedAt - asUtc) / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
        ms = Math.abs(offset) <= 14 * 3_600_000 ? asUtc + offset : asUtc;
      }
    } else {
      const parsed = Date.parse(text);
      if (!Number.isNaN(parsed)) ms = parsed;
    }
  }
  if (ms === undefined || ms < EARLIEST || ms > receivedAt + DAY_MS) return receivedAt;
  return Math.round(ms);
}

/**
 * A progress value on genwatch's 0-100 scale. `fraction` platforms send 0.0-1.0, but a value
 * above 1 can only be a percentage already (a status endpoint that sends the raw 0-100 value).
 */
export function toPercent(value: number | null | undefined, scale: 'fraction' | 'percent'): number | undefined {
  if (value === null || value === undefined || !Number.isFinite(value)) return undefined;
  return scale === 'fraction' && value <= 1 ? value * 100 : value;
}

/** A URL the page may show or link to: absolute http(s) on the platform's own origin, nothing else. */
export function sameOriginUrl(candidate: string, baseUrl: string): string | undefined {
  try {
    // a bare path is not a URL the platform serves: a local file path looks just like one
    if (!/^https?:\/\//i.test(candidate)) return undefined;
    const url = new URL(candidate);
    if (url.origin !== new URL(baseUrl).origin) return undefined;
    return url.href;
  } catch {
    return undefined;
  }
}

/** The message's own name for what it is, for the inspector and the log: a string field, cut short. */
export function typeName(value: unknown, field: string): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const name = (value as Record<string, unknown>)[field];
  return typeof name === 'string' ? name.slice(0, 80) : undefined;
}

/** A schema's first few complaints, path first, in one line. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const path = issue.path?.map((item) => String(item.key)).join('.') ?? '';
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
