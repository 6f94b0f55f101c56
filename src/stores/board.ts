import { acceptHMRUpdate, defineStore } from 'pinia';
import { shallowRef } from 'vue';
import { parseBoardQuery, type BoardQuery } from '../model/boardQuery';

/** What the board last showed, so a job page can step to the previous and next job of it. */
export const useBoardStore = defineStore('board', () => {
  const query = shallowRef<BoardQuery>(parseBoardQuery({}));
  /** the URL query of the board as last seen, to go back to it */
  const routeQuery = shallowRef<Record<string, string>>({});

  function remember(next: BoardQuery, params: Record<string, string>): void {
    query.value = next;
    routeQuery.value = params;
  }

  return { query, routeQuery, remember };
});

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useBoardStore, import.meta.hot));
