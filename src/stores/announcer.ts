import { acceptHMRUpdate, defineStore } from 'pinia';
import { ref } from 'vue';

/** Words for the polite live region: what a screen reader user should hear as it happens. */
export const useAnnouncer = defineStore('announcer', () => {
  const message = ref('');
  function say(text: string) {
    // the same words twice in a row must still be read: clear, then set
    message.value = '';
    queueMicrotask(() => (message.value = text));
  }
  return { message, say };
});

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useAnnouncer, import.meta.hot));
