/**
 * "A provider is one folder and one registry line", proven: a copy of the repository gets a new provider
 * folder and one line in `shared/providers/registry.ts`, nothing else, and then the provider suite runs
 * it, the CDK stack routes it (function, secret, dashboard row) and the bench samples it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NAME = 'fifth-example';
/** Top-level entries of the repository that are not its source. */
const NOT_SOURCE = new Set(['node_modules', '.git', 'cdk.out', '.local', '.bench', 'coverage']);
/** Each step runs a fresh process (tsx + aws-cdk-lib, or jest): seconds alone, longer on a busy machine. */
const STEP_TIMEOUT_MS = 240_000;

/** The new provider's folder: what a developer adding a provider writes, and nothing else. */
const PROVIDER_FILES: Record<string, string> = {
  'index.ts': `import * as v from 'valibot';
import type { ProviderModule } from '../../core/providerModule.ts';
import { bodySignatureVerifier } from '../hmacSignature.ts';

export const SIGNATURE_SCHEME = { defaultHeader: 'x-fifth-signature', encodings: ['hex'] } as const;

const FifthEventSchema = v.looseObject({
  id: v.pipe(v.string(), v.minLength(1)),
  type: v.string(),
  account: v.pipe(v.string(), v.minLength(1)),
});

export const fifthExample: ProviderModule<v.InferOutput<typeof FifthEventSchema>> = {
  name: '${NAME}',
  verify: bodySignatureVerifier(SIGNATURE_SCHEME),
  schema: FifthEventSchema,
  dedupeKey: (event) => event.id,
  normalize: (event) => ({
    eventType: event.type,
    subject: \`account/\${event.account}\`,
    outcome: 'info',
    amounts: [],
  }),
  retrySpanSeconds: 3600,
};
`,
  'sign.ts': `import type { ProviderSigner } from '../signers.ts';
import { bodySigner, hmacKeys } from '../signing.ts';
import { SIGNATURE_SCHEME } from './index.ts';

export const signer: ProviderSigner = {
  sign: bodySigner(SIGNATURE_SCHEME, 'hex'),
  generateKeys: hmacKeys,
  asNewEvent(body, id) {
    body.id = id;
  },
};
`,
  'README.md': '# Fifth example\n\nA provider made up by `test/providers/addProvider.test.ts`.\n',
  'samples/account.opened.json':
    '{\n  "id": "evt_1",\n  "type": "account.opened",\n  "account": "acc_7"\n}\n',
  'fixtures/account.opened.normalized.json': `${JSON.stringify(
    {
      specversion: '1.0',
      id: 'evt_1',
      source: `webhooks/${NAME}`,
      type: `${NAME}.account.opened`,
      subject: 'account/acc_7',
      time: '2026-01-01T00:00:00.000Z',
      datacontenttype: 'application/json',
      data: { id: 'evt_1', type: 'account.opened', account: 'acc_7' },
      provider: NAME,
      receivedat: '2026-01-01T00:00:00.000Z',
      outcome: 'info',
      amounts: [],
    },
    null,
    2,
  )}\n`,
};

const REGISTRY_LINE = `  '${NAME}': async () => (await import('./${NAME}/index.ts')).fifthExample,`;

/** Reads what the copy's stack, bench and local keys make of the registry, as JSON on stdout. */
const PROBE = `
import { ENV } from './repo/shared/config.ts';
import { synthIntake } from './repo/test/infra/synthIntake.ts';
import { allSamples, withEventId } from './repo/bench/samples.ts';
import { generateKeys } from './repo/local/localKeys.ts';

const { template } = synthIntake();
const json = template.toJSON();
const resources = Object.values(json.Resources);
const ofType = (type) => resources.filter((r) => r.Type === type);
const name = process.argv[2];
const fn = ofType('AWS::Lambda::Function').find((r) => r.Properties.Environment?.Variables?.[ENV.provider] === name);
const samples = allSamples().filter((s) => s.provider === name);
console.log(JSON.stringify({
  routes: ofType('AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey).sort(),
  functionSecret: fn?.Properties.Environment.Variables[ENV.secretId] !== undefined,
  secrets: ofType('AWS::SecretsManager::Secret').length,
  outputs: Object.keys(json.Outputs).filter((o) => o.endsWith('FifthExample')).sort(),
  dashboardRow: JSON.stringify(ofType('AWS::CloudWatch::Dashboard')[0]?.Properties.DashboardBody).includes(name + ': deliveries'),
  benchSamples: samples.map((s) => s.name),
  benchNewEvent: samples[0] ? JSON.parse(withEventId(samples[0], 'bench-1').toString()).id : undefined,
  localKeys: generateKeys(name).verifyKeys.length,
}));
`;

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', CI: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
}

