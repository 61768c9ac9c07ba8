import type { ProviderModule } from '../core/providerModule.ts';

/**
 * Every provider the system serves, by route name; the name is also its folder,
 * `shared/providers/<name>/`, where everything else about it lives (schemas, verify, normalize, samples,
 * reviewed fixtures, README, and the signer in `sign.ts` that tests, the bench and `npm run send` find
 * through `signers.ts`). Adding a provider: its folder, and one line here.
 *
 * Each entry is a dynamic import, so an ingest Lambda (one per provider, one bundle) evaluates only its
 * own provider's module at cold start. Only the Lambda path is imported from here: no signing code.
 */
export const PROVIDERS: Record<string, () => Promise<ProviderModule>> = {
  openpoly: async () => (await import('./openpoly/index.ts')).openpoly,
  apara: async () => (await import('./apara/index.ts')).apara,
  coinme: async () => (await import('./coinme/index.ts')).coinme,
  'gnosis-pay': async () => (await import('./gnosis-pay/index.ts')).gnosisPay,
  'standard-webhooks': async () => (await import('./standard-webhooks/index.ts')).standardWebhooks,
};

export const PROVIDER_NAMES: readonly string[] = Object.keys(PROVIDERS);

/** `gnosis-pay` → `GnosisPay`: how a provider's route name appears in stack outputs and construct ids. */
export function pascalName(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The provider module for a route name, or a clear error. */
export function providerNamed(name: string): Promise<ProviderModule> {
  const load = PROVIDERS[name];
  if (!load) throw new Error(`unknown provider "${name}"; known: ${PROVIDER_NAMES.join(', ')}`);
  return load();
}

/** Every provider module, by route name (local runs and tools serve all providers in one process). */
export async function loadProviders(): Promise<Record<string, ProviderModule>> {
  const modules = await Promise.all(PROVIDER_NAMES.map(providerNamed));
  return Object.fromEntries(PROVIDER_NAMES.map((name, i) => [name, modules[i] as ProviderModule]));
}
