import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PROVIDER_NAMES, providerEntry } from '../shared/providers/registry.ts';

/** Keys for one provider on a local run: what the provider signs with, and what we verify with. */
export interface LocalProviderKeys {
  signingKey: string;
  verifyKeys: string[];
}

export type LocalKeys = Record<string, LocalProviderKeys>;

/** `gnosis-pay` → `GNOSIS_PAY`: the prefix of a provider's key environment variables. */
export function envPrefix(provider: string): string {
  return provider.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** Fresh keys: a random HMAC secret, or an Ed25519 key pair standing in for the provider's. */
export function generateKeys(provider: string): LocalProviderKeys {
  if (providerEntry(provider).keyKind === 'ed25519') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return {
      signingKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      verifyKeys: [publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    };
  }
  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  return { signingKey: secret, verifyKeys: [secret] };
}

/**
 * Local keys: `<PROVIDER>_SIGNING_KEY` / `<PROVIDER>_VERIFY_KEYS` (JSON array or one key) from the
 * environment where set, else the git-ignored key file, created with fresh keys on first use.
 */
export function loadLocalKeys(file: string, env: NodeJS.ProcessEnv = process.env): LocalKeys {
  const saved: LocalKeys = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalKeys) : {};
  let changed = false;
  const keys: LocalKeys = {};
  for (const provider of PROVIDER_NAMES) {
    const prefix = envPrefix(provider);
    const signingKey = env[`${prefix}_SIGNING_KEY`];
    const verifyKeys = env[`${prefix}_VERIFY_KEYS`];
    if (signingKey || verifyKeys) {
      const verify = verifyKeys ? parseList(verifyKeys) : signingKey ? [signingKey] : [];
      keys[provider] = { signingKey: signingKey ?? '', verifyKeys: verify };
      continue;
    }
    let stored = saved[provider];
    if (!stored) {
      stored = generateKeys(provider);
      saved[provider] = stored;
      changed = true;
    }
    keys[provider] = stored;
  }
  if (changed) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  }
  return keys;
}

function parseList(value: string): string[] {
  const text = value.trim();
  return text.startsWith('[') ? (JSON.parse(text) as string[]) : [text];
}
