import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createMemoryHistory, createRouter } from 'vue-router';
import { defineComponent, h } from 'vue';
import JobRow from '../../src/components/JobRow.vue';
import { newJob, type Job } from '../../src/model/job';

const router = createRouter({
  history: createMemoryHistory(),
  routes: [
    { path: '/', component: defineComponent({ render: () => null }) },
    { path: '/jobs/:sourceId/:jobId', name: 'job', component: defineComponent({ render: () => null }) },
  ],
});

const NOW = 1_800_000_000_000;

function job(overrides: Partial<Job> = {}): Job {
  return { ...newJob('codebegen-demo', 'gen_42', 'codebegen'), title: 'Create a user API ✅', createdAt: NOW - 65_000, lastSeenAt: NOW - 1000, ...overrides };
}

function mountRow(value: Job) {
  // a <tr> needs a table around it to be parsed where it belongs
  const Table = defineComponent({ render: () => h('table', [h('tbody', [h(JobRow, { job: value, now: NOW })])]) });
  return mount(Table, { global: { plugins: [router] } });
}

describe('JobRow', () => {
  it('shows status as text, progress as an accessible bar, stage, ETA and age', () => {
    const wrapper = mountRow(job({ status: 'running', progress: 42.4, stage: 'code_generation', etaAt: NOW + 30_000, transport: 'sse', link: 'live' }));
    expect(wrapper.get('[data-testid="status"]').text()).toBe('running');
    const bar = wrapper.get('[role="progressbar"]');
    expect(bar.attributes('aria-valuenow')).toBe('42');
    expect(bar.attributes('aria-label')).toBe('Progress of Create a user API ✅');
    expect(wrapper.text()).toContain('42%');
    expect(wrapper.text()).toContain('code generation');
    expect(wrapper.text()).toContain('30 s');
    expect(wrapper.text()).toContain('1 m 05 s ago');
    expect(wrapper.get('[data-testid="transport"]').text()).toBe('live · stream');
  });

  it('links to the shareable job URL', () => {
    const wrapper = mountRow(job());
    expect(wrapper.get('a').attributes('href')).toBe('/jobs/codebegen-demo/gen_42');
    expect(wrapper.get('a').text()).toBe('Create a user API ✅');
  });

  it('marks a running job that went quiet as stale, and a polled one as polling', () => {
    expect(
      mountRow(job({ status: 'running', transport: 'sse', link: 'live', lastSeenAt: NOW - 60_000 }))
        .get('[data-testid="transport"]')
        .text(),
    ).toBe('stream · stale');
    expect(
      mountRow(job({ status: 'running', transport: 'polling', link: 'polling' }))
        .get('[data-testid="transport"]')
        .text(),
    ).toBe('polling');
  });
});
