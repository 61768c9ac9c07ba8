import type { ProviderSettings } from './providerModule.ts';

/** Accepted clock skew of a signed timestamp when the deployment sets none (providers' 5 minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Whether a delivery signed at `signedAtMs` is within the accepted skew of `now`, either way. */
export function signedRecently(signedAtMs: number, now: Date, settings: ProviderSettings): boolean {
  const toleranceMs = (settings.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS) * 1000;
  return Math.abs(now.getTime() - signedAtMs) <= toleranceMs;
}
