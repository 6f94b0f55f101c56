import type { Dialect, JobSighting } from '../protocols/dialect';
import type { Source } from '../protocols/source';
import { Poller } from '../transports/poll';
import type { WireLedger } from './wireLedger';

export type DiscoveryState =
  { state: 'starting' } | { state: 'ok'; at: number; jobs: number } | { state: 'error'; at: number; detail: string; fatal: boolean; status?: number };

export interface DiscoveryOptions {
  source: Source;
  dialect: Dialect;
  onSightings: (sightings: JobSighting[]) => void;
  onState: (state: DiscoveryState) => void;
  /** @default 3000 */
  intervalMs?: number;
  fetch?: typeof fetch;
  /** where what the listing said is recorded for the protocol inspector */
  ledger?: WireLedger;
}

/**
 * Polls a source's optional discovery endpoint (the platforms themselves list no jobs) and
 * reports what it sees. A rejected token stops it with the reason, it does not loop.
 */
export class SourceDiscovery {
  private poller: Poller | undefined;

  constructor(private readonly options: DiscoveryOptions) {}

  start(): void {
    const { source, dialect, onSightings, onState, ledger } = this.options;
    if (this.poller || !source.discoveryUrl || !dialect.parseDiscovery) return;
    onState({ state: 'starting' });
    this.poller = new Poller({
      url: source.discoveryUrl,
      headers: () => dialect.authHeaders(source),
      intervalMs: this.options.intervalMs ?? 3000,
      fetch: this.options.fetch,
      onSignal: (signal) => {
        if (signal.type === 'response') {
          const result = dialect.parseDiscovery!(source, signal.body, signal.at);
          if ('error' in result) {
            ledger?.recordFailure(source, 'listing', 'listing', signal.body, result.error, result.mismatches, signal.at);
            onState({ state: 'error', at: signal.at, detail: result.error, fatal: false });
            return;
          }
          ledger?.record(source, 'listing', signal.body, [], signal.at, 'listing');
          onState({ state: 'ok', at: signal.at, jobs: result.length });
          onSightings(result);
        } else if (signal.type === 'failed') {
          onState({ state: 'error', at: signal.at, detail: signal.error.message, fatal: false });
        } else if (signal.reason !== 'stopped') {
          onState({ state: 'error', at: signal.at, detail: signal.error?.message ?? 'Discovery stopped', fatal: true, status: signal.error?.status });
        }
      },
    }).start();
  }

  stop(): void {
    this.poller?.stop();
    this.poller = undefined;
  }
}
