import type { ProviderSettings } from './core/providerModule.ts';

/** Where an ingest function gets its provider's keys; `refresh` asks again after a signature failure. */
export interface KeySource {
  settings(): Promise<ProviderSettings>;
  /** Reloads the keys if the last load is older than the refresh interval; true when it reloaded. */
  refresh(): Promise<boolean>;
}

/**
 * Parses a stored key value: JSON `{"keys": ["k1", "k2"]}` (several during a rotation) or one plain key.
 */
export function parseKeys(value: string): string[] {
  const text = value.trim();
  if (text.startsWith('{')) {
    let parsed: { keys?: unknown };
    try {
      parsed = JSON.parse(text) as { keys?: unknown };
    } catch {
      // JSON.parse's message quotes the text around the error: that would be part of a secret.
      throw new Error('provider keys are not valid JSON (expected {"keys": ["..."]})');
    }
    if (!Array.isArray(parsed.keys) || !parsed.keys.every((k) => typeof k === 'string')) {
      throw new Error('key JSON must be {"keys": ["..."]}');
    }
    return parsed.keys.filter((k) => k.length > 0);
  }
  return text ? [text] : [];
}

/**
 * Keys fetched by `load`, cached for the life of the container, refreshed at most once per
 * `minRefreshMs` when a signature fails (a rotation may have just added the key that signed it).
 */
export function cachedKeySource(
  load: () => Promise<string[]>,
  options: Omit<ProviderSettings, 'keys'>,
  minRefreshMs = 60_000,
  clock: () => number = Date.now,
): KeySource {
  let keys: Promise<string[]> | undefined;
  let loadedAt = 0;
  const reload = () => {
    loadedAt = clock();
    keys = load();
    keys.catch(() => {
      keys = undefined; // a failed load is retried on the next request, not cached
    });
    return keys;
  };
  return {
    async settings() {
      return { ...options, keys: await (keys ?? reload()) };
    },
    async refresh() {
      if (clock() - loadedAt < minRefreshMs) return false;
      await reload();
      return true;
    },
  };
}
