import * as v from 'valibot';
import { JOB_STATUSES, PLATFORM_KINDS, type LinkState, type Transport } from './job';

const finite = v.pipe(v.number(), v.finite());

/** What every event carries, whoever sent it (an export, the relay). */
const eventBase = {
  sourceId: v.string(),
  jobId: v.pipe(v.string(), v.minLength(1)),
  platform: v.picklist(PLATFORM_KINDS),
  at: finite,
  receivedAt: finite,
};

/**
 * A genwatch event as it travels between genwatch's own parts (an export file, the relay's
 * stream): each kind with the fields the reducer reads. Unknown fields are kept.
 */
export const JobEventSchema = v.variant('kind', [
  v.looseObject({
    ...eventBase,
    kind: v.literal('update'),
    update: v.looseObject({ status: v.optional(v.picklist(JOB_STATUSES)), progress: v.optional(finite) }),
  }),
  v.looseObject({ ...eventBase, kind: v.literal('protocol-error'), error: v.string() }),
  v.looseObject({ ...eventBase, kind: v.literal('unrecognized') }),
  v.looseObject({ ...eventBase, kind: v.literal('heartbeat') }),
  v.looseObject({ ...eventBase, kind: v.literal('notice'), level: v.picklist(['info', 'warn']), text: v.string() }),
  v.looseObject({
    ...eventBase,
    kind: v.literal('link'),
    transport: v.picklist(['sse', 'websocket', 'polling', 'none'] as const satisfies readonly Transport[]),
    link: v.picklist(['idle', 'connecting', 'live', 'stale', 'reconnecting', 'polling', 'closed', 'error'] as const satisfies readonly LinkState[]),
  }),
  v.looseObject({ ...eventBase, kind: v.literal('integrity') }),
]);
