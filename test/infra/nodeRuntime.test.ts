import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAMBDA_BUNDLING, ROOT } from '../../infra/lambdaBundling.ts';
import { RUNTIME } from '../../infra/webhookFunction.ts';

const major = (version: string): number => Number(/(\d+)/.exec(version)?.[1]);

const lambdaMajor = major(RUNTIME.name); // 'nodejs24.x' → 24

describe('the tests run on the Node.js major the Lambda functions run on', () => {
  it('this test process runs the Lambda runtime major', () => {
    // Fails on any Node but the runtime's: `npm test` puts the project's own Node first on the PATH.
    expect(major(process.versions.node)).toBe(lambdaMajor);
  });

  it('esbuild bundles for that major', () => {
    expect(major(LAMBDA_BUNDLING.target)).toBe(lambdaMajor);
  });

  it('the Node the project installs (package.json) is that major', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      optionalDependencies: Record<string, string>;
    };
    const nodeBuilds = Object.entries(pkg.optionalDependencies).filter(([name]) => name.startsWith('node-'));
    expect(nodeBuilds.length).toBeGreaterThan(0);
    for (const [, version] of nodeBuilds) expect(major(version)).toBe(lambdaMajor);
  });
});
