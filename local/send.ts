/**
 * `npm run send -- <provider|all> [event-type|all]`: posts the documented sample bodies to the running
 * local stack over HTTP, signed exactly as the provider signs them (its headers, its timestamp format),
 * with the local signing key. Exits non-zero when any answer is not 2xx.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import pc from 'picocolors';
import { PROVIDER_NAMES, signerOf } from '../shared/providers/signers.ts';
import { type LocalKeys, loadLocalKeys } from './localKeys.ts';
import { localStateDir, readStackFile } from './stackFile.ts';

const PROVIDERS_DIR = fileURLToPath(new URL('../shared/providers/', import.meta.url));

export interface Sample {
  provider: string;
  /** The sample's file name without `.json`: the provider's event type. */
  name: string;
  body: Buffer;
}

export interface SampleAnswer {
  provider: string;
  sample: string;
  status: number;
  body: string;
}

/** The documented samples of a provider (or of every provider for `all`), one or all of them. */
export function samplesFor(provider: string, name = 'all'): Sample[] {
  const providers = provider === 'all' ? PROVIDER_NAMES : [provider];
  if (provider !== 'all') signerOf(provider); // a clear error for an unknown provider
  const samples: Sample[] = [];
  for (const p of providers) {
    const dir = join(PROVIDERS_DIR, p, 'samples');
    const files = readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .sort();
    const names = files.map((file) => file.replace(/\.json$/, ''));
    const chosen = name === 'all' ? names : names.filter((n) => n === name);
    if (chosen.length === 0) {
      throw new Error(`${p} has no sample "${name}"; its samples: ${names.join(', ')}`);
    }
    for (const n of chosen)
      samples.push({ provider: p, name: n, body: readFileSync(join(dir, `${n}.json`)) });
  }
  return samples;
}

/**
 * Signs each sample as its provider would and POSTs it to `<baseUrl>/webhooks/<provider>`, one after
 * the other (so events of one entity arrive in file order).
 *
 * @example
 * const answers = await sendSamples('http://127.0.0.1:3000', keys, samplesFor('apara', 'order.completed'));
 */
async function sendSamples(
  baseUrl: string,
  keys: LocalKeys,
  samples: readonly Sample[],
  onAnswer: (answer: SampleAnswer) => void = () => undefined,
): Promise<SampleAnswer[]> {
  const answers: SampleAnswer[] = [];
  for (const sample of samples) {
    const signingKey = keys[sample.provider]?.signingKey;
    if (!signingKey) {
      throw new Error(
        `no signing key for ${sample.provider}: the stack verifies with keys given by environment; set the matching *_SIGNING_KEY too`,
      );
    }
    const headers = signerOf(sample.provider).sign(sample.body, signingKey, new Date());
    const url = `${baseUrl.replace(/\/$/, '')}/webhooks/${sample.provider}`;
    const response = await fetch(url, { method: 'POST', headers, body: sample.body }).catch(
      (error: unknown) => {
        throw new Error(`cannot POST to ${url}: ${networkReason(error)}`, { cause: error });
      },
    );
    const answer = {
      provider: sample.provider,
      sample: sample.name,
      status: response.status,
      body: await response.text(),
    };
    answers.push(answer);
    onAnswer(answer);
  }
  return answers;
}

function printAnswer(answer: SampleAnswer): void {
  const ok = answer.status >= 200 && answer.status < 300;
  const status = ok ? pc.green(String(answer.status)) : pc.red(String(answer.status));
  process.stdout.write(`${status} ${pc.bold(answer.provider)} ${answer.sample}  ${pc.dim(answer.body)}\n`);
}

function summary(answers: readonly SampleAnswer[]): string {
  const counts = new Map<string, number>();
  for (const answer of answers) {
    let status = String(answer.status);
    try {
      status = (JSON.parse(answer.body) as { status?: string }).status ?? status;
    } catch {
      // not a JSON answer: count it by its HTTP status
    }
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return `${answers.length} sent: ${[...counts].map(([status, count]) => `${count} ${status}`).join(', ')}`;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('send')
    .description('Send signed provider samples to the running local stack')
    .argument('<provider>', `provider name (${PROVIDER_NAMES.join(', ')}) or "all"`)
    .argument('[event-type]', 'sample name (its event type), or "all"', 'all')
    .option('--url <url>', 'base URL of the stack (default: from .local/stack.json)')
    .option('--json', 'print the answers as JSON lines')
    .showHelpAfterError();
  program.parse(argv);
  const [provider = 'all', name = 'all'] = program.args;
  const options = program.opts<{ url?: string; json?: boolean }>();

  const samples = samplesFor(provider, name);
  let baseUrl = options.url;
  let keysFile = join(localStateDir(), 'keys.json');
  if (!baseUrl) {
    const stack = readStackFile();
    baseUrl = stack.httpUrl;
    keysFile = stack.keysFile;
  }
  const answers = await sendSamples(baseUrl, loadLocalKeys(keysFile), samples, (answer) =>
    options.json ? process.stdout.write(`${JSON.stringify(answer)}\n`) : printAnswer(answer),
  );
  if (!options.json && answers.length > 1) process.stdout.write(`${summary(answers)}\n`);
  if (!options.json) process.stdout.write(pc.dim(`(sent with Node ${process.version})\n`));
  return answers.every((a) => a.status >= 200 && a.status < 300) ? 0 : 1;
}

/** Why fetch failed, from its cause (`fetch failed` alone says nothing). */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (is the local stack running? npm start)';
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${pc.red('send:')} ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
