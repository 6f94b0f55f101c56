import { acceptHMRUpdate, defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import * as v from 'valibot';
import { listingKey, type ListingHealth } from '../feeds/discovery';
import { SourceSchema, type Source } from '../protocols/source';
import { describeIssues } from '../protocols/wire';

/**
 * Tokens an operator chose to keep across reloads of this tab: sessionStorage (gone when the
 * tab closes, never shared with other tabs), never localStorage.
 */
const KeptTokens = {
  prefix: 'genwatch.token.',
  storage(): Storage | undefined {
    try {
      return typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
    } catch {
      return undefined; // storage blocked: nothing is kept
    }
  },
  get(id: string): string | undefined {
    return this.storage()?.getItem(this.prefix + id) ?? undefined;
  },
  set(id: string, token: string): void {
    try {
      this.storage()?.setItem(this.prefix + id, token);
    } catch {
      // full or blocked: the token stays in memory only
    }
  },
  forget(id: string): void {
    this.storage()?.removeItem(this.prefix + id);
  },
  ids(): string[] {
    const storage = this.storage();
    if (!storage) return [];
    const ids: string[] = [];
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i);
      if (key?.startsWith(this.prefix)) ids.push(key.slice(this.prefix.length));
    }
    return ids;
  },
};

/**
 * Platform sources: read from /sources.json at start-up, merged with those the operator adds.
 * Tokens stay in memory only.
 */
export const useSourcesStore = defineStore('sources', () => {
  const sources = shallowRef<readonly Source[]>([]);
  const state = ref<'idle' | 'loading' | 'ready' | 'error'>('idle');
  const loadError = ref<string>();
  /** entries of /sources.json that were skipped, with the reason */
  const rejected = shallowRef<readonly string[]>([]);
  /** every listing read, by listingKey */
  const listings = shallowRef<ReadonlyMap<string, ListingHealth>>(new Map());
  /** sources whose operator-given token is kept in this tab's session storage, by their choice */
  const keptTokens = shallowRef<ReadonlySet<string>>(new Set(KeptTokens.ids()));
  let loading: Promise<void> | undefined;

  function load(url = '/sources.json'): Promise<void> {
    return loadFrom(async () => {
      const response = await fetch(url, { headers: { Accept: 'application/json' } });
      if (!response.ok) throw new Error(`${url} answered ${response.status}`);
      const list: unknown = await response.json();
      if (!Array.isArray(list)) throw new Error(`${url} is not a JSON array`);
      const accepted: Source[] = [];
      const skipped: string[] = [];
      list.forEach((entry, index) => {
        const result = v.safeParse(SourceSchema, entry);
        if (result.success) accepted.push(result.output);
        else skipped.push(`entry ${index + 1}: ${describeIssues(result.issues)}`);
      });
      return { accepted, skipped };
    });
  }

  /** Sources read once, from /sources.json or from a relay (which keeps their tokens). */
  function loadFrom(read: () => Promise<{ accepted: Source[]; skipped: string[] }>): Promise<void> {
    loading ??= (async () => {
      state.value = 'loading';
      try {
        const { accepted, skipped } = await read();
        rejected.value = skipped;
        merge(accepted);
        state.value = 'ready';
      } catch (error) {
        loadError.value = (error as Error).message;
        state.value = 'error';
      }
    })();
    return loading;
  }

  function merge(incoming: readonly Source[]): void {
    const byId = new Map(sources.value.map((source) => [source.id, source]));
    for (const source of incoming) {
      // a token the operator chose to keep for this tab wins over the configured one
      const kept = source.replay ? undefined : KeptTokens.get(source.id);
      byId.set(source.id, kept ? { ...source, token: kept } : source);
    }
    sources.value = [...byId.values()];
  }

  /** @returns an error message, or undefined when the source was added */
  function add(entry: unknown): string | undefined {
    const result = v.safeParse(SourceSchema, entry);
    if (!result.success) return describeIssues(result.issues);
    merge([result.output]);
    return undefined;
  }

  /**
   * A new token from the operator (the old one was rejected): in memory, and in this tab's
   * session storage only when they ask for it (`keep`).
   */
  function setToken(id: string, token: string, { keep = false } = {}): Source | undefined {
    const current = byId(id);
    if (!current) return undefined;
    if (keep) KeptTokens.set(id, token);
    else KeptTokens.forget(id);
    keptTokens.value = new Set(KeptTokens.ids());
    const next = { ...current, token };
    merge([next]);
    return byId(id);
  }

  /** Forget a kept token: it stays in memory for this page, gone after a reload. */
  function forgetKeptToken(id: string): void {
    KeptTokens.forget(id);
    keptTokens.value = new Set(KeptTokens.ids());
  }

  let replays = 0;
  /** A read-only source for replaying an export: nothing is ever fetched for it. */
  function addReplay(fileName: string, kind: Source['kind']): Source {
    replays++;
    const source: Source = {
      id: `replay-${replays}`,
      name: `Replay ${replays}: ${fileName.slice(0, 60)}`,
      kind,
      baseUrl: 'http://replay.invalid',
      replay: true,
    };
    merge([source]);
    return source;
  }

  function byId(id: string): Source | undefined {
    return sources.value.find((source) => source.id === id);
  }

  function setListing(health: ListingHealth): void {
    const next = new Map(listings.value);
    next.set(listingKey(health.sourceId, health.listingId), health);
    listings.value = next;
  }

  /** A source's listings are read anew (a new token): their old rows go. */
  function clearListings(sourceId: string): void {
    listings.value = new Map([...listings.value].filter(([, health]) => health.sourceId !== sourceId));
  }

  /** Behind a relay, the relays read the listings: their rows, as the connections page fetched them. */
  function replaceListings(rows: readonly ListingHealth[]): void {
    listings.value = new Map(rows.map((health) => [listingKey(health.sourceId, health.listingId), health]));
  }

  function listingsOf(sourceId: string): ListingHealth[] {
    return [...listings.value.values()].filter((health) => health.sourceId === sourceId);
  }

  return {
    sources,
    state,
    loadError,
    rejected,
    listings,
    keptTokens,
    load,
    loadFrom,
    add,
    addReplay,
    byId,
    setToken,
    forgetKeptToken,
    setListing,
    clearListings,
    replaceListings,
    listingsOf,
  };
});

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSourcesStore, import.meta.hot));
