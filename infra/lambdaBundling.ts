import { fileURLToPath } from 'node:url';

/** The repository root: entries, the lockfile and tsconfig.json are found from here, whatever the cwd. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * How every Lambda is bundled, held once: the CDK stack (infra/webhookFunction.ts), the benchmark and
 * the bundle-size budget test (bench/bundle.ts) all build from this.
 */
export const LAMBDA_BUNDLING = {
  /** esbuild target of the runtime the functions run on (`Runtime.NODEJS_24_X`). */
  target: 'node24',
  /**
   * ESM bundles still carry CommonJS code from dependencies (parts of the AWS SDK's dependency tree call
   * `require('buffer')` and friends); esbuild's ESM output has no `require`, so the banner provides one.
   */
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  /** Module entry points first: the AWS SDK's ESM builds tree-shake about a third smaller. */
  mainFields: ['module', 'main'],
  /** Modules replaced in the bundles, paths relative to the repository root. */
  alias: { '@aws-sdk/credential-provider-node': './functions/lambdaCredentials.ts' } as Record<
    string,
    string
  >,
  /** ES modules: the entries are ESM and the bundles load as `index.mjs`. */
  format: 'esm',
  minify: true,
  /**
   * A linked `.map` file next to the bundle (esbuild's `--sourcemap`, NodejsFunction's
   * `SourceMapMode.DEFAULT`), for reading a stack trace offline. It is not loaded at run time: the
   * functions get no `NODE_OPTIONS=--enable-source-maps`, since parsing the map costs about 14 ms of
   * every cold start and the logs carry error names and messages, not stack traces.
   */
  sourceMap: 'linked',
  /** The mappings only: the sources would double the asset for nothing. */
  sourcesContent: false,
  legalComments: 'none',
} as const;
