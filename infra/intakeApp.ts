import { App, Tags, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readConfig } from './config.ts';
import { WebhookIntakeStack } from './webhookIntakeStack.ts';

export interface IntakeAppOptions {
  /** Context to start from; the CLI passes cdk.json and `-c` values through the environment instead. */
  context?: Record<string, unknown>;
  /** Code for every function instead of bundling functions/* (tests). */
  functionCode?: lambda.Code;
}

/**
 * The app: one stack named after its stage, tagged, with cdk-nag's AWS Solutions checks as a
 * validation plugin, so an unacknowledged finding fails `cdk synth` and `cdk deploy`.
 */
export function createIntakeApp(options: IntakeAppOptions = {}): { app: App; stack: WebhookIntakeStack } {
  const app = new App(options.context ? { context: options.context } : {});
  const config = readConfig(app.node);
  const stack = new WebhookIntakeStack(app, `WebhookIntake-${config.stage}`, {
    config,
    description: `Webhook intake (${config.stage}): provider webhooks to typed events on SNS/SQS FIFO`,
    terminationProtection: config.stage === 'prod',
    ...(options.functionCode ? { functionCode: options.functionCode } : {}),
  });
  Tags.of(stack).add('service', 'webhook-intake');
  Tags.of(stack).add('stage', config.stage);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
