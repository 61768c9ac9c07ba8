import { createIntakeApp } from './intakeApp.ts';

/**
 * Entry of the CDK app (cdk.json): `npx cdk deploy -c stage=dev|prod`. The stack has no `env`: it
 * deploys to the account and region of the credentials in use, and synthesizes with none.
 */
createIntakeApp();
