import type { Component } from 'vue';
import type { Job, PlatformKind } from '../../model/job';
import type { Source } from '../../protocols/source';

// Each platform's panel on its job page is <Kind>Panel.vue in this folder, found by its name:
// adding a platform adds its file and nothing here.
const modules = import.meta.glob<{ default: Component }>('./*Panel.vue', { eager: true });
const PANELS = new Map(Object.entries(modules).map(([path, module]) => [/\/(\w+)Panel\.vue$/.exec(path)![1].toLowerCase(), module.default]));

export function panelFor(kind: PlatformKind): Component | undefined {
  return PANELS.get(kind);
}

/** What every platform panel is given. */
export interface PanelProps {
  job: Job;
  source: Source;
}
