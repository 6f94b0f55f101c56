import { computed } from 'vue';
import { useColorMode } from '@vueuse/core';

export type ThemeChoice = 'system' | 'light' | 'dark';
const ORDER: ThemeChoice[] = ['system', 'light', 'dark'];

/**
 * Light or dark follows the system unless the operator picks one; the choice is remembered.
 * The resolved mode is set on <html data-theme>, which the stylesheet's light-dark() follows.
 */
export function useTheme() {
  // no transition-disabling <style> injection: the Content-Security-Policy allows no inline styles
  const mode = useColorMode({ attribute: 'data-theme', storageKey: 'genwatch.theme', disableTransition: false });
  // 'system' is what earlier versions stored for auto
  const choice = computed<ThemeChoice>(() => (mode.store.value === 'light' || mode.store.value === 'dark' ? mode.store.value : 'system'));
  function cycle() {
    const next = ORDER[(ORDER.indexOf(choice.value) + 1) % ORDER.length];
    mode.store.value = next === 'system' ? 'auto' : next;
  }
  return { choice, cycle };
}
