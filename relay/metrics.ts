import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isTerminal, type Job } from '../src/model/job';

/** The relay's Prometheus metrics, in a registry of its own (several relays can share a process). */
export function relayMetrics() {
  const registry = new Registry();
  const metrics = {
    registry,
    jobs: new Gauge({ name: 'genwatch_relay_jobs', help: 'Jobs in the log by platform and status', labelNames: ['platform', 'status'], registers: [registry] }),
    eventsIn: new Counter({
      name: 'genwatch_relay_events_in_total',
      help: 'Normalized events this relay published from upstream',
      labelNames: ['source'],
      registers: [registry],
    }),
    eventsOut: new Counter({ name: 'genwatch_relay_events_out_total', help: 'Events written to viewers', registers: [registry] }),
    stageSeconds: new Histogram({
      name: 'genwatch_relay_stage_duration_seconds',
      help: 'How long each stage of a job took, from its start to the next stage or the end',
      labelNames: ['platform', 'stage'],
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    reconnects: new Counter({
      name: 'genwatch_relay_upstream_reconnects_total',
      help: 'Reconnects of upstream streams this relay follows',
      registers: [registry],
    }),
    upstream: new Gauge({
      name: 'genwatch_relay_upstream_feeds',
      help: 'Jobs this relay follows upstream, by how',
      labelNames: ['mode'],
      registers: [registry],
    }),
    viewers: new Gauge({ name: 'genwatch_relay_viewers', help: 'Dashboards connected to this relay', registers: [registry] }),
    leases: new Gauge({ name: 'genwatch_relay_leases', help: 'Leases (jobs and listings) this relay holds', registers: [registry] }),
    lag: new Gauge({ name: 'genwatch_relay_jetstream_lag_messages', help: 'Events in the log this relay has not read yet', registers: [registry] }),
    publishErrors: new Counter({ name: 'genwatch_relay_publish_errors_total', help: 'Batches the log did not acknowledge', registers: [registry] }),
  };
  return metrics;
}

export type RelayMetrics = ReturnType<typeof relayMetrics>;

/** Stage durations a job's newest reduction completed: the stage before each new one, and the last at the end. */
export function observeStages(metrics: RelayMetrics, before: Job | undefined, after: Job): void {
  const previous = before?.phases.length ?? 0;
  const phases = after.phases;
  for (let i = Math.max(1, previous); i < phases.length; i++) {
    metrics.stageSeconds.observe({ platform: after.platform, stage: phases[i - 1].stage }, Math.max(0, phases[i].startedAt - phases[i - 1].startedAt) / 1000);
  }
  if (phases.length && isTerminal(after.status) && !(before && isTerminal(before.status))) {
    const last = phases[phases.length - 1];
    const end = after.finishedAt ?? after.updatedAt;
    if (end !== undefined) metrics.stageSeconds.observe({ platform: after.platform, stage: last.stage }, Math.max(0, end - last.startedAt) / 1000);
  }
}
