/**
 * Chart.js for charts that grow while they are watched. Points are appended to the chart's own
 * arrays (never rebuilt from the store), drawn decimated to about one point per pixel, and
 * redrawn at most once per frame under a shared time budget, so a dozen charts of 10,000
 * points each cost a few milliseconds a frame instead of tens.
 */
import { Chart, Decimation, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Legend, Decimation);

export { Chart };

/** chart redraws per frame stop once this much time went into them; the rest go next frame */
const FRAME_BUDGET_MS = 4;

const pending = new Set<Chart>();
let frame = 0;

export function scheduleChartUpdate(chart: Chart): void {
  pending.add(chart);
  if (!frame) frame = requestAnimationFrame(updatePending);
}

export function cancelChartUpdate(chart: Chart): void {
  pending.delete(chart);
}

function updatePending(): void {
  frame = 0;
  const startedAt = performance.now();
  for (const chart of pending) {
    pending.delete(chart);
    // 'none': no animation; a live chart that animates every update costs frames and reads worse
    chart.update('none');
    if (performance.now() - startedAt > FRAME_BUDGET_MS) break;
  }
  if (pending.size) frame = requestAnimationFrame(updatePending);
}

export interface Point {
  x: number;
  y: number;
}

/**
 * A theme colour as canvas understands it. The custom properties hold light-dark() pairs, which
 * getPropertyValue returns unresolved; a probe element's computed colour is the resolved one.
 */
export function themeColor(property: string, fallback: string): string {
  if (typeof document === 'undefined') return fallback;
  const probe = document.createElement('span');
  probe.style.color = `var(${property})`;
  probe.hidden = true;
  document.body.append(probe);
  const resolved = getComputedStyle(probe).color;
  probe.remove();
  return resolved || fallback;
}

/** colours from the theme's custom properties, read when a chart is made */
export function themeColors(): { muted: string; grid: string; text: string; ok: string; bad: string; warn: string; accent: string; info: string } {
  return {
    muted: themeColor('--muted', '#8b98a8'),
    grid: themeColor('--line', '#263040'),
    text: themeColor('--text', '#e6edf3'),
    ok: themeColor('--ok', '#34d399'),
    bad: themeColor('--bad', '#f87171'),
    warn: themeColor('--warn', '#fbbf24'),
    accent: themeColor('--accent', '#38bdf8'),
    info: themeColor('--info', '#a5b4fc'),
  };
}
