/**
 * The naive baseline: the same dialects, reducer and row component, wired the obvious way (a
 * deep ref store of every event, a write per event, every row rendered, animated charts updated
 * per event).
 */
import { createApp, h, watch } from 'vue';
import { createPinia } from 'pinia';
import { createMemoryHistory } from 'vue-router';
import { Chart } from 'chart.js';
import { createAppRouter } from '../../src/router';
import { jobKey } from '../../src/model/job';
import '../../src/styles.css';
import NaiveBoard from '../naive/NaiveBoard.vue';
import NaiveChart from '../naive/NaiveChart.vue';
import { ingestEvent, state } from '../naive/store';
import { ChartWork, frames, framesWithin } from './measure';
import { exposeBench } from './expose';
import { BENCH_SOURCES, parseMessages } from './load';
import type { Subject } from './subject';

const work = new ChartWork();
Chart.register(work.plugin);

let domUpdated: () => void = () => {};
watch(
  () => state.value.version,
  () => domUpdated(),
  { flush: 'post' },
);

const subject: Subject = {
  name: 'naive',
  async mountBoard() {
    const router = createAppRouter(createMemoryHistory());
    createApp(NaiveBoard).use(createPinia()).use(router).mount('#app');
    await router.push('/');
    await frames(5);
  },
  async mountCharts(taskIds) {
    createApp({
      render: () =>
        h(
          'div',
          taskIds.map((taskId) => h(NaiveChart, { key: taskId, jobKey: jobKey(BENCH_SOURCES.imagegen.id, taskId) })),
        ),
    }).mount('#charts');
    await framesWithin(5, 1000);
  },
  ingest(platform, messages) {
    // applied one by one as they come, each a reactive write
    for (const event of parseMessages(platform, messages)) ingestEvent(event);
  },
  backlog: () => 0,
  onDomUpdate(callback) {
    domUpdated = callback;
  },
  boardScroller: () => document.querySelector<HTMLElement>('.naive__scroll')!,
  domRows: () => document.querySelectorAll('tr[data-job]').length,
};

exposeBench(subject, work);
