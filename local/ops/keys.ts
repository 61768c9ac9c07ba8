/**
 * `ops keys …`: put, rotate and check a provider's verification keys without ever printing one. In
 * AWS the keys are the provider's Secrets Manager secret (`{"keys": [...]}`, read by the ingest
 * function); locally they are the `verifyKeys` of the key file `npm start` and `send` use.
 *
 * Keys are read from a file or stdin, never from the command line (shell history, process list).
 * Keys are shown by fingerprint only: `sha256:` and the first 16 hex digits of the key's SHA-256
 * (for Ed25519 public keys, of the DER form, so PEM and base64 of one key look the same).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { Command, InvalidArgumentError } from 'commander';
import { parseKeys } from '../../shared/providerKeys.ts';
import { publicKeyOf } from '../../shared/providers/gnosis-pay/verify.ts';
import { PROVIDER_NAMES } from '../../shared/providers/registry.ts';
import { signerOf } from '../../shared/providers/signers.ts';
import { hasKeyOverride, readLocalProviderKeys, updateLocalProviderKeys } from '../localKeys.ts';
import { localStateDir } from '../stackFile.ts';
import { makeOutput, type Output } from './output.ts';
import { readStackOutputs } from './target.ts';

/** Where one provider's verification keys live. */
export interface KeyStore {
  /** Printed before every command, so nobody mistakes AWS for the local file. */
  label: string;
  read(): Promise<string[]>;
  /** `signingKey`: local only, what `npm run send` signs with (the provider's side). */
  write(keys: readonly string[], signingKey?: string): Promise<void>;
  /** Said after a change: when the running functions see it. */
  takesEffect: string;
}

/** A user mistake with a message that says what to do; never quotes a key. */
export class KeysError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KeysError';
  }
}

type KeyKind = 'shared-secret' | 'ed25519-public-key' | 'public-key';

const kinds = new Map<string, KeyKind>();

/**
 * What kind of key verifies the provider's deliveries, learnt from its signer (no list to keep): a
 * shared secret signs and verifies alike; otherwise a public key, Ed25519 in the form `publicKeyOf`
 * reads (PEM or base64), or another provider-specific form (e.g. Standard Webhooks' `whpk_`).
 */
function keyKind(provider: string): KeyKind {
  let kind = kinds.get(provider);
  if (!kind) {
    const generated = signerOf(provider).generateKeys();
    const verifyKey = generated.verifyKeys[0] ?? '';
    kind =
      generated.signingKey === verifyKey
        ? 'shared-secret'
        : publicKeyOf(verifyKey)
          ? 'ed25519-public-key'
          : 'public-key';
    kinds.set(provider, kind);
  }
  return kind;
}

/** `sha256:` + 16 hex digits identifying a key; the same key always has the same fingerprint. */
export function fingerprint(provider: string, key: string): string {
  const material =
    keyKind(provider) === 'ed25519-public-key'
      ? (publicKeyOf(key)?.export({ format: 'der', type: 'spki' }) ?? Buffer.from(key.trim()))
      : Buffer.from(key.trim());
  return `sha256:${createHash('sha256').update(material).digest('hex').slice(0, 16)}`;
}

/** Checks a key before it is stored: what the provider's verify would silently ignore is refused. */
export function checkKey(provider: string, key: string): string {
  const text = key.trim();
  if (text === '') throw new KeysError('the key is empty');
  if (keyKind(provider) === 'ed25519-public-key') {
    if (text.includes('PRIVATE KEY')) {
      throw new KeysError(`that is a private key: ${provider} needs the provider's Ed25519 public key`);
    }
    if (!publicKeyOf(text)) {
      throw new KeysError(`not an Ed25519 public key (PEM, or base64 of the 32 raw bytes or of the DER)`);
    }
    return text;
  }
  if (text.includes('PRIVATE KEY')) {
    throw new KeysError(`that is a private key: ${provider} verifies with a public key or a shared secret`);
  }
  if (/\s/.test(text))
    throw new KeysError('a secret or key is one line without spaces (is the file the right one?)');
  return text;
}

