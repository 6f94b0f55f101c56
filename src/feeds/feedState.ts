/**
 * What a feed is doing: exactly one of these at a time, entered only through its `enter`. A
 * feed whose stream failed past its reconnect budget keeps `fellBackAt` while it polls, waits
 * or rests, until it tries the stream again (a probe, given no reconnects of its own).
 */
export type FeedState =
  /** asking the platform what the id is: not streamed or polled until it has answered */
  | { phase: 'identifying' }
  | { phase: 'idle'; fellBackAt?: number }
  /** waiting for a stream slot, where the platform cannot be polled */
  | { phase: 'queued'; fellBackAt?: number }
  | { phase: 'poll'; fellBackAt?: number }
  | { phase: 'stream'; probe: boolean }
  /** the job ended; what the platform still sends after the end (a result, a closing frame) is read */
  | { phase: 'draining' }
  /** the job finished: nothing more to fetch */
  | { phase: 'done' }
  /** stopped on an error only the operator can fix, or on a platform that offers nothing to follow */
  | { phase: 'halted'; because: string };

/** What the feed does with the connections it may hold: 'queued' waits for a stream slot. */
export type FeedMode = 'stream' | 'poll' | 'queued' | 'idle';

/** the connections a feed in this state holds: a draining feed still reads its stream */
export function modeOf(state: FeedState): FeedMode {
  switch (state.phase) {
    case 'stream':
    case 'draining':
      return 'stream';
    case 'poll':
    case 'queued':
    case 'idle':
      return state.phase;
    default:
      return 'idle';
  }
}

/** when the stream failed past its budget, while the feed stays off it */
export function fellBackAt(state: FeedState): number | undefined {
  return state.phase === 'idle' || state.phase === 'queued' || state.phase === 'poll' ? state.fellBackAt : undefined;
}

/** still following its job: neither finished nor halted */
export const isFollowing = (state: FeedState): boolean => state.phase !== 'draining' && state.phase !== 'done' && state.phase !== 'halted';
