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
import { dialectFor } from '../../src/protocols';
import type { Source } from '../../src/protocols/source';
import { jobKey } from '../../src/model/job';
import '../../src/styles.css';
import NaiveBoard from '../naive/NaiveBoard.vue';
import NaiveChart from '../naive/NaiveChart.vue';
import { ingestEvent, state } from '../naive/store';
import { ChartWork, frames, framesWithin } from './measure';
import { exposeBench } from './expose';
import type { Subject } from './subject';

const work = new ChartWork();
Chart.register(work.plugin);

const benchSources: Record<'codebegen' | 'imagegen', Source> = {
  codebegen: { id: 'bench-codebegen', name: 'CodeBegen (bench)', kind: 'codebegen', baseUrl: 'http://bench.invalid', replay: true },
  imagegen: { id: 'bench-imagegen', name: 'Images (bench)', kind: 'imagegen', baseUrl: 'http://bench.invalid', replay: true },
};

let domUpdated: () => void = () => {};
watch(() => state.value.version, () => domUpdated(), { flush: 'post' });

const subject: Subject = {
  name: 'naive',
  async mountBoard() {
    const router = createAppRouter(createMemoryHistory());
    createApp(NaiveBoard).use(createPinia()).use(router).mount('#app');
    await router.push('/');
    await frames(5);
  },
  async mountCharts(taskIds) {
    createApp({ render: () => h('div', taskIds.map((taskId) => h(NaiveChart, { key: taskId, jobKey: jobKey(benchSources.imagegen.id, taskId) }))) }).mount('#charts');
    await framesWithin(5, 1000);
  },
  ingest(platform, messages) {
    const source = benchSources[platform];
    const dialect = dialectFor(source.kind)!;
    for (const message of messages) {
      for (const event of dialect.parseStreamMessage({ source, jobId: message.jobId, receivedAt: Date.now() }, { data: message.data, event: 'message', id: message.id, lastEventId: message.id })) ingestEvent(event);
    }
  },
  backlog: () => 0,
  onDomUpdate(callback) {
    domUpdated = callback;
  },
  boardScroller: () => document.querySelector<HTMLElement>('.naive__scroll')!,
  domRows: () => document.querySelectorAll('tr[data-job]').length,
};

exposeBench(subject, work);
