import { isPlatformKind } from '../protocols';
import { WINDOWS, type InsightsQuery } from './compute';

// The window and filters of /insights as they live in its URL (kept apart from compute.ts so
// the worker does not load every platform's dialect).

type RawQuery = Record<string, unknown>;
const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/** The query from a URL: `window=1h|24h|7d` (ending now), or `window=custom&from=…&to=…` (ISO or ms). */
export function parseInsightsQuery(query: RawQuery, now = Date.now()): InsightsQuery {
  const platform = text(query.platform);
  const filters = { platform: isPlatformKind(platform) ? platform : undefined, source: text(query.source) };
  const time = (value: unknown) => {
    const raw = text(value);
    if (raw === undefined) return undefined;
    const parsed = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
    return Number.isFinite(parsed) ? parsed : undefined;
  };
  const from = time(query.from);
  const to = time(query.to);
  if (text(query.window) === 'custom' && from !== undefined && to !== undefined && from < to) return { window: 'custom', from, to, ...filters };
  const name = text(query.window);
  const window = name && name in WINDOWS ? (name as keyof typeof WINDOWS) : '24h';
  return { window, from: now - WINDOWS[window], to: now, ...filters };
}

/** The query as URL parameters: a named window stays relative (it means "the last …" whenever opened). */
export function insightsQueryToParams(query: InsightsQuery): Record<string, string> {
  const params: Record<string, string> = { window: query.window };
  if (query.window === 'custom') {
    params.from = new Date(query.from).toISOString();
    params.to = new Date(query.to).toISOString();
  }
  if (query.platform) params.platform = query.platform;
  if (query.source) params.source = query.source;
  return params;
}
