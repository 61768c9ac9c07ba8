import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';
import { LAMBDA_BUNDLING, ROOT } from '../infra/lambdaBundling.ts';

export { ROOT };

/** Every Lambda the CDK stack deploys, by the name its bundle gets under `.bench/bundles/`. */
export const LAMBDAS = {
  ingest: 'functions/ingest/index.ts',
  'stream-publisher': 'functions/stream-publisher/index.ts',
  'event-handler': 'functions/event-handler/index.ts',
} as const;

export type LambdaName = keyof typeof LAMBDAS;

/** Bundles built the same way for comparison only (not deployed, no budget). */
export const REFERENCE_BUNDLES = {
  'sdk clients only': 'bench/sdkClientsOnly.ts',
} as const;

export const LAMBDA_NODE_TARGET = LAMBDA_BUNDLING.target;

/**
 * The esbuild options of the CDK stack's NodejsFunction (infra/webhookFunction.ts), both read from
 * LAMBDA_BUNDLING: everything bundled including the AWS SDK. The one place the bench and the
 * bundle-budget test take them from.
 */
function lambdaBuildOptions(entry: string, outdir: string): BuildOptions {
  return {
    entryPoints: { index: join(ROOT, entry) },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: LAMBDA_BUNDLING.format,
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    alias: Object.fromEntries(
      Object.entries(LAMBDA_BUNDLING.alias).map(([from, to]) => [from, join(ROOT, to)]),
    ),
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    sourcesContent: LAMBDA_BUNDLING.sourcesContent,
    banner: { js: LAMBDA_BUNDLING.banner },
    external: [],
    metafile: true,
    logLevel: 'silent',
    legalComments: LAMBDA_BUNDLING.legalComments,
  };
}

export interface BundleResult {
  file: string;
  rawBytes: number;
  gzipBytes: number;
  /** Bytes per input package in the output (from esbuild's metafile), largest first. */
  packages: { name: string; bytes: number }[];
  /** The project's sender-side files (provider signers, key generation) in the output: none belongs there. */
  signingFiles: string[];
}

/** Sender-side code: each provider's `sign.ts` and what the signers share. Tests and tools only. */
export const SIGNING_CODE = /shared\/providers\/(?:signers\.ts|signing\.ts|[^/]+\/sign\.ts)$/;

/**
 * Bundles one Lambda entry (path relative to the repository root) into `<outdir>/index.mjs` and
 * measures it: raw bytes and gzip bytes (level 9, what a deployment zip roughly holds).
 *
 * @example
 * const { gzipBytes } = await bundleLambda('functions/ingest/index.ts', '.bench/bundles/ingest');
 */
export async function bundleLambda(entry: string, outdir: string): Promise<BundleResult> {
  const result = await build(lambdaBuildOptions(entry, outdir));
  const file = join(outdir, 'index.mjs');
  const bytes = readFileSync(file);
  const byPackage = new Map<string, number>();
  const signingFiles = new Set<string>();
  for (const output of Object.values(result.metafile?.outputs ?? {})) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
      if (name === '(project)' && bytesInOutput > 0 && SIGNING_CODE.test(input)) signingFiles.add(input);
    }
  }
  return {
    file,
    rawBytes: bytes.length,
    gzipBytes: gzipSync(bytes, { level: 9 }).length,
    packages: [...byPackage].map(([name, b]) => ({ name, bytes: b })).sort((a, b) => b.bytes - a.bytes),
    signingFiles: [...signingFiles].sort(),
  };
}

/** `node_modules/@aws-sdk/client-sns/dist-es/…` → `@aws-sdk/client-sns`; our own files → `(project)`. */
function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return '(project)';
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? input);
}
