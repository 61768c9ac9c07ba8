import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { ENV } from '../shared/config.ts';
import { median, round } from './stats.ts';

/**
 * Dummy values for every variable the handlers read at import, as the stack sets them; no request is
 * made. The provider's keys come from a secret, as in AWS, so the ingest bundle constructs its
 * SecretsManagerClient at import (it reads the secret only on the first request).
 */
const COLD_START_ENV: Record<string, string> = {
  [ENV.table]: 'webhook-events',
  [ENV.topicArn]: 'arn:aws:sns:us-east-1:000000000000:webhook-events.fifo',
  [ENV.alertsTopicArn]: 'arn:aws:sns:us-east-1:000000000000:webhook-alerts',
  [ENV.provider]: 'apara',
  [ENV.secretId]: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:webhook-keys-apara-AbCdEf',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  // The SDK warns on Node < 22 (this machine may run 20; Lambda runs 22+): keep the warning out of the timing.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  // The functions run without NODE_OPTIONS (infra/lambdaBundling.ts says why); none inherited from here either.
  NODE_OPTIONS: '',
};

export interface ColdStartResult {
  name: string;
  /** Median wall time of spawn → exit, ms. */
  spawnMs: number;
  /** Median of `performance.now()` around `await import(bundle)` inside the child, ms. */
  importMs: number;
  /** spawnMs minus bare Node's spawnMs. */
  aboveBareMs: number;
  runs: number;
}

interface Variant {
  name: string;
  args: string[];
}

/**
 * Cold start of each bundle in fresh Node processes: the import of the bundle (which constructs the
 * SDK clients at module scope) timed from outside (spawn to exit) and from inside (around the
 * `import()`), next to a bare `node -e 0` measured the same way. Variants run interleaved, so a
 * busy moment of the machine hits them all alike.
 */
export function measureColdStart(bundles: Record<string, string>, runs = 15): ColdStartResult[] {
  const variants: Variant[] = [
    { name: 'bare node -e 0', args: ['-e', '0'] },
    { name: 'bare ESM import harness', args: ['--input-type=module', '-e', importScript(undefined)] },
    ...Object.entries(bundles).map(([name, file]) => ({
      name,
      args: ['--input-type=module', '-e', importScript(pathToFileURL(file).href)],
    })),
  ];
  const spawnTimes = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const importTimes = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const env = { ...process.env, ...COLD_START_ENV };
  for (let i = 0; i < runs + 1; i += 1) {
    for (const variant of variants) {
      const started = performance.now();
      const child = spawnSync(process.execPath, variant.args, { env, encoding: 'utf8' });
      const wall = performance.now() - started;
      if (child.status !== 0) throw new Error(`${variant.name} failed: ${child.stderr}`);
      if (i === 0) continue; // the first round warms the file cache
      spawnTimes.get(variant.name)?.push(wall);
      const inside = /"importMs":([\d.]+)/.exec(child.stdout ?? '');
      if (inside) importTimes.get(variant.name)?.push(Number(inside[1]));
    }
  }
  const bare = median(spawnTimes.get('bare node -e 0') ?? []);
  return variants.map((v) => {
    const spawnMs = median(spawnTimes.get(v.name) ?? []);
    const imports = importTimes.get(v.name) ?? [];
    return {
      name: v.name,
      spawnMs: round(spawnMs, 1),
      importMs: imports.length ? round(median(imports), 1) : 0,
      aboveBareMs: round(spawnMs - bare, 1),
      runs,
    };
  });
}

/** The child's script: time the import of the bundle (or of nothing) and print it. */
function importScript(url: string | undefined): string {
  const load = url ? `await import(${JSON.stringify(url)});` : 'await Promise.resolve();';
  return `const t0 = performance.now(); ${load} const t1 = performance.now(); process.stdout.write(JSON.stringify({ importMs: t1 - t0 }));`;
}