describe(`a provider added as one folder and one registry line (${NAME}, in a copy of the repository)`, () => {
  const work = mkdtempSync(join(tmpdir(), 'add-provider-'));
  const repo = join(work, 'repo');
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  beforeAll(() => {
    cpSync(ROOT, repo, {
      recursive: true,
      filter: (source) => !NOT_SOURCE.has(relative(ROOT, source).split(sep)[0] ?? ''),
    });
    symlinkSync(join(ROOT, 'node_modules'), join(repo, 'node_modules'), 'dir');
    for (const [file, text] of Object.entries(PROVIDER_FILES)) {
      const path = join(repo, 'shared/providers', NAME, file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
    const registry = join(repo, 'shared/providers/registry.ts');
    const text = readFileSync(registry, 'utf8');
    const table = /(export const PROVIDERS[^\n]*\n(?: {2}[^\n]*\n)*?)(\};)/;
    if (!table.test(text)) throw new Error('the registry table was not found');
    writeFileSync(registry, text.replace(table, `$1${REGISTRY_LINE}\n$2`));
    writeFileSync(join(work, 'probe.mts'), PROBE);
  });

  test('the copy differs from the repository by the folder and exactly one registry line', () => {
    const before = readFileSync(join(ROOT, 'shared/providers/registry.ts'), 'utf8').split('\n');
    const after = readFileSync(join(repo, 'shared/providers/registry.ts'), 'utf8').split('\n');

    expect(after.filter((line) => !before.includes(line))).toEqual([REGISTRY_LINE]);
    expect(after).toHaveLength(before.length + 1);
  });

  test(
    'the CDK stack, the bench and local keys pick it up',
    () => {
      const probe = JSON.parse(
        run(join(ROOT, 'node_modules/.bin/tsx'), [join(work, 'probe.mts'), NAME], work)
          .trim()
          .split('\n')
          .pop() ?? '',
      );

      expect(probe).toEqual({
        routes: expect.arrayContaining([`ANY /webhooks/${NAME}`]),
        functionSecret: true,
        secrets: probe.routes.length,
        outputs: ['SecretArnFifthExample', 'WebhookUrlFifthExample'],
        dashboardRow: true,
        benchSamples: ['account.opened'],
        benchNewEvent: 'bench-1',
        localKeys: 1,
      });
    },
    STEP_TIMEOUT_MS,
  );

  test(
    'the provider suite runs it, and it passes',
    () => {
      const report = join(work, 'jest.json');
      run(
        process.execPath,
        [
          '--experimental-vm-modules',
          join(repo, 'node_modules/jest/bin/jest.js'),
          'test/providers/providerSuite.test.ts',
          '--testNamePattern',
          `provider ${NAME} `,
          '--json',
          '--outputFile',
          report,
        ],
        repo,
      );
      const results = JSON.parse(readFileSync(report, 'utf8')) as {
        numFailedTests: number;
        testResults: { assertionResults: { fullName: string; status: string }[] }[];
      };
      const ran = results.testResults
        .flatMap((file) => file.assertionResults)
        .filter((test) => test.status === 'passed');

      expect(results.numFailedTests).toBe(0);
      expect(ran.map((test) => test.fullName)).toEqual(
        expect.arrayContaining([
          `provider ${NAME} samples and fixtures account.opened is accepted and normalizes to its reviewed fixture`,
          `provider ${NAME} signatures during a rotation both the old and the new key verify, a third does not`,
          `provider ${NAME} tampering property: any signed body verifies, and any single changed byte fails as bad_signature`,
          `provider ${NAME} dedupe account.opened as another event (the signer’s new id) gets another key`,
        ]),
      );
      expect(ran.every((test) => test.fullName.startsWith(`provider ${NAME} `))).toBe(true);
    },
    STEP_TIMEOUT_MS,
  );
});
