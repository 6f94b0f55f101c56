import { acceptHMRUpdate, defineStore } from 'pinia';
import { shallowRef, watch } from 'vue';
import { isTerminal } from '../model/job';
import { useJobsStore } from './jobs';

/** Opt-in desktop notifications when a watched job completes or fails. */
export const useNotifications = defineStore('notifications', () => {
  const jobs = useJobsStore();
  const watched = shallowRef<ReadonlySet<string>>(new Set());
  const supported = typeof window !== 'undefined' && 'Notification' in window;

  async function toggle(key: string) {
    const next = new Set(watched.value);
    if (next.has(key)) next.delete(key);
    else {
      if (supported && Notification.permission === 'default') await Notification.requestPermission();
      next.add(key);
    }
    watched.value = next;
  }

  watch(
    () => jobs.jobs,
    () => {
      if (watched.value.size === 0) return;
      const next = new Set(watched.value);
      for (const key of watched.value) {
        const job = jobs.get(key);
        if (!job || !isTerminal(job.status)) continue;
        next.delete(key);
        if (supported && Notification.permission === 'granted') new Notification(`genwatch: ${job.status}`, { body: job.title, tag: key });
      }
      if (next.size !== watched.value.size) watched.value = next;
    },
  );

  return { supported, watched, toggle, watching: (key: string) => watched.value.has(key) };
});

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useNotifications, import.meta.hot));
