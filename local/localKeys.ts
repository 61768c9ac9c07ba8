import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PROVIDER_NAMES, type ProviderKeys, signerOf } from '../shared/providers/signers.ts';

/** Keys for one provider on a local run: what the provider signs with, and what we verify with. */
export type LocalProviderKeys = ProviderKeys;

export type LocalKeys = Record<string, LocalProviderKeys>;

/** `gnosis-pay` → `GNOSIS_PAY`: the prefix of a provider's key environment variables. */
function envPrefix(provider: string): string {
  return provider.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** Fresh keys, as the provider's signer makes them (a random shared secret, or a key pair). */
export function generateKeys(provider: string): LocalProviderKeys {
  return signerOf(provider).generateKeys();
}

/**
 * Local keys: `<PROVIDER>_SIGNING_KEY` / `<PROVIDER>_VERIFY_KEYS` (JSON array or one key) from the
 * environment where set, else the git-ignored key file, created with fresh keys on first use.
 */
export function loadLocalKeys(file: string, env: NodeJS.ProcessEnv = process.env): LocalKeys {
  const saved: LocalKeys = existsSync(file)
    ? (parseSecretJson(readFileSync(file, 'utf8'), `the key file ${file}`) as LocalKeys)
    : {};
  let changed = false;
  const keys: LocalKeys = {};
  for (const provider of PROVIDER_NAMES) {
    const prefix = envPrefix(provider);
    const signingKey = env[`${prefix}_SIGNING_KEY`];
    const verifyKeys = env[`${prefix}_VERIFY_KEYS`];
    if (signingKey || verifyKeys) {
      const verify = verifyKeys
        ? parseList(verifyKeys, `${prefix}_VERIFY_KEYS`)
        : signingKey
          ? [signingKey]
          : [];
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

/** Whether `<PROVIDER>_SIGNING_KEY` / `<PROVIDER>_VERIFY_KEYS` override the key file for this provider. */
export function hasKeyOverride(provider: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const prefix = envPrefix(provider);
  return Boolean(env[`${prefix}_SIGNING_KEY`] || env[`${prefix}_VERIFY_KEYS`]);
}

/** One provider's keys in the key file (not the environment overrides); fresh ones if it has none yet. */
export function readLocalProviderKeys(file: string, provider: string): LocalProviderKeys {
  const saved = loadLocalKeys(file, {});
  const keys = saved[provider];
  if (!keys) throw new Error(`no keys for ${provider} in ${file}`);
  return keys;
}

/** Rewrites one provider's entry of the key file (mode 600); the other providers' keys stay as they are. */
export function updateLocalProviderKeys(
  file: string,
  provider: string,
  update: (current: LocalProviderKeys) => LocalProviderKeys,
): void {
  const saved = loadLocalKeys(file, {});
  const current = saved[provider];
  if (!current) throw new Error(`no keys for ${provider} in ${file}`);
  saved[provider] = update(current);
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
}

function parseList(value: string, name: string): string[] {
  const text = value.trim();
  return text.startsWith('[') ? (parseSecretJson(text, name) as string[]) : [text];
}

/**
 * JSON.parse for key material. Its error message quotes the text around the fault, which would put
 * part of a key into a terminal or a log: the error says only where the bad JSON came from, and
 * carries no cause.
 */
function parseSecretJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${source} is not valid JSON (its content is not shown: it holds keys)`);
  }
}
