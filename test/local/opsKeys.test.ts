import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { apiGatewayEvent } from '../../local/apiGatewayEvent.ts';
import { localClients } from '../../local/awsClients.ts';
import { loadLocalKeys } from '../../local/localKeys.ts';
import { buildLocalStack } from '../../local/localStack.ts';
import { fingerprint } from '../../local/ops/keys.ts';
import { readCdkOutputs, readStackOutputs } from '../../local/ops/target.ts';
import { opsProgram } from '../../local/ops.ts';
import { provisionLocal } from '../../local/provision.ts';
import { localContext } from '../../local/queuePoller.ts';
import { PROVIDER_NAMES, pascalName } from '../../shared/providers/registry.ts';
import { signerOf } from '../../shared/providers/signers.ts';
import { sample } from '../support/samples.ts';
import { manualClock, useLocalServers } from '../support/testStack.ts';

const localServers = useLocalServers();

/** Runs `npm run ops -- --json …` in-process; returns what it printed and its exit code. */
async function ops(...args: string[]): Promise<{ out: string; exitCode: number }> {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  process.exitCode = 0;
  try {
    await opsProgram()
      .exitOverride()
      .parseAsync(['node', 'ops', '--json', ...args]);
  } finally {
    spy.mockRestore();
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out: written.join(''), exitCode };
}

const listed = async (provider: string) =>
  (JSON.parse((await ops('keys', 'list', provider)).out) as { keys: string[] }).keys;

describe('ops keys, locally', () => {
  let dir: string;
  let previous: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'webhook-keys-'));
    previous = process.env.LOCAL_STATE_DIR;
    process.env.LOCAL_STATE_DIR = dir;
  });
  afterEach(() => {
    if (previous === undefined) delete process.env.LOCAL_STATE_DIR;
    else process.env.LOCAL_STATE_DIR = previous;
    rmSync(dir, { recursive: true, force: true });
  });

  it('rotates a key on a running stack: old and new both verify, then only the new; no key is ever printed', async () => {
    // Prepare: a local stack verifying with the key file, as `npm start` runs it.
    const keysFile = join(dir, 'keys.json');
    const oldKey = loadLocalKeys(keysFile, {}).apara?.signingKey ?? '';
    const newKey = `whsec_${randomBytes(24).toString('base64url')}`;
    writeFileSync(join(dir, 'new-key.txt'), `${newKey}\n`);
    const clock = manualClock();
    const clients = localClients(localServers().endpoints);
    const resources = await provisionLocal(clients, { suffix: `-keys-${process.pid}` });
    const start = async () =>
      buildLocalStack({ clients, resources, keys: loadLocalKeys(keysFile, {}), keysFile, clock: clock.now });
    let stack = await start();
    let n = 0;
    const deliver = async (key: string) => {
      n += 1;
      const body = Buffer.from(
        sample('apara', 'order.completed')
          .toString('utf8')
          .replace(/"eventId":\s*"[^"]*"/, `"eventId": "EV-KEYS-${n}"`),
      );
      const headers = signerOf('apara').sign(body, key, clock.now());
      const handler = stack.ingest.apara;
      if (!handler) throw new Error('no apara ingest');
      return (await handler(apiGatewayEvent('apara', body, headers), localContext('ingest-apara')))
        .statusCode;
    };
    const printed: string[] = [];
    const run = async (...args: string[]) => {
      const result = await ops(...args);
      printed.push(result.out);
      return result;
    };

    expect(await listed('apara')).toEqual([fingerprint('apara', oldKey)]);
    expect(await deliver(oldKey)).toBe(200);
    expect(await deliver(newKey)).toBe(401);

    // Act 1: add the new key (and let `send` sign with it, as the provider would after switching).
    expect(
      (await run('keys', 'add', 'apara', '--from-file', join(dir, 'new-key.txt'), '--also-sign')).exitCode,
    ).toBe(0);
    expect(await listed('apara')).toEqual([fingerprint('apara', newKey), fingerprint('apara', oldKey)]);
    expect(loadLocalKeys(keysFile, {}).apara?.signingKey).toBe(newKey);
    clock.advance(61_000); // the running stack reloads keys at most once a minute, after a signature failure

    // Assess 1: both verify on the running stack.
    expect(await deliver(newKey)).toBe(200);
    expect(await deliver(oldKey)).toBe(200);

    // Act 2: remove the old key.
    expect((await run('keys', 'remove', 'apara', fingerprint('apara', oldKey))).exitCode).toBe(0);
    expect(await listed('apara')).toEqual([fingerprint('apara', newKey)]);

    // Assess 2: only the new verifies: on a fresh container, and on the running one once it reloads.
    const running = stack;
    stack = await start();
    expect(await deliver(oldKey)).toBe(401);
    expect(await deliver(newKey)).toBe(200);
    stack = running;
    clock.advance(61_000);
    expect(await deliver('not-the-key')).toBe(401); // a signature failure: the running stack reloads
    expect(await deliver(oldKey)).toBe(401);
    expect(await deliver(newKey)).toBe(200);

    const output = printed.join('');
    expect(output).not.toContain(oldKey);
    expect(output).not.toContain(newKey);
    expect(readFileSync(keysFile, 'utf8')).toContain(newKey);
    clients.dynamodb.destroy();
    clients.sns.destroy();
    clients.sqs.destroy();
  });

  it('refuses what would break verification, saying why without quoting the key', async () => {
    loadLocalKeys(join(dir, 'keys.json'), {});
    const [only] = await listed('apara');
    await expect(ops('keys', 'remove', 'apara', only ?? '')).rejects.toThrow(/last key/);
    await expect(ops('keys', 'remove', 'apara', 'sha256:0000000000000000')).rejects.toThrow(
      /no key with fingerprint/,
    );
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(join(dir, 'private.pem'), pem);
    await expect(ops('keys', 'add', 'gnosis-pay', '--from-file', join(dir, 'private.pem'))).rejects.toThrow(
      /private key/,
    );
    writeFileSync(join(dir, 'two-words.txt'), 'secret words');
    const error = await ops('keys', 'add', 'apara', '--from-file', join(dir, 'two-words.txt')).catch(
      (e: Error) => e,
    );
    expect(String(error)).toMatch(/one line without spaces/);
    expect(String(error)).not.toContain('secret words');
    expect(await listed('apara')).toEqual([only]);
  });

  it('gives an Ed25519 public key one fingerprint, as PEM or as base64 of its raw bytes', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32).toString('base64');
    expect(fingerprint('gnosis-pay', pem)).toBe(fingerprint('gnosis-pay', raw));
    expect(fingerprint('gnosis-pay', pem)).toMatch(/^sha256:[0-9a-f]{16}$/);
  });
});

