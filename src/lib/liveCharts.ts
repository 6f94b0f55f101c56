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

/** colours from the theme's custom properties, read when a chart is made */
export function themeColors(): { muted: string; grid: string } {
  const style = getComputedStyle(document.documentElement);
  return {
    muted: style.getPropertyValue('--muted').trim() || '#8b98a8',
    grid: style.getPropertyValue('--line').trim() || '#263040',
  };
}
