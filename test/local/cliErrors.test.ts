import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateKeys } from '../../local/localKeys.ts';
import { answerStatus } from '../../local/send.ts';
import { invalidPayload, signsTimestamp, tamperSignature } from '../../local/sendFaults.ts';
import { apara } from '../../shared/providers/apara/index.ts';
import { signerOf } from '../../shared/providers/signers.ts';
import { sample } from '../support/samples.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/** `npm run ops -- …` as a process, with no stack running: every failure here happens before AWS. */
async function ops(
  args: string[],
  stateDir: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'local/ops.ts', ...args], {
      cwd: ROOT,
      // NO_COLOR: CI=true (as CI runs) would turn colors on for a pipe.
      env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1', LOCAL_STATE_DIR: stateDir },
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('ops: a mistake is one line on stderr, before anything is printed or read', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'webhook-cli-'));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  const oneLine = (result: { code: number; stdout: string; stderr: string }, pattern: RegExp) => {
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(''); // not even the "▸ local stack" banner
    const lines = result.stderr.trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(pattern)]);
  };

  it('a malformed time, and an empty range (as replay refuses it)', async () => {
    oneLine(
      await ops(['events', 'list', '--since', 'yesterday'], stateDir),
      /^ops: "yesterday" is not a time/,
    );
    oneLine(
      await ops(['events', 'list', '--since', '1h', '--until', '2h'], stateDir),
      /^ops: the time range is empty: --since \(.*\) must be before --until/,
    );
    oneLine(
      await ops(['replay', '--provider', 'apara', '--since', '1h', '--until', '2h'], stateDir),
      /^ops: the time range is empty: --since \(.*\) must be before --until/,
    );
  }, 60_000);

  it('a corrupt stack.json, by its path', async () => {
    writeFileSync(join(stateDir, 'stack.json'), '{"pid": 12');
    oneLine(
      await ops(['events', 'list'], stateDir),
      new RegExp(
        `^ops: ${join(stateDir, 'stack.json').replace(/[.]/g, '\\.')} is not a stack file npm start wrote`,
      ),
    );
    rmSync(join(stateDir, 'stack.json'));
  }, 30_000);

  it('a missing --outputs file', async () => {
    oneLine(
      await ops(['--outputs', 'missing.json', 'events', 'list'], stateDir),
      /^ops: --outputs missing\.json: no such file; give the file `cdk deploy --outputs-file <file>` wrote$/,
    );
  }, 30_000);
});

describe('send faults', () => {
  const body = sample('openpoly', 'mini_app.trade.processed');
  const key = generateKeys('openpoly').signingKey ?? '';
  const { sign } = signerOf('openpoly');
  const at = new Date('2024-11-27T05:00:00Z');

  it('--tamper changes the signature and nothing else', () => {
    const good = sign(body, key, at);
    const bad = tamperSignature(sign, body, key, at);
    const changed = Object.keys(good).filter((name) => good[name] !== bad[name]);
    expect(changed).toHaveLength(1);
    const [name = ''] = changed;
    expect(bad[name]).toHaveLength(good[name]?.length ?? -1);
  });

  it('--stale is refused for a provider that signs no timestamp', () => {
    expect(signsTimestamp(sign, body, key)).toBe(true);
    const aparaKey = generateKeys('apara').signingKey ?? '';
    expect(signsTimestamp(signerOf('apara').sign, sample('apara', 'order.completed'), aparaKey)).toBe(false);
  });

  it('--invalid changes the status to one the schema refuses, keeping every digit of the numbers', () => {
    const original = sample('apara', 'order.completed');
    const { body: invalid, field, value } = invalidPayload(apara.schema, original, 'refunded');
    expect({ field, value }).toEqual({ field: 'status', value: 'refunded' });
    expect(invalid.toString()).toContain('"status":"refunded"');
    const digits = (text: string) => text.match(/-?\d+\.\d+|\d{6,}/g)?.sort();
    expect(digits(invalid.toString())).toEqual(digits(JSON.stringify(JSON.parse(original.toString()))));
  });

  it('says conflict for an accepted event stored under a conflict id', () => {
    expect(answerStatus({ status: 200, body: '{"status":"accepted","id":"EV-1~w3hjxsHzgdzq"}' })).toBe(
      'conflict',
    );
    expect(answerStatus({ status: 200, body: '{"status":"accepted","id":"EV-1"}' })).toBe('accepted');
    expect(answerStatus({ status: 502, body: 'Bad Gateway' })).toBe('502');
  });
});