describe('a CDK outputs file with several stacks', () => {
  it('needs --stack to say which; never takes the first silently', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhook-outputs-'));
    const file = join(dir, 'cdk-outputs.json');
    const stackOutputs = (stage: string) => ({
      EventsTopicArn: `arn:aws:sns:eu-west-1:123456789012:events-${stage}.fifo`,
      EventsTableName: `WebhookIntake-${stage}-Events`,
      SecretArnApara: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:apara-${stage}`,
    });
    writeFileSync(
      file,
      JSON.stringify({
        'WebhookIntake-dev': stackOutputs('dev'),
        'WebhookIntake-prod': stackOutputs('prod'),
      }),
    );
    try {
      expect(() => readCdkOutputs(file)).toThrow(
        /holds 2 stacks \(WebhookIntake-dev, WebhookIntake-prod\).*--stack/,
      );
      expect(readCdkOutputs(file, 'WebhookIntake-prod')).toEqual({
        table: 'WebhookIntake-prod-Events',
        topicArn: 'arn:aws:sns:eu-west-1:123456789012:events-prod.fifo',
      });
      expect(() => readStackOutputs(file, 'WebhookIntake-test')).toThrow(/no stack "WebhookIntake-test"/);
      await expect(ops('--outputs', file, 'events', 'list')).rejects.toThrow(/--stack/);
      await expect(ops('--outputs', file, 'keys', 'list', 'apara')).rejects.toThrow(/--stack/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ops iam-policy', () => {
  it('prints one statement per command group, on the stack’s own ARNs only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhook-iam-'));
    const file = join(dir, 'cdk-outputs.json');
    writeFileSync(
      file,
      JSON.stringify({
        'WebhookIntake-prod': {
          EventsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:events.fifo',
          AlertsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
          EventsTableName: 'WebhookIntake-prod-Events',
          ...Object.fromEntries(
            PROVIDER_NAMES.map(pascalName).map((p) => [
              `SecretArn${p}`,
              `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${p}-AbCdEf`,
            ]),
          ),
        },
        'WebhookIntake-dev': {},
      }),
    );
    try {
      const { out } = await ops('--outputs', file, '--stack', 'WebhookIntake-prod', 'iam-policy');
      const policy = JSON.parse(out) as {
        Statement: { Sid: string; Action: string[]; Resource: string[] }[];
      };
      const bySid = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
      expect(bySid.ReadEvents).toMatchObject({
        Action: ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:DescribeTable'],
        Resource: ['arn:aws:dynamodb:eu-west-1:123456789012:table/WebhookIntake-prod-Events'],
      });
      expect(bySid.PublishEvents).toMatchObject({
        Action: ['sns:Publish'],
        Resource: ['arn:aws:sns:eu-west-1:123456789012:events.fifo'],
      });
      expect(bySid.ChangeKeys?.Action).toEqual([
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
      ]);
      expect(bySid.ChangeKeys?.Resource).toHaveLength(PROVIDER_NAMES.length);
      expect(JSON.stringify(bySid.ChangeKeys?.Resource)).not.toContain('<');
      const all = JSON.stringify(policy);
      expect(all).not.toContain('"*"');
      expect(all).not.toContain('alerts');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
