import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleLambda, LAMBDAS, type LambdaName, ROOT } from '../../bench/bundle.ts';

interface Budget {
  gzipBudgetBytes: number;
  measuredGzipBytes: number;
}

const budgets = JSON.parse(readFileSync(join(ROOT, 'bench/budgets.json'), 'utf8')) as Record<
  LambdaName,
  Budget | undefined
>;
const outRoot = mkdtempSync(join(tmpdir(), 'bundle-budget-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

describe('Lambda bundles stay within their gzip budgets (bench/budgets.json)', () => {
  it.each(Object.keys(LAMBDAS) as LambdaName[])('%s', async (name) => {
    const budget = budgets[name];
    if (!budget) throw new Error(`bench/budgets.json has no budget for the ${name} Lambda`);

    const bundle = await bundleLambda(LAMBDAS[name], join(outRoot, name));

    if (bundle.gzipBytes > budget.gzipBudgetBytes) {
      // Name the heaviest packages: that is where a new dependency shows up.
      const heaviest = bundle.packages
        .slice(0, 5)
        .map((p) => `${p.name} ${Math.round(p.bytes / 1024)} KiB`)
        .join(', ');
      throw new Error(
        `${name}: ${bundle.gzipBytes} B gzipped, over its budget of ${budget.gzipBudgetBytes} B ` +
          `(measured ${budget.measuredGzipBytes} B when set). Heaviest: ${heaviest}`,
      );
    }
    expect(bundle.gzipBytes).toBeLessThanOrEqual(budget.gzipBudgetBytes);
  });
});

describe('no sender-side code reaches a Lambda', () => {
  it.each(Object.keys(LAMBDAS) as LambdaName[])(
    '%s holds no provider signer or key generation',
    async (name) => {
      const bundle = await bundleLambda(LAMBDAS[name], join(outRoot, `${name}-signing`));

      expect(bundle.signingFiles).toEqual([]);
    },
  );

  it('the check recognises a signer when one is bundled', async () => {
    // The local sender imports every signer: the same check must find them there, or it proves nothing.
    const bundle = await bundleLambda('local/send.ts', join(outRoot, 'send'));

    expect(bundle.signingFiles).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/shared\/providers\/apara\/sign\.ts$/),
        expect.stringMatching(/shared\/providers\/signers\.ts$/),
      ]),
    );
  });
});
