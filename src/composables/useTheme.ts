import { computed } from 'vue';
import { useStorage } from '@vueuse/core';

export type ThemeChoice = 'system' | 'light' | 'dark';
const ORDER: ThemeChoice[] = ['system', 'light', 'dark'];

/** Light or dark follows the system unless the operator picks one; the choice is remembered. */
export function useTheme() {
  const choice = useStorage<ThemeChoice>('genwatch.theme', 'system');
  function apply(value: ThemeChoice) {
    if (value === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = value;
  }
  apply(choice.value);
  function cycle() {
    choice.value = ORDER[(ORDER.indexOf(choice.value) + 1) % ORDER.length];
    apply(choice.value);
  }
  return { choice: computed(() => choice.value), cycle };
}
