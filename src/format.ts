/** Display helpers: short, human units. */

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const seconds = ms / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} m ${String(Math.round(seconds % 60)).padStart(2, '0')} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${String(minutes % 60).padStart(2, '0')} m`;
}

export function formatAge(at: number | undefined, now: number): string {
  if (at === undefined) return '—';
  const ms = Math.max(0, now - at);
  if (ms < 5000) return 'just now';
  return `${formatDuration(ms).replace(/\.\d/, '')} ago`;
}

export function formatEta(etaAt: number | undefined, now: number): string {
  if (etaAt === undefined) return '—';
  const ms = etaAt - now;
  return ms <= 0 ? 'any moment' : formatDuration(ms);
}

// toLocaleTimeString builds a formatter on every call; the event log calls this for every row it draws
let clockFormat: Intl.DateTimeFormat | undefined;

export function formatClock(at: number | undefined): string {
  if (at === undefined) return '—';
  clockFormat ??= new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  return `${clockFormat.format(at)}.${String(Math.trunc(at) % 1000).padStart(3, '0')}`;
}
