/** genwatch itself under measure: the real App, router, stores, dialects and components. */
import { createApp, h, watch } from 'vue';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory } from 'vue-router';
import { Chart } from 'chart.js';
import App from '../../src/App.vue';
import StepChart from '../../src/components/platforms/StepChart.vue';
import { createAppRouter } from '../../src/router';
import { dialectFor } from '../../src/protocols';
import type { Source } from '../../src/protocols/source';
import { useJobsStore } from '../../src/stores/jobs';
import { useSourcesStore } from '../../src/stores/sources';
import { jobKey } from '../../src/model/job';
import '../../src/styles.css';
import { ChartWork, frames } from './measure';
import { exposeBench } from './expose';
import type { Subject } from './subject';

const work = new ChartWork();
Chart.register(work.plugin);

const pinia = createPinia();
setActivePinia(pinia);
const jobs = useJobsStore();
const sources = useSourcesStore();
const benchSources: Record<'codebegen' | 'imagegen', Source> = {
  codebegen: { id: 'bench-codebegen', name: 'CodeBegen (bench)', kind: 'codebegen', baseUrl: 'http://bench.invalid', replay: true },
  imagegen: { id: 'bench-imagegen', name: 'Images (bench)', kind: 'imagegen', baseUrl: 'http://bench.invalid', replay: true },
};
for (const source of Object.values(benchSources)) sources.add(source);

let domUpdated: () => void = () => {};
watch(() => jobs.revision, () => domUpdated(), { flush: 'post' });

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
    const source = benchSources.imagegen;
    createApp({
      setup() {
        // re-rendered on every publish of the store, like the job page
        return () => {
          void jobs.revision;
          return h('div', { class: 'bench-charts' }, taskIds.map((taskId) => {
            const job = jobs.get(jobKey(source.id, taskId));
            return job ? h(StepChart, { key: taskId, job }) : null;
          }));
        };
      },
    }).use(pinia).mount('#charts');
    await frames(5);
  },
  ingest(platform, messages) {
    const source = benchSources[platform];
    const dialect = dialectFor(source.kind)!;
    const receivedAt = Date.now();
    const events = [];
    for (const message of messages) {
      events.push(...dialect.parseStreamMessage({ source, jobId: message.jobId, receivedAt }, { data: message.data, event: 'message', id: message.id, lastEventId: message.id }));
    }
    jobs.ingestMany(events);
  },
  backlog: () => jobs.backlog(),
  onDomUpdate(callback) {
    domUpdated = callback;
  },
  boardScroller: () => document.querySelector<HTMLElement>('.board__scroll')!,
  domRows: () => document.querySelectorAll('tr[data-job]').length,
};

exposeBench(subject, work);
