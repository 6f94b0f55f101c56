import * as v from 'valibot';
import { PLATFORM_KINDS } from '../model/job';

/** A platform endpoint the dashboard watches; the shape of an entry of /sources.json. */
export const SourceSchema = v.object({
  id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]+$/, 'id may hold letters, digits, dot, dash and underscore')),
  name: v.pipe(v.string(), v.minLength(1)),
  kind: v.picklist(PLATFORM_KINDS, `kind must be one of ${PLATFORM_KINDS.join(', ')}`),
  baseUrl: v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//, 'baseUrl must be http(s)')),
  token: v.optional(v.string()),
  maxStreams: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64))),
  discoveryUrl: v.optional(v.pipe(v.string(), v.url())),
  /**
   * The platform's own listings (its dialect names them): each is read unless set to false; a
   * number is its interval in ms. E.g. {"pending": false, "running": 10000}.
   */
  listings: v.optional(v.record(v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]*$/)), v.union([v.boolean(), v.pipe(v.number(), v.integer(), v.minValue(500))]))),
  /** the platform's heartbeat interval, when it differs from its guide's */
  heartbeatMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(50))),
  /** a read-only replay of exported events: genwatch never connects anywhere for it */
  replay: v.optional(v.boolean()),
});

export type Source = v.InferOutput<typeof SourceSchema>;

export const DEFAULT_MAX_STREAMS = 4;

export function originOf(source: Source): string {
  return new URL(source.baseUrl).origin;
}
