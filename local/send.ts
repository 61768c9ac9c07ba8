/**
 * `npm run send -- <provider|all> [event-type|all]`: posts the documented sample bodies to the running
 * local stack over HTTP, signed exactly as the provider signs them (its headers, its timestamp format),
 * with the local signing key. Exits non-zero when any answer is not 2xx. `--tamper`, `--stale` and
 * `--invalid` send a sample with a fault (see sendFaults.ts), to watch the 401 or the quarantine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import pc from 'picocolors';
import { providerNamed } from '../shared/providers/registry.ts';
import { PROVIDER_NAMES, signerOf } from '../shared/providers/signers.ts';
import { exitQuietlyWhenOutputCloses, reportFailure } from './cli.ts';
import { type LocalKeys, loadLocalKeys } from './localKeys.ts';
import {
  type Fault,
  invalidPayload,
  STALE_BY_SECONDS,
  signsTimestamp,
  tamperSignature,
} from './sendFaults.ts';
import { localStateDir, readStackFile } from './stackFile.ts';

const PROVIDERS_DIR = fileURLToPath(new URL('../shared/providers/', import.meta.url));

export interface Sample {
  provider: string;
  /** The sample's file name without `.json`: the provider's event type. */
  name: string;
  body: Buffer;
  /** What was done to it, for `--invalid`: `status set to "…_v2"`. */
  change?: string;
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
  fault?: Fault,
): Promise<SampleAnswer[]> {
  const answers: SampleAnswer[] = [];
  for (const sample of samples) {
    const signingKey = keys[sample.provider]?.signingKey;
    if (!signingKey) {
      throw new Error(
        `no signing key for ${sample.provider}: the stack verifies with keys given by environment; set the matching *_SIGNING_KEY too`,
      );
    }
    const { sign } = signerOf(sample.provider);
    const headers =
      fault === 'tamper'
        ? tamperSignature(sign, sample.body, signingKey, new Date())
        : sign(
            sample.body,
            signingKey,
            new Date(Date.now() - (fault === 'stale' ? STALE_BY_SECONDS * 1000 : 0)),
          );
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

/**
 * What the answer says: its `status` (`accepted`, `duplicate`, `quarantined`, …), or `conflict` for an
 * accepted event stored apart under a conflict id (`<id>~<hash>`: same id as an earlier event, other
 * content); the HTTP status when the body is not the intake's JSON.
 */
export function answerStatus(answer: Pick<SampleAnswer, 'status' | 'body'>): string {
  try {
    const body = JSON.parse(answer.body) as { status?: string; id?: string };
    if (body.status === 'accepted' && body.id?.includes('~')) return 'conflict';
    return body.status ?? String(answer.status);
  } catch {
    return String(answer.status);
  }
}

function printAnswer(answer: SampleAnswer, change?: string): void {
  const ok = answer.status >= 200 && answer.status < 300;
  const status = ok ? pc.green(String(answer.status)) : pc.red(String(answer.status));
  const said = answerStatus(answer);
  const flag =
    said === 'conflict' ? `${pc.red('conflict')} ` : said === 'quarantined' ? `${pc.yellow(said)} ` : '';
  const what = change ? ` ${pc.dim(`(${change})`)}` : '';
  process.stdout.write(
    `${status} ${flag}${pc.bold(answer.provider)} ${answer.sample}${what}  ${pc.dim(answer.body)}\n`,
  );
}

function summary(answers: readonly SampleAnswer[]): string {
  const counts = new Map<string, number>();
  for (const answer of answers) {
    const status = answerStatus(answer);
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
    .option('--tamper', 'change one character of the signature: expect 401')
    .option(
      '--stale',
      `sign ${STALE_BY_SECONDS / 60} minutes in the past: expect 401 (providers that sign a timestamp)`,
    )
    .option(
      '--invalid [value]',
      'change a status or type to one the schema does not know (this value, else <old>_v2): expect quarantined',
    )
    .showHelpAfterError();
  program.parse(argv);
  const [provider = 'all', name = 'all'] = program.args;
  const options = program.opts<{
    url?: string;
    json?: boolean;
    tamper?: boolean;
    stale?: boolean;
    invalid?: boolean | string;
  }>();
  const faults = (['tamper', 'stale', 'invalid'] as const).filter((f) => options[f]);
  if (faults.length > 1)
    throw new Error(
      `give one of --tamper, --stale, --invalid (got ${faults.map((f) => `--${f}`).join(', ')})`,
    );
  const [fault] = faults;

  let samples = samplesFor(provider, name);
  let baseUrl = options.url;
  let keysFile = join(localStateDir(), 'keys.json');
  if (!baseUrl) {
    const stack = readStackFile();
    baseUrl = stack.httpUrl;
    keysFile = stack.keysFile;
  }
  const keys = loadLocalKeys(keysFile);
  if (fault === 'stale') samples = await onlyTimestamped(samples, keys, provider);
  if (fault === 'invalid') {
    const value = typeof options.invalid === 'string' ? options.invalid : undefined;
    samples = await Promise.all(samples.map((s) => makeInvalid(s, value)));
  }
  const changes = new Map(samples.map((s) => [`${s.provider} ${s.name}`, s.change]));
  const answers = await sendSamples(
    baseUrl,
    keys,
    samples,
    (answer) =>
      options.json
        ? process.stdout.write(`${JSON.stringify(answer)}\n`)
        : printAnswer(answer, changes.get(`${answer.provider} ${answer.sample}`)),
    fault,
  );
  if (!options.json && answers.length > 1) process.stdout.write(`${summary(answers)}\n`);
  if (!options.json) process.stdout.write(pc.dim(`(sent with Node ${process.version})\n`));
  return answers.every((a) => a.status >= 200 && a.status < 300) ? 0 : 1;
}

/** The samples of providers whose signature covers a timestamp; a clear error when none does. */
async function onlyTimestamped(samples: Sample[], keys: LocalKeys, provider: string): Promise<Sample[]> {
  const timed = samples.filter((s) => {
    const key = keys[s.provider]?.signingKey;
    return key !== undefined && signsTimestamp(signerOf(s.provider).sign, s.body, key);
  });
  if (timed.length === 0) {
    const which = PROVIDER_NAMES.filter((p) => {
      const [first] = samplesFor(p);
      const key = keys[p]?.signingKey;
      return first && key && signsTimestamp(signerOf(p).sign, first.body, key);
    });
    throw new Error(
      `${provider} signs no timestamp, so a stale delivery looks like any other: --stale works with ${which.join(', ')}`,
    );
  }
  return timed;
}

async function makeInvalid(sample: Sample, newValue?: string): Promise<Sample> {
  const { schema } = await providerNamed(sample.provider);
  const { body, field, value } = invalidPayload(schema, sample.body, newValue);
  return { ...sample, body, change: `${field} set to "${value}"` };
}

/** Why fetch failed, from its cause (`fetch failed` alone says nothing). */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (is the local stack running? npm start)';
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  exitQuietlyWhenOutputCloses();
  main(process.argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      reportFailure('send', error);
      process.exit(1);
    },
  );
}
