import * as v from 'valibot';
import type { JobEvent } from '../model/events';
import { jobKey, type PlatformKind } from '../model/job';
import { JobEventSchema } from '../model/eventSchema';
import { isPlatformKind } from '../protocols';

// Export as JSON Lines (a header line, then one event per line) and import for replay.

export const EXPORT_FORMAT = 'genwatch-events/1';

const SECRET_KEY = /token|authorization|api[-_]?key|secret|password|cookie/i;

/** Removes credentials from a wire message: secret-looking fields and `token=` in URLs. */
export function scrubSecrets(raw: string): string {
  const scrubString = (text: string) => text.replace(/([?&](?:token|access_token|api_key|key)=)[^&\s"']+/gi, '$1[redacted]');
  try {
    const scrub = (value: unknown): unknown => {
      if (typeof value === 'string') return scrubString(value);
      if (Array.isArray(value)) return value.map(scrub);
      if (value && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, SECRET_KEY.test(key) ? '[redacted]' : scrub(item)]));
      }
      return value;
    };
    return JSON.stringify(scrub(JSON.parse(raw)));
  } catch {
    return scrubString(raw);
  }
}

export function exportJsonl(events: readonly JobEvent[]): string {
  const header = JSON.stringify({ format: EXPORT_FORMAT, exportedAt: new Date().toISOString(), events: events.length });
  const lines = events.map((event) => JSON.stringify(event.raw ? { ...event, raw: scrubSecrets(event.raw) } : event));
  return `${header}\n${lines.join('\n')}\n`;
}

/** The platform of an export's jobs (one replay source has one), from its first event that names a known one. */
export function exportedPlatform(text: string): PlatformKind | undefined {
  for (const match of text.matchAll(/"platform":"([a-z0-9_-]+)"/g)) if (isPlatformKind(match[1])) return match[1];
  return undefined;
}

export interface ParsedExport {
  events: JobEvent[];
  /** lines that were not events, with why */
  skipped: string[];
}

/** Reads an export, moving every job under `sourceId` (a read-only replay source). */
export function parseJsonl(text: string, sourceId: string): ParsedExport {
  const events: JobEvent[] = [];
  const skipped: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      skipped.push(`line ${index + 1}: not JSON`);
      return;
    }
    if (index === 0 && (value as { format?: unknown })?.format === EXPORT_FORMAT) return;
    const result = v.safeParse(JobEventSchema, value);
    if (!result.success) {
      skipped.push(`line ${index + 1}: not a genwatch event`);
      return;
    }
    const event = result.output as unknown as JobEvent;
    events.push({ ...event, sourceId, key: jobKey(sourceId, event.jobId) });
  });
  return { events, skipped };
}

export type ReplaySpeed = 1 | 10 | 'max';

/**
 * Feeds events to `ingest` with their original spacing (or 10x faster, or as fast as the page
 * can take them), through the same store path as live events. Returns a stop function.
 */
export function replay(events: readonly JobEvent[], speed: ReplaySpeed, ingest: (batch: JobEvent[]) => void, onDone: () => void): () => void {
  const ordered = events.slice().sort((a, b) => a.receivedAt - b.receivedAt);
  let index = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const startedAt = performance.now();
  const firstAt = ordered[0]?.receivedAt ?? 0;
  const step = () => {
    if (stopped) return;
    if (speed === 'max') {
      // a slice per task keeps the page responsive while thousands of events go in
      const end = Math.min(ordered.length, index + 2000);
      ingest(ordered.slice(index, end));
      index = end;
    } else {
      const due = firstAt + (performance.now() - startedAt) * speed;
      const end = ordered.findIndex((event, at) => at >= index && event.receivedAt > due);
      const stop = end === -1 ? ordered.length : end;
      if (stop > index) ingest(ordered.slice(index, stop));
      index = stop;
    }
    if (index >= ordered.length) {
      onDone();
      return;
    }
    timer = setTimeout(step, speed === 'max' ? 0 : 50);
  };
  // never synchronously: the caller has its stop function (and its own bookkeeping) before the first batch
  timer = setTimeout(step, 0);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

export function download(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
