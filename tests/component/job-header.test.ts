import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import JobHeader from '../../src/components/JobHeader.vue';
import { newJob, type Job } from '../../src/model/job';

const NOW = 1_800_000_000_000;
const job = (overrides: Partial<Job> = {}): Job => ({
  ...newJob('codebegen-demo', 'gen_42', 'codebegen'),
  title: 'Booking API 🦷',
  status: 'running',
  progress: 61.7,
  stage: 'code_generation',
  message: '📝 Generating API endpoints... (5/8 files)',
  currentFile: 'app/models/user.py',
  etaAt: NOW + 12_000,
  createdAt: NOW - 20_000,
  lastSeenAt: NOW,
  transport: 'sse',
  link: 'live',
  ...overrides,
});

describe('JobHeader', () => {
  it('shows status, progress, stage, message with its emoji, current file and ETA', () => {
    const wrapper = mount(JobHeader, { props: { job: job(), now: NOW, sourceName: 'CodeBegen (demo)' } });
    expect(wrapper.get('h1').text()).toBe('Booking API 🦷');
    expect(wrapper.get('[data-testid="status"]').text()).toBe('running');
    expect(wrapper.get('[role="progressbar"]').attributes('aria-valuenow')).toBe('62');
    expect(wrapper.get('[data-testid="stage"]').text()).toBe('code generation');
    expect(wrapper.get('[data-testid="message"]').text()).toBe('📝 Generating API endpoints... (5/8 files)');
    expect(wrapper.get('[data-testid="current-file"]').text()).toBe('app/models/user.py');
    expect(wrapper.get('[data-testid="eta"]').text()).toBe('12 s');
    expect(wrapper.text()).toContain('CodeBegen (demo)');
  });

  it('shows a stopped connection as an alert with its reason', () => {
    const wrapper = mount(JobHeader, {
      props: {
        job: job({
          link: 'error',
          transport: 'none',
          linkFatal: true,
          linkDetail: '401 Not authorized: the token was rejected (Could not validate credentials)',
        }),
        now: NOW,
      },
    });
    const alert = wrapper.get('[role="alert"]');
    expect(alert.text()).toContain('401');
    expect(alert.text()).toContain('Could not validate credentials');
  });

  it('shows why a job is polled and how many messages were invalid', () => {
    const wrapper = mount(JobHeader, {
      props: { job: job({ transport: 'polling', link: 'polling', linkDetail: 'Stream failed 3 reconnects: polling every 2 s', protocolErrors: 2 }), now: NOW },
    });
    expect(wrapper.get('[data-testid="link-note"]').text()).toContain('Stream failed 3 reconnects');
    expect(wrapper.text()).toContain('2 invalid messages skipped');
  });
});
