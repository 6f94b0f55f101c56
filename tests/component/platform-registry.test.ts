import { describe, expect, it } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { computed, nextTick } from 'vue';
import LaunchForm from '../../src/components/LaunchForm.vue';
import PlatformBadge from '../../src/components/PlatformBadge.vue';
import { panelFor } from '../../src/components/platforms/panels';
import { DIALECTS, PLATFORM_KINDS } from '../../src/protocols';
import { launchDefaults, launchFields, parseLaunch, type LaunchSchema } from '../../src/protocols/launch';
import { SourceSchema } from '../../src/protocols/source';
import { useJobsStore } from '../../src/stores/jobs';
import { useSourcesStore } from '../../src/stores/sources';
import * as v from 'valibot';

// A platform is one registry entry: everything that lists, labels, draws or starts platforms
// comes from it. These hold for every platform the registry has, the fifth included.

describe('the platform registry', () => {
  it.each(PLATFORM_KINDS)('%s: label, badge, panel, source kind, and a launch form whose defaults pass or fail with a reason', (kind) => {
    const dialect = DIALECTS[kind];
    expect(dialect.kind).toBe(kind);
    expect(dialect.label).toMatch(/\S/);
    expect(dialect.glyph).toMatch(/^[A-Z]{2}$/);
    expect(panelFor(kind)).toBeDefined();
    expect(v.safeParse(SourceSchema, { id: 'x', name: 'X', kind, baseUrl: 'http://127.0.0.1:1' }).success).toBe(true);

    const badge = mount(PlatformBadge, { props: { platform: kind } });
    expect(badge.text()).toBe(`${dialect.glyph}${dialect.label}`);

    const schema = dialect.launchSchema as LaunchSchema;
    const fields = launchFields(schema);
    expect(fields.length).toBeGreaterThan(0);
    for (const field of fields) expect(field.title).not.toBe(field.name);
    // the empty form names what is missing, field by field
    const empty = parseLaunch(schema, launchDefaults(schema));
    expect(empty.ok).toBe(false);
    if (!empty.ok) for (const name of Object.keys(empty.fields)) expect(fields.map((field) => field.name)).toContain(name);
  });

  it('refuses a source of a kind it does not have, naming the ones it has', () => {
    const result = v.safeParse(SourceSchema, { id: 'x', name: 'X', kind: 'midjourney', baseUrl: 'http://127.0.0.1:1' });
    expect(result.success).toBe(false);
    expect(result.issues?.[0].message).toBe(`kind must be one of ${PLATFORM_KINDS.join(', ')}`);
  });
});

describe('the launch form', () => {
  it('draws each platform’s fields from its schema and keeps one draft per source', async () => {
    setActivePinia(createPinia());
    const sources = useSourcesStore();
    for (const kind of ['comfyui', 'takoss'] as const) sources.add({ id: `${kind}-1`, name: kind, kind, baseUrl: 'http://127.0.0.1:9' });
    const form = mount(LaunchForm);
    await nextTick();
    const labels = () => form.findAll('label').map((label) => (label.find('span').exists() ? label.find('span').text() : label.text()));
    expect(labels()).toEqual(['Source', 'Prompt', 'Negative prompt', 'Steps', 'Size', 'Checkpoint']);
    expect((form.find('input[name="steps"]').element as HTMLInputElement).value).toBe('20');
    expect(form.findAll('select[name="size"] option').map((option) => option.text())).toContain('1024x1024');
    await form.find('textarea[name="prompt"]').setValue('kept while away');
    await form.find('select[name="source"]').setValue('takoss-1');
    expect(labels()).toEqual(['Source', 'Project name', 'Description', 'Requirements']);
    await form.find('select[name="source"]').setValue('comfyui-1');
    expect((form.find('textarea[name="prompt"]').element as HTMLTextAreaElement).value).toBe('kept while away');
  });

  it('shows the schema’s messages on the fields it rejects and starts nothing', async () => {
    setActivePinia(createPinia());
    useSourcesStore().add({ id: 'comfy', name: 'ComfyUI', kind: 'comfyui', baseUrl: 'http://127.0.0.1:9' });
    const form = mount(LaunchForm);
    await nextTick();
    await form.find('input[name="steps"]').setValue('0');
    await form.find('form').trigger('submit');
    await flushPromises();
    expect(form.find('[role="alert"]').text()).toContain('Describe the image in at least 3 characters.');
    expect(form.find('[role="alert"]').text()).toContain('At least one step.');
    expect(form.find('textarea[name="prompt"]').attributes('aria-invalid')).toBe('true');
    expect(useJobsStore().jobs).toHaveLength(0);
  });
});

describe('the jobs store', () => {
  it('is read reactively through get() and eventsOf(): no revision counter in the caller', async () => {
    setActivePinia(createPinia());
    const jobs = useJobsStore();
    const progress = computed(() => jobs.get('s/j1')?.progress);
    const logged = computed(() => jobs.eventsOf('s/j1').length);
    expect(progress.value).toBeUndefined();
    const update = (value: number) => ({
      key: 's/j1',
      sourceId: 's',
      jobId: 'j1',
      platform: 'comfyui' as const,
      at: value,
      receivedAt: value,
      kind: 'update' as const,
      update: { status: 'running' as const, progress: value },
    });
    jobs.ingest(update(10));
    jobs.flush();
    expect(progress.value).toBe(10);
    jobs.ingest(update(40));
    jobs.flush();
    expect(progress.value).toBe(40);
    expect(logged.value).toBe(2);
  });

  it('takes its browser listeners away when it is disposed', () => {
    setActivePinia(createPinia());
    const added: string[] = [];
    const removed: string[] = [];
    const spy = (target: EventTarget) => {
      const add = target.addEventListener.bind(target);
      const remove = target.removeEventListener.bind(target);
      target.addEventListener = (type: string, ...rest: unknown[]) => (added.push(type), add(type, ...(rest as [EventListener])));
      target.removeEventListener = (type: string, ...rest: unknown[]) => (removed.push(type), remove(type, ...(rest as [EventListener])));
      return () => Object.assign(target, { addEventListener: add, removeEventListener: remove });
    };
    const restore = [spy(window), spy(document)];
    try {
      const jobs = useJobsStore();
      expect(added).toEqual(expect.arrayContaining(['pagehide', 'visibilitychange', 'online', 'offline']));
      jobs.$dispose();
      expect([...removed].sort()).toEqual([...added].sort());
    } finally {
      for (const undo of restore) undo();
    }
  });
});
