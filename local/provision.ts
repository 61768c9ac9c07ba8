import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  ALERTS_TOPIC,
  EVENT_TABLE,
  EVENTS_TOPIC,
  FIFO_QUEUE_ATTRIBUTES,
  HANDLER_QUEUE,
  MAX_RECEIVE_COUNT,
  type SubscriberQueue,
} from '../shared/resources.ts';
import type { AwsClients } from './awsClients.ts';

export interface LocalResources {
  table: string;
  /** The table's stream, read by the stream publisher. */
  streamArn: string;
  topicArn: string;
  alertsTopicArn: string;
  handlerQueueUrl: string;
  handlerDlqUrl: string;
  /** Subscriber queues by name, with their DLQs. */
  subscriberQueues: Record<string, { url: string; dlqUrl: string }>;
}

export interface ProvisionOptions {
  /** Appended to every name, so parallel test files never share a resource. */
  suffix?: string;
  /** Visibility timeout of the handler queue (tests shorten it to see redelivery quickly). */
  visibilityTimeoutSeconds?: number;
  subscribers?: readonly SubscriberQueue[];
  /** Whether the handler queue is subscribed to the topic (tests may read the topic's output directly). */
  subscribeHandler?: boolean;
}

/**
 * Creates the table, topics, queues, DLQs and subscriptions the CDK stack creates, from the same
 * definitions (shared/resources.ts), on the local servers. Idempotent for the table.
 */
export async function provisionLocal(
  clients: AwsClients,
  options: ProvisionOptions = {},
): Promise<LocalResources> {
  const suffix = options.suffix ?? '';
  const table = `webhook-events${suffix}`;
  const streamArn = await createEventTable(clients.dynamodb, table);

  const fifo = (name: string) => name.replace(/\.fifo$/, `${suffix}.fifo`);
  const { TopicArn: topicArn } = await clients.sns.send(
    new CreateTopicCommand({
      Name: fifo(EVENTS_TOPIC.localName),
      Attributes: { ...EVENTS_TOPIC.attributes },
    }),
  );
  const { TopicArn: alertsTopicArn } = await clients.sns.send(
    new CreateTopicCommand({ Name: `${ALERTS_TOPIC.localName}${suffix}` }),
  );
  if (!topicArn || !alertsTopicArn) throw new Error('topic creation returned no ARN');

  const visibility = options.visibilityTimeoutSeconds ?? HANDLER_QUEUE.visibilityTimeoutSeconds;
  const handler = await createQueueWithDlq(
    clients.sqs,
    fifo(HANDLER_QUEUE.localName),
    fifo(HANDLER_QUEUE.localDlqName),
    visibility,
  );
  if (options.subscribeHandler !== false) await subscribe(clients.sns, topicArn, handler.arn);

  const subscriberQueues: LocalResources['subscriberQueues'] = {};
  for (const subscriber of options.subscribers ?? []) {
    const queue = await createQueueWithDlq(
      clients.sqs,
      `${subscriber.name}${suffix}.fifo`,
      `${subscriber.name}-dlq${suffix}.fifo`,
      HANDLER_QUEUE.visibilityTimeoutSeconds,
    );
    await subscribe(clients.sns, topicArn, queue.arn, subscriber.filterPolicy);
    subscriberQueues[subscriber.name] = { url: queue.url, dlqUrl: queue.dlqUrl };
  }
  return {
    table,
    streamArn,
    topicArn,
    alertsTopicArn,
    handlerQueueUrl: handler.url,
    handlerDlqUrl: handler.dlqUrl,
    subscriberQueues,
  };
}

async function createEventTable(dynamodb: DynamoDBClient, table: string): Promise<string> {
  const { partitionKey, ttlAttribute, streamViewType } = EVENT_TABLE;
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
        StreamSpecification: { StreamEnabled: true, StreamViewType: streamViewType },
      }),
    );
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
  if (!Table?.LatestStreamArn) throw new Error(`table ${table} has no stream`);
  return Table.LatestStreamArn;
}

async function createQueueWithDlq(sqs: SQSClient, name: string, dlqName: string, visibilityTimeout: number) {
  const dlqUrl = await createQueue(sqs, dlqName, {
    MessageRetentionPeriod: String(HANDLER_QUEUE.dlqRetentionSeconds),
  });
  const dlqArn = await queueArn(sqs, dlqUrl);
  const url = await createQueue(sqs, name, {
    VisibilityTimeout: String(visibilityTimeout),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVE_COUNT }),
  });
  return { url, dlqUrl, arn: await queueArn(sqs, url) };
}

async function createQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { ...FIFO_QUEUE_ATTRIBUTES, ...attributes } }),
  );
  if (!QueueUrl) throw new Error(`queue ${name} has no URL`);
  return QueueUrl;
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${url} has no ARN`);
  return arn;
}

async function subscribe(sns: SNSClient, topicArn: string, queueArnValue: string, filterPolicy?: object) {
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: queueArnValue,
      Attributes: {
        RawMessageDelivery: 'true',
        ...(filterPolicy ? { FilterPolicy: JSON.stringify(filterPolicy) } : {}),
      },
    }),
  );
}
