/**
 * The IAM permissions each `ops` command needs against a deployed stack, as one least-privilege
 * policy (one statement per group of commands, so an operator can drop what they do not use).
 * `npm run ops -- iam-policy --outputs cdk-outputs.json --stack WebhookIntake-prod` fills in the
 * stack's ARNs; without outputs it prints placeholders.
 */
import { Command } from 'commander';
import { PROVIDER_NAMES, pascalName } from '../../shared/providers/registry.ts';
import { readStackOutputs } from './target.ts';

/** The commands and the AWS calls behind them (what the code calls: keep in step with local/ops/). */
export const OPS_PERMISSIONS = [
  {
    sid: 'ReadEvents',
    commands: 'events list, events show, entity, quarantine list, replay --dry-run',
    actions: ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:DescribeTable'],
    on: 'table',
  },
  {
    sid: 'ReingestQuarantined',
    commands: 'quarantine reingest',
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan'],
    on: 'table',
  },
  {
    sid: 'PublishEvents',
    commands: 'quarantine reingest, replay',
    actions: ['sns:Publish'],
    on: 'eventsTopic',
  },
  {
    sid: 'ListKeys',
    commands: 'keys list',
    actions: ['secretsmanager:GetSecretValue'],
    on: 'secrets',
  },
  {
    sid: 'ChangeKeys',
    commands: 'keys set, keys add, keys remove',
    actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
    on: 'secrets',
  },
] as const;

/** The policy document; `outputs` (one stack's `cdk deploy --outputs-file` values) fills in the ARNs. */
export function opsIamPolicy(outputs: Record<string, string> = {}) {
  const topic = outputs.EventsTopicArn;
  const [, partition, , region, account] = topic?.split(':') ?? [];
  const table = outputs.EventsTableName
    ? `arn:${partition}:dynamodb:${region}:${account}:table/${outputs.EventsTableName}`
    : 'arn:aws:dynamodb:<region>:<account>:table/<EventsTableName>';
  const resources = {
    table: [table],
    eventsTopic: [topic ?? '<EventsTopicArn>'],
    secrets: PROVIDER_NAMES.map((p) => outputs[`SecretArn${pascalName(p)}`] ?? `<SecretArn${pascalName(p)}>`),
  };
  return {
    Version: '2012-10-17',
    Statement: OPS_PERMISSIONS.map(({ sid, actions, on }) => ({
      Sid: sid,
      Effect: 'Allow',
      Action: [...actions],
      Resource: resources[on],
    })),
  };
}

/** `ops iam-policy`: prints the policy (always JSON: it is meant for a file or `aws iam put-role-policy`). */
export function iamPolicyCommand(): Command {
  return new Command('iam-policy')
    .description('print the least-privilege IAM policy the ops commands need on a deployed stack')
    .action((_options, command: Command) => {
      const { outputs, stack } = command.optsWithGlobals<{ outputs?: string; stack?: string }>();
      const values = outputs ? readStackOutputs(outputs, stack) : {};
      process.stdout.write(`${JSON.stringify(opsIamPolicy(values), null, 2)}\n`);
    });
}
