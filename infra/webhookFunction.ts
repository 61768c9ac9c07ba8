import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_BUNDLING, ROOT } from './lambdaBundling.ts';

/** The newest Node.js runtime aws-cdk-lib knows (cdk-nag's AwsSolutions-L1 checks the same list). */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface WebhookFunctionProps {
  /** Folder under `functions/` whose `index.ts` exports `handler`. */
  entry: 'ingest' | 'stream-publisher' | 'event-handler';
  description: string;
  memorySize: number;
  timeout: Duration;
  environment: Record<string, string>;
  /** Concurrency reserved for (and capping) the function; unset: the account's shared pool. */
  reservedConcurrentExecutions?: number;
  logRetention: logs.RetentionDays;
  /** Of the log group; unset keeps the CDK default. */
  logRemovalPolicy?: RemovalPolicy;
  /**
   * Code to deploy instead of bundling the entry. Tests pass inline code so they neither need the
   * entries nor spend time in esbuild; `cdk synth` and `cdk deploy` always bundle.
   */
  code?: lambda.Code;
}

/**
 * Every Lambda function of the stack, with the defaults held once: arm64, the newest Node.js runtime,
 * an esbuild ESM bundle with the AWS SDK inside, source maps, its own log group with a retention, and
 * a role of its own that starts with nothing but writing to that log group (no AWS managed policy).
 * Grant it more with `grant*` helpers or `allow`.
 */
export class WebhookFunction extends Construct implements iam.IGrantable {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: WebhookFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      ...(props.logRemovalPolicy ? { removalPolicy: props.logRemovalPolicy } : {}),
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.grantPrincipal = this.role;
    this.logGroup.grantWrite(this.role);

    const code = props.code
      ? { code: props.code, handler: 'index.handler' }
      : {
          entry: `${ROOT}functions/${props.entry}/index.ts`,
          handler: 'handler',
          projectRoot: ROOT,
          depsLockFilePath: `${ROOT}package-lock.json`,
          bundling: {
            format: { esm: nodejs.OutputFormat.ESM }[LAMBDA_BUNDLING.format],
            banner: LAMBDA_BUNDLING.banner,
            mainFields: [...LAMBDA_BUNDLING.mainFields],
            minify: LAMBDA_BUNDLING.minify,
            sourceMap: true,
            sourceMapMode: { linked: nodejs.SourceMapMode.DEFAULT }[LAMBDA_BUNDLING.sourceMap],
            sourcesContent: LAMBDA_BUNDLING.sourcesContent,
            // Bundle the AWS SDK instead of using the runtime's copy: only the clients and code paths we
            // import end up in the bundle (tree-shaken ESM, `module` entry points first), which loads
            // faster at cold start than the runtime's full CommonJS SDK, and the SDK versions are the
            // ones pinned in package-lock.json and tested, not whatever the runtime ships that week.
            bundleAwsSDK: true,
            esbuildArgs: {
              '--legal-comments': LAMBDA_BUNDLING.legalComments,
              ...Object.fromEntries(
                Object.entries(LAMBDA_BUNDLING.alias).map(([from, to]) => [`--alias:${from}`, to]),
              ),
            },
          },
        };

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      ...code,
      description: props.description,
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: props.environment,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
    });
  }

  /** Allows exactly these actions on exactly these resources, for calls no `grant*` helper matches. */
  allow(actions: string[], resources: string[]): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
  }
}
