/**
 * The sender's side of every registered provider: how it signs, which keys it holds, how it makes a new
 * event. For tests, the local sample sender, key generation and the bench; never imported by a Lambda
 * (the ingest bundle test checks that no signing code reaches it).
 *
 * Each provider's folder holds its own in `sign.ts` (exporting `signer`), found by the provider's route
 * name: the registry line is the only place a provider is listed.
 */
import type { SignDelivery } from '../core/providerModule.ts';
import { PROVIDER_NAMES, providerNamed } from './registry.ts';

/** Keys for one provider: what the provider signs with, and what we verify with. */
export interface ProviderKeys {
  signingKey: string;
  verifyKeys: string[];
}

/** A JSON object as parsed losslessly from a sample. */
export type JsonObject = Record<string, unknown>;

export interface ProviderSigner {
  /** Signs a delivery exactly as the provider does (its headers, its timestamp format). */
  sign: SignDelivery;
  /** Fresh keys: a random shared secret, or a key pair standing in for the provider's. */
  generateKeys(): ProviderKeys;
  /**
   * Turns a parsed sample into another genuine event of the same kind: a new provider event id (and a
   * new business entity, so events spread over FIFO message groups as real traffic does). Changes `body`
   * in place. The bench sends these; the provider test suite checks they get a new dedupe key.
   */
  asNewEvent(body: JsonObject, id: string): void;
  /**
   * The least work a receiver must do per delivery, for the bench's CPU floor: check the signature over
   * the same bytes (keys already parsed) and `JSON.parse` the body. Optional: without it the bench uses
   * the provider's own `verify`, which also parses its headers (a slightly higher floor).
   */
  signatureFloor?(
    rawBody: Buffer,
    headers: Readonly<Record<string, string>>,
    verifyKey: string,
  ): () => boolean;
}

async function loadSigner(name: string): Promise<ProviderSigner> {
  // The folder is the route name (`shared/providers/<name>/`), as for the provider module itself.
  const { signer } = (await import(`./${name}/sign.ts`)) as { signer?: ProviderSigner };
  if (!signer) throw new Error(`shared/providers/${name}/sign.ts exports no \`signer\``);
  const module = await providerNamed(name);
  if (module.name !== name) {
    throw new Error(`the registry lists "${name}" but its module is named "${module.name}"`);
  }
  return signer;
}

const SIGNERS: ReadonlyMap<string, ProviderSigner> = new Map(
  await Promise.all(PROVIDER_NAMES.map(async (name) => [name, await loadSigner(name)] as const)),
);

/** The signer of a registered provider, or a clear error. */
export function signerOf(provider: string): ProviderSigner {
  const signer = SIGNERS.get(provider);
  if (!signer) throw new Error(`unknown provider "${provider}"; known: ${PROVIDER_NAMES.join(', ')}`);
  return signer;
}

export { PROVIDER_NAMES };