/** The provider's secret in Secrets Manager. Other fields of the secret (a placeholder) are dropped on write. */
export function secretsManagerKeyStore(client: SecretsManagerClient, secretId: string): KeyStore {
  return {
    label: `AWS Secrets Manager ${secretId}`,
    async read() {
      const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      return parseKeys(SecretString ?? '');
    },
    async write(keys, signingKey) {
      if (signingKey !== undefined) throw new KeysError('--also-sign is for the local key file only');
      await client.send(
        new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify({ keys: [...keys] }) }),
      );
    },
    takesEffect:
      'ingest functions read it at cold start and again (at most once a minute) after a signature failure: ' +
      'an added key verifies within about a minute; a removed key may verify on warm functions until they are recycled',
  };
}

/** The verify keys of the local key file (`npm start` reloads them as Lambda reloads its secret). */
export function localKeyStore(file: string, provider: string): KeyStore {
  return {
    label: `local key file ${file}`,
    read: async () => readLocalProviderKeys(file, provider).verifyKeys,
    write: async (keys, signingKey) =>
      updateLocalProviderKeys(file, provider, (current) => ({
        signingKey: signingKey ?? current.signingKey,
        verifyKeys: [...keys],
      })),
    takesEffect: 'a running `npm start` reloads the file after a signature failure (at most once a minute)',
  };
}

interface KeysOptions {
  json?: boolean;
  outputs?: string;
  stack?: string;
  region?: string;
  secretId?: string;
}

/** `SecretArn<Provider>`, the stack output naming a provider's secret. */
function secretOutputName(provider: string): string {
  return `SecretArn${provider
    .split(/[^A-Za-z0-9]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')}`;
}

/** AWS when a secret or a CDK outputs file is given; otherwise the local key file. */
function keyStoreFor(provider: string, options: KeysOptions): KeyStore {
  let secretId = options.secretId;
  if (!secretId && options.outputs) {
    const outputs = readStackOutputs(options.outputs, options.stack);
    secretId = outputs[secretOutputName(provider)];
    if (!secretId) throw new KeysError(`${options.outputs} has no output ${secretOutputName(provider)}`);
  }
  if (secretId) {
    const region = options.region ?? (secretId.startsWith('arn:') ? secretId.split(':')[3] : undefined);
    return secretsManagerKeyStore(new SecretsManagerClient(region ? { region } : {}), secretId);
  }
  if (hasKeyOverride(provider)) {
    throw new KeysError(
      `${provider}'s key variables are set: npm start uses them, not the key file; unset them first`,
    );
  }
  return localKeyStore(join(localStateDir(), 'keys.json'), provider);
}

/** The key in a file (`-` for stdin), trimmed; its content is never printed. */
function readKeyInput(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new KeysError(`cannot read the key from ${path === '-' ? 'stdin' : path}`, { cause: error });
  }
}

function knownProvider(name: string): string {
  if (!PROVIDER_NAMES.includes(name))
    throw new InvalidArgumentError(`known providers: ${PROVIDER_NAMES.join(', ')}`);
  return name;
}

function printKeys(
  out: Output,
  store: KeyStore,
  provider: string,
  keys: readonly string[],
  note?: string,
): void {
  const fingerprints = keys.map((key) => fingerprint(provider, key));
  if (out.json) {
    out.data({ provider, store: store.label, keys: fingerprints, ...(note ? { note } : {}) });
    return;
  }
  const { c } = out;
  if (keys.length === 0)
    out.line(c.yellow(`${provider}: no keys: every delivery is answered 401 no_keys_configured`));
  fingerprints.forEach((fp, i) => {
    out.line(`${String(i + 1).padStart(2)}  ${c.bold(fp)}${i === 0 ? c.dim('  (newest)') : ''}`);
  });
  if (note) out.line(c.dim(note));
}

