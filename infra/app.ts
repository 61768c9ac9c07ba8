import { ConfigError } from './config.ts';
import { createIntakeApp } from './intakeApp.ts';

/**
 * Entry of the CDK app (cdk.json): `npx cdk deploy -c stage=dev|prod`. The stack has no `env`: it
 * deploys to the account and region of the credentials in use, and synthesizes with none. A bad
 * context value is one line, without a stack trace.
 */
try {
  createIntakeApp();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`Bad CDK context: ${error.message}\n`);
  process.exitCode = 1;
}
