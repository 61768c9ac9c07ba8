import type { ProviderModule, SignDelivery } from '../core/providerModule.ts';
import { apara } from './apara/index.ts';
import { sign as signApara } from './apara/sign.ts';
import { coinme } from './coinme/index.ts';
import { sign as signCoinme } from './coinme/sign.ts';
import { gnosisPay } from './gnosis-pay/index.ts';
import { sign as signGnosisPay } from './gnosis-pay/sign.ts';
import { openpoly } from './openpoly/index.ts';
import { sign as signOpenpoly } from './openpoly/sign.ts';

export interface ProviderEntry {
  module: ProviderModule;
  /** Signs like the provider does; for tests and the local sample sender only. */
  sign: SignDelivery;
  /** Shared HMAC secrets, or an Ed25519 key pair (the provider signs, we hold its public key). */
  keyKind: 'hmac' | 'ed25519';
}

/** Every provider the system serves, by route name. Adding a provider: its folder, and one entry here. */
export const PROVIDERS: Record<string, ProviderEntry> = {
  openpoly: { module: openpoly, sign: signOpenpoly, keyKind: 'hmac' },
  apara: { module: apara, sign: signApara, keyKind: 'hmac' },
  coinme: { module: coinme, sign: signCoinme, keyKind: 'hmac' },
  'gnosis-pay': { module: gnosisPay, sign: signGnosisPay, keyKind: 'ed25519' },
};

export const PROVIDER_NAMES: readonly string[] = Object.keys(PROVIDERS);

/** The provider entry for a route name, or a clear error. */
export function providerEntry(name: string): ProviderEntry {
  const entry = PROVIDERS[name];
  if (!entry) throw new Error(`unknown provider "${name}"; known: ${PROVIDER_NAMES.join(', ')}`);
  return entry;
}

/** The provider module for a route name, or a clear error. */
export function providerNamed(name: string): ProviderModule {
  return providerEntry(name).module;
}
