import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_HISTORY, HISTORY_LIMIT_KEY, historyOptionsFromSettings } from '../../src/persistence/history';

// The operator's limit on kept finished jobs, read from local storage at start.

function storageWith(entries: Record<string, string>): Storage {
  const map = new Map(Object.entries(entries));
  return {
    get length() {
      return map.size;
    },
    key: (index) => [...map.keys()][index] ?? null,
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    removeItem: (key) => void map.delete(key),
    clear: () => map.clear(),
  };
}

const original = Object.getOwnPropertyDescriptor(globalThis, 'localStorage');
afterEach(() => {
  if (original) Object.defineProperty(globalThis, 'localStorage', original);
  else delete (globalThis as { localStorage?: Storage }).localStorage;
});
const use = (storage: Storage) => Object.defineProperty(globalThis, 'localStorage', { value: storage, configurable: true });

describe('kept history settings', () => {
  it('keeps the default when the operator set nothing (not a limit of 0, which would drop every finished job)', () => {
    use(storageWith({}));
    expect(historyOptionsFromSettings()).toEqual(DEFAULT_HISTORY);
  });

  it('takes the operator’s limit, 0 included, and ignores what is not a count', () => {
    use(storageWith({ [HISTORY_LIMIT_KEY]: '0' }));
    expect(historyOptionsFromSettings().maxFinishedJobs).toBe(0);
    use(storageWith({ [HISTORY_LIMIT_KEY]: '150' }));
    expect(historyOptionsFromSettings().maxFinishedJobs).toBe(150);
    use(storageWith({ [HISTORY_LIMIT_KEY]: 'lots' }));
    expect(historyOptionsFromSettings()).toEqual(DEFAULT_HISTORY);
  });
});
