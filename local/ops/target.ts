import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { EntityStateStore } from '../../shared/entityState.ts';
import { EventStore } from '../../shared/eventStore.ts';
import { EventPublisher } from '../../shared/publisher.ts';
import { localClients } from '../awsClients.ts';
import { readStackFile } from '../stackFile.ts';

/** Where the operator commands work: the local stack, or a deployed one in AWS. */
export interface OpsTarget {
  /** "local stack (…)" or "AWS eu-west-1, table …": printed so nobody mistakes one for the other. */
  label: string;
  dynamodb: DynamoDBClient;
  sns: SNSClient;
  table: string;
  topicArn?: string;
  store: EventStore;
  states: EntityStateStore;
  /** The events topic publisher; a clear error when no topic ARN was given. */
  publisher(): EventPublisher;
  close(): void;
}

export interface TargetOptions {
  table?: string;
  topicArn?: string;
  region?: string;
  /** A `cdk deploy --outputs-file` file to read the table name and topic ARN from. */
  outputs?: string;
  /** The stack in that file; required when it holds more than one. */
  stack?: string;
}

/**
 * AWS when a table (or a CDK outputs file) is given, with the default credential chain and region;
 * otherwise the local stack described by `.local/stack.json`.
 */
export function resolveTarget(options: TargetOptions): OpsTarget {
  const fromOutputs = options.outputs ? readCdkOutputs(options.outputs, options.stack) : {};
  const table = options.table ?? fromOutputs.table;
  const topicArn = options.topicArn ?? fromOutputs.topicArn;
  if (table) {
    const region = options.region ?? (topicArn ? topicArn.split(':')[3] : undefined);
    const config = region ? { region } : {};
    return makeTarget(
      `AWS${region ? ` ${region}` : ''}, table ${table}`,
      new DynamoDBClient(config),
      new SNSClient(config),
      table,
      topicArn,
    );
  }
  const stack = readStackFile();
  const clients = localClients(stack.endpoints);
  clients.sqs.destroy();
  return makeTarget(
    `local stack (${stack.httpUrl})`,
    clients.dynamodb,
    clients.sns,
    stack.table,
    topicArn ?? stack.topicArn,
  );
}

function makeTarget(
  label: string,
  dynamodb: DynamoDBClient,
  sns: SNSClient,
  table: string,
  topicArn?: string,
): OpsTarget {
  const store = new EventStore(dynamodb, table);
  return {
    label,
    dynamodb,
    sns,
    table,
    ...(topicArn ? { topicArn } : {}),
    store,
    states: new EntityStateStore(store),
    publisher() {
      if (!topicArn)
        throw new Error('this command publishes: give the events topic with --topic-arn (or --outputs)');
      return new EventPublisher(sns, topicArn);
    },
    close() {
      dynamodb.destroy();
      sns.destroy();
    },
  };
}

/**
 * One stack's outputs from `cdk deploy --outputs-file <file>` (`{ "<stack>": { "<output>": "…" } }`).
 * A file may hold several stacks (dev and prod deployed with the same file): then `stack` must say
 * which, never the first one silently.
 */
export function readStackOutputs(file: string, stack?: string): Record<string, string> {
  let stacks: Record<string, Record<string, string>>;
  try {
    stacks = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error);
    throw new Error(`--outputs ${file}: ${why}; give the file \`cdk deploy --outputs-file <file>\` wrote`, {
      cause: error,
    });
  }
  const names = Object.keys(stacks);
  if (stack !== undefined) {
    const outputs = stacks[stack];
    if (!outputs) throw new Error(`${file} has no stack "${stack}"; it has: ${names.join(', ') || 'none'}`);
    return outputs;
  }
  if (names.length > 1) {
    throw new Error(
      `${file} holds ${names.length} stacks (${names.join(', ')}): say which with --stack <name>`,
    );
  }
  return stacks[names[0] ?? ''] ?? {};
}

/**
 * The events table and topic of one stack in a `cdk deploy --outputs-file` file: the first output
 * whose name mentions a table, and the first topic that is not the alerts topic.
 */
export function readCdkOutputs(file: string, stack?: string): { table?: string; topicArn?: string } {
  const outputs = Object.entries(readStackOutputs(file, stack));
  const table = outputs.find(([name]) => /table/i.test(name))?.[1];
  const topicArn = outputs.find(
    ([name, value]) => /topic/i.test(name) && !/alert/i.test(name) && value.startsWith('arn:'),
  )?.[1];
  return { ...(table ? { table } : {}), ...(topicArn ? { topicArn } : {}) };
}
