/** genwatch itself under measure: the real App, router, stores, dialects and components. */
import { createApp, h, watch } from 'vue';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory } from 'vue-router';
import { Chart } from 'chart.js';
import App from '../../src/App.vue';
import StepChart from '../../src/components/platforms/StepChart.vue';
import { createAppRouter } from '../../src/router';
import { useJobsStore } from '../../src/stores/jobs';
import { useSourcesStore } from '../../src/stores/sources';
import { jobKey } from '../../src/model/job';
import '../../src/styles.css';
import { ChartWork, frames } from './measure';
import { exposeBench } from './expose';
import { BENCH_SOURCES, parseMessages } from './load';
import type { Subject } from './subject';

const work = new ChartWork();
Chart.register(work.plugin);

const pinia = createPinia();
setActivePinia(pinia);
const jobs = useJobsStore();
const sources = useSourcesStore();
for (const source of Object.values(BENCH_SOURCES)) sources.add(source);

let domUpdated: () => void = () => {};
watch(
  () => jobs.revision,
  () => domUpdated(),
  { flush: 'post' },
);

const subject: Subject = {
  name: 'genwatch',
  async mountBoard() {
    const router = createAppRouter(createMemoryHistory());
    createApp(App).use(pinia).use(router).mount('#app');
    await router.push('/');
    await router.isReady();
    await frames(5);
  },
  async mountCharts(taskIds) {
    const source = BENCH_SOURCES.imagegen;
    createApp({
      setup() {
        // re-rendered on every publish of the store, like the job page
        return () => {
          void jobs.revision;
          return h(
            'div',
            { class: 'bench-charts' },
            taskIds.map((taskId) => {
              const job = jobs.get(jobKey(source.id, taskId));
              return job ? h(StepChart, { key: taskId, job }) : null;
            }),
          );
        };
      },
    })
      .use(pinia)
      .mount('#charts');
    await frames(5);
  },
  ingest(platform, messages) {
    jobs.ingestMany(parseMessages(platform, messages));
  },
  backlog: () => jobs.backlog(),
  onDomUpdate(callback) {
    domUpdated = callback;
  },
  boardScroller: () => document.querySelector<HTMLElement>('.board__scroll')!,
  domRows: () => document.querySelectorAll('tr[data-job]').length,
};

exposeBench(subject, work);