/** Runs one key command: resolves the store, prints where it works, applies `change`, prints the result. */
async function withKeys(
  provider: string,
  command: Command,
  change?: (keys: string[]) => { keys: string[]; note: string; signingKey?: string },
): Promise<void> {
  const options = command.optsWithGlobals<KeysOptions>();
  const out = makeOutput(options.json === true);
  const store = keyStoreFor(provider, options);
  if (!out.json) out.line(out.c.dim(`▸ ${store.label}`));
  const current = await store.read();
  if (!change) {
    printKeys(out, store, provider, current);
    return;
  }
  const next = change(current);
  await store.write(next.keys, next.signingKey);
  printKeys(out, store, provider, next.keys, `${next.note}; ${store.takesEffect}`);
}

interface AddOptions {
  fromFile: string;
  alsoSign?: boolean;
}

const ALSO_SIGN =
  'local only: `npm run send` signs with this key from now on (stands in for switching the provider to it; HMAC providers)';

function signing(provider: string, key: string, options: AddOptions): { signingKey?: string } {
  if (!options.alsoSign) return {};
  if (keyKind(provider) !== 'shared-secret') {
    throw new KeysError(
      `--also-sign needs the signing key: ${provider} signs with a private key we never hold`,
    );
  }
  return { signingKey: key };
}

/**
 * `ops keys list|set|add|remove <provider>`.
 *
 * @example
 * npm run ops -- keys add apara --from-file new-key.txt          # rotation, step 1
 * npm run ops -- keys remove apara sha256:0f1e2d3c4b5a6978      # rotation, last step
 */
export function keysCommand(): Command {
  const keys = new Command('keys').description("a provider's verification keys (shown as fingerprints only)");
  keys.option(
    '--secret-id <arn>',
    "AWS: the provider's secret (default: SecretArn<Provider> from --outputs)",
  );

  keys
    .command('list')
    .description('fingerprints of the keys that verify deliveries, newest first')
    .argument('<provider>', PROVIDER_NAMES.join(', '), knownProvider)
    .action((provider: string, _options, command: Command) => withKeys(provider, command));

  keys
    .command('set')
    .description('replace every key with this one (the first key, or a reset)')
    .argument('<provider>', PROVIDER_NAMES.join(', '), knownProvider)
    .requiredOption('--from-file <path>', 'file holding the key (- for stdin)')
    .option('--also-sign', ALSO_SIGN)
    .action((provider: string, options: AddOptions, command: Command) =>
      withKeys(provider, command, () => {
        const key = checkKey(provider, readKeyInput(options.fromFile));
        return { keys: [key], note: 'key set', ...signing(provider, key, options) };
      }),
    );

  keys
    .command('add')
    .description('add a key before the provider switches to it (rotation); the others keep verifying')
    .argument('<provider>', PROVIDER_NAMES.join(', '), knownProvider)
    .requiredOption('--from-file <path>', 'file holding the new key (- for stdin)')
    .option('--also-sign', ALSO_SIGN)
    .action((provider: string, options: AddOptions, command: Command) =>
      withKeys(provider, command, (current) => {
        const key = checkKey(provider, readKeyInput(options.fromFile));
        const fp = fingerprint(provider, key);
        const known = current.some((k) => fingerprint(provider, k) === fp);
        return {
          keys: known ? current : [key, ...current],
          note: known ? `${fp} was there already` : `${fp} added`,
          ...signing(provider, key, options),
        };
      }),
    );

  keys
    .command('remove')
    .description("remove a key by fingerprint once the provider's retries signed with it are over")
    .argument('<provider>', PROVIDER_NAMES.join(', '), knownProvider)
    .argument('<fingerprint>', 'as `keys list` shows it')
    .action((provider: string, fp: string, _options, command: Command) =>
      withKeys(provider, command, (current) => {
        const kept = current.filter((k) => fingerprint(provider, k) !== fp);
        if (kept.length === current.length)
          throw new KeysError(`no key with fingerprint ${fp} (see \`keys list\`)`);
        if (kept.length === 0) {
          throw new KeysError(
            'that is the last key: every delivery would be answered 401; use `keys set` to replace it',
          );
        }
        return { keys: kept, note: `${fp} removed` };
      }),
    );
  return keys;
}
