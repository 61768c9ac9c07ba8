import type { ProviderModule, SignDelivery } from '../core/providerModule.ts';
import { sign as signApara } from './apara/sign.ts';
import { sign as signCoinme } from './coinme/sign.ts';
import { sign as signGnosisPay } from './gnosis-pay/sign.ts';
import { sign as signOpenpoly } from './openpoly/sign.ts';

export interface ProviderEntry {
  /**
   * Loads the provider module. A dynamic import, so an ingest Lambda (one per provider, one bundle)
   * evaluates only its own provider's schemas at cold start.
   */
  load: () => Promise<ProviderModule>;
  /** Signs like the provider does; for tests and the local sample sender only. */
  sign: SignDelivery;
  /** Shared HMAC secrets, or an Ed25519 key pair (the provider signs, we hold its public key). */
  keyKind: 'hmac' | 'ed25519';
}

/** Every provider the system serves, by route name. Adding a provider: its folder, and one entry here. */
export const PROVIDERS: Record<string, ProviderEntry> = {
  openpoly: {
    load: async () => (await import('./openpoly/index.ts')).openpoly,
    sign: signOpenpoly,
    keyKind: 'hmac',
  },
  apara: { load: async () => (await import('./apara/index.ts')).apara, sign: signApara, keyKind: 'hmac' },
  coinme: { load: async () => (await import('./coinme/index.ts')).coinme, sign: signCoinme, keyKind: 'hmac' },
  'gnosis-pay': {
    load: async () => (await import('./gnosis-pay/index.ts')).gnosisPay,
    sign: signGnosisPay,
    keyKind: 'ed25519',
  },
};

export const PROVIDER_NAMES: readonly string[] = Object.keys(PROVIDERS);

/** The provider entry for a route name, or a clear error. */
export function providerEntry(name: string): ProviderEntry {
  const entry = PROVIDERS[name];
  if (!entry) throw new Error(`unknown provider "${name}"; known: ${PROVIDER_NAMES.join(', ')}`);
  return entry;
}

/** The provider module for a route name, or a clear error. */
export function providerNamed(name: string): Promise<ProviderModule> {
  return providerEntry(name).load();
}

/** Every provider module, by route name (local runs and tools serve all providers in one process). */
export async function loadProviders(): Promise<Record<string, ProviderModule>> {
  const modules = await Promise.all(PROVIDER_NAMES.map(providerNamed));
  return Object.fromEntries(PROVIDER_NAMES.map((name, i) => [name, modules[i] as ProviderModule]));
}
