import type { Dialect, JobSighting } from '../protocols/dialect';
import type { Source } from '../protocols/source';
import { Poller } from '../transports/poll';

export type DiscoveryState =
  | { state: 'starting' }
  | { state: 'ok'; at: number; jobs: number }
  | { state: 'error'; at: number; detail: string; fatal: boolean; status?: number };

/**
 * Polls a source's optional discovery endpoint (the platforms themselves list no jobs) and
 * reports what it sees. A rejected token stops it with the reason, it does not loop.
 */
export class SourceDiscovery {
  private poller: Poller | undefined;

  constructor(
    private readonly source: Source,
    private readonly dialect: Dialect,
    private readonly onSightings: (sightings: JobSighting[]) => void,
    private readonly onState: (state: DiscoveryState) => void,
    private readonly intervalMs = 3000,
    private readonly fetchImpl?: typeof fetch,
  ) {}

  start(): void {
    if (this.poller || !this.source.discoveryUrl || !this.dialect.parseDiscovery) return;
    this.onState({ state: 'starting' });
    this.poller = new Poller({
      url: this.source.discoveryUrl,
      headers: () => this.dialect.authHeaders(this.source),
      intervalMs: this.intervalMs,
      fetch: this.fetchImpl,
      onSignal: (signal) => {
        if (signal.type === 'response') {
          const result = this.dialect.parseDiscovery!(this.source, signal.body, signal.at);
          if ('error' in result) {
            this.onState({ state: 'error', at: signal.at, detail: result.error, fatal: false });
            return;
          }
          this.onState({ state: 'ok', at: signal.at, jobs: result.length });
          this.onSightings(result);
        } else if (signal.type === 'failed') {
          this.onState({ state: 'error', at: signal.at, detail: signal.error.message, fatal: false });
        } else if (signal.reason !== 'stopped') {
          this.onState({ state: 'error', at: signal.at, detail: signal.error?.message ?? 'Discovery stopped', fatal: true, status: signal.error?.status });
        }
      },
    }).start();
  }

  stop(): void {
    this.poller?.stop();
    this.poller = undefined;
  }
}
