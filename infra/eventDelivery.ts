import { Aws, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  EVENTS_TOPIC,
  FIFO_QUEUE_ATTRIBUTES,
  HANDLER_QUEUE,
  MAX_RECEIVE_COUNT,
  MESSAGE_ATTRIBUTES,
  type SubscriberQueue,
} from '../shared/resources.ts';

export interface EventDeliveryProps {
  subscribers: readonly SubscriberQueue[];
  /** For the topic and every queue; unset keeps the CDK defaults. */
  removalPolicy?: RemovalPolicy;
}

/** SNS attribute values are strings ("true" / "false"). */
const isTrue = (attribute: string) => attribute === 'true';

/** A FIFO queue and the FIFO dead-letter queue it hands a message to after MAX_RECEIVE_COUNT receives. */
export interface QueueWithDlq {
  queue: sqs.Queue;
  dlq: sqs.Queue;
}

/**
 * How normalized events travel (stateful: queues hold messages): the SNS FIFO events topic, the
 * handler queue, and one queue per configured subscriber, each subscribed with raw message delivery.
 * Each consuming service gets its own queue, so consumers never take each other's messages.
 *
 * Encryption without customer-managed keys on this path: the topic uses the AWS managed SNS key, whose
 * key policy already lets the account's principals publish through SNS, and the queues use SQS-managed
 * encryption (SSE-SQS), which SNS can deliver to. So no KMS grant is needed by publishers, by SNS or
 * by consumers, and none is given. Grant publishing with an explicit `sns:Publish` statement:
 * `topic.grantPublish` would add a KMS statement on `key/*` (conditioned on the alias) for nothing.
 */
export class EventDelivery extends Construct {
  readonly topic: sns.Topic;
  readonly handler: QueueWithDlq;
  /** Queues created here, by subscriber name (subscribers in another account bring their own). */
  readonly subscriberQueues: Record<string, QueueWithDlq> = {};

  constructor(scope: Construct, id: string, props: EventDeliveryProps) {
    super(scope, id);
    const removal = props.removalPolicy ? { removalPolicy: props.removalPolicy } : {};

    this.topic = new sns.Topic(this, 'EventsTopic', {
      fifo: isTrue(EVENTS_TOPIC.attributes.FifoTopic),
      contentBasedDeduplication: isTrue(EVENTS_TOPIC.attributes.ContentBasedDeduplication),
      fifoThroughputScope: EVENTS_TOPIC.attributes.FifoThroughputScope as sns.FifoThroughputScope,
      masterKey: kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    if (props.removalPolicy) this.topic.applyRemovalPolicy(props.removalPolicy);

    this.handler = this.queueWithDlq('Handler', removal);
    this.subscribe(this.handler.queue);

    const consumerAccounts = new Set<string>();
    for (const subscriber of props.subscribers) {
      if (subscriber.consumerAccountId) {
        consumerAccounts.add(subscriber.consumerAccountId);
        continue;
      }
      const queues = this.queueWithDlq(`Subscriber-${subscriber.name}`, removal);
      this.subscribe(queues.queue, subscriber.filterPolicy);
      this.subscriberQueues[subscriber.name] = queues;
    }
    for (const accountId of consumerAccounts) this.allowSubscriptionFrom(accountId);
  }

  private queueWithDlq(id: string, removal: { removalPolicy?: RemovalPolicy }): QueueWithDlq {
    const dlq = new sqs.Queue(this, `${id}Dlq`, {
      fifo: true,
      retentionPeriod: Duration.seconds(HANDLER_QUEUE.dlqRetentionSeconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      ...removal,
    });
    const queue = new sqs.Queue(this, `${id}Queue`, {
      fifo: isTrue(FIFO_QUEUE_ATTRIBUTES.FifoQueue),
      deduplicationScope: FIFO_QUEUE_ATTRIBUTES.DeduplicationScope as sqs.DeduplicationScope,
      fifoThroughputLimit: FIFO_QUEUE_ATTRIBUTES.FifoThroughputLimit as sqs.FifoThroughputLimit,
      visibilityTimeout: Duration.seconds(HANDLER_QUEUE.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: dlq, maxReceiveCount: MAX_RECEIVE_COUNT },
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      ...removal,
    });
    return { queue, dlq };
  }

  private subscribe(queue: sqs.IQueue, filterPolicy?: SubscriberQueue['filterPolicy']): void {
    const filters: Record<string, sns.SubscriptionFilter> = {};
    for (const attribute of MESSAGE_ATTRIBUTES) {
      const allowlist = filterPolicy?.[attribute];
      if (allowlist) filters[attribute] = sns.SubscriptionFilter.stringFilter({ allowlist });
    }
    this.topic.addSubscription(
      new subscriptions.SqsSubscription(queue, {
        rawMessageDelivery: true,
        ...(Object.keys(filters).length > 0 ? { filterPolicy: filters } : {}),
      }),
    );
  }

  /**
   * Lets another account subscribe its own SQS queues (the queue owner's subscription needs no
   * confirmation). It sets its filter policy on that subscription; it cannot publish or change the topic.
   */
  private allowSubscriptionFrom(accountId: string): void {
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `SubscribeFrom${accountId}`,
        principals: [new iam.AccountPrincipal(accountId)],
        actions: ['sns:Subscribe'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'sns:Protocol': 'sqs' },
          StringLike: { 'sns:Endpoint': `arn:${Aws.PARTITION}:sqs:*:${accountId}:*` },
        },
      }),
    );
  }
}
