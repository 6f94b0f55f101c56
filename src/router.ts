import { createRouter, createWebHistory, type RouterHistory } from 'vue-router';
import BoardView from './views/BoardView.vue';

export function createAppRouter(history: RouterHistory = createWebHistory()) {
  return createRouter({
    history,
    routes: [
      { path: '/', name: 'board', component: BoardView },
      { path: '/jobs/:sourceId/:jobId', name: 'job', component: () => import('./views/JobView.vue'), props: true },
      { path: '/insights', name: 'insights', component: () => import('./views/InsightsView.vue') },
      { path: '/connections', name: 'connections', component: () => import('./views/ConnectionsView.vue') },
      { path: '/sources', name: 'sources', component: () => import('./views/SourcesView.vue') },
      { path: '/sources/:sourceId', name: 'source', component: () => import('./views/SourceInspectorView.vue'), props: true },
      { path: '/:unknown(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue') },
    ],
  });
}
