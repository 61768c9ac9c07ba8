import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../shared/config.ts';
import { HANDLER_QUEUE, STREAM_EVENT_FILTER, STREAM_PUBLISHER } from '../shared/resources.ts';
import { FUNCTION_SIZING } from './functionSizing.ts';
import { WebhookFunction } from './webhookFunction.ts';

export interface StreamPublishingProps {
  /** The event table, with its stream enabled. */
  table: dynamodb.ITable;
  topic: sns.ITopic;
  logRetention: logs.RetentionDays;
  logRemovalPolicy?: RemovalPolicy;
  /** For the failure queue; unset keeps the CDK default. */
  removalPolicy?: RemovalPolicy;
  code?: lambda.Code;
}

/**
 * Stored means published: the stream publisher function on the event table's stream, and where a
 * batch goes when it cannot be published for a whole day.
 *
 * The event source mapping passes only new event items (`STREAM_EVENT_FILTER`), reports partial batch
 * failures, bisects a failing batch, and retries without limit while records are younger than
 * `MAX_RECORD_AGE`: while SNS is down a shard stalls (the iterator-age alarm fires) rather than skip an
 * event. Only a batch that still fails after that lands in the failure queue, a standard SQS queue
 * (Lambda refuses a FIFO one as a stream's failure destination); its message names the shard, the
 * sequence numbers and the arrival times of the batch, never an event (README: "Stream publisher failures").
 */
export class StreamPublishing extends Construct {
  readonly function: lambda.IFunction;
  readonly failureQueue: sqs.Queue;

  /** Just under the stream's 24-hour retention: the failure record is written before the stream trims the batch. */
  static readonly MAX_RECORD_AGE = Duration.hours(23);

  constructor(scope: Construct, id: string, props: StreamPublishingProps) {
    super(scope, id);
    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(HANDLER_QUEUE.dlqRetentionSeconds),
      ...(props.removalPolicy ? { removalPolicy: props.removalPolicy } : {}),
    });
    Validations.of(this.failureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the on-failure destination of the stream publisher: it holds batch descriptions ' +
        'for the operator, is alarmed when not empty, and nothing consumes it that could fail.',
    });

    const publisher = new WebhookFunction(this, 'Function', {
      entry: 'stream-publisher',
      description: "Publishes every event item written to the event table (the table's stream)",
      memorySize: FUNCTION_SIZING.streamPublisher.memoryMb,
      timeout: Duration.seconds(FUNCTION_SIZING.streamPublisher.timeoutSeconds),
      environment: { [ENV.topicArn]: props.topic.topicArn },
      logRetention: props.logRetention,
      ...(props.logRemovalPolicy ? { logRemovalPolicy: props.logRemovalPolicy } : {}),
      ...(props.code ? { code: props.code } : {}),
    });
    publisher.allow(['sns:Publish'], [props.topic.topicArn]);
    // Reading the stream is granted by the event source (DescribeStream, GetRecords, GetShardIterator on
    // the stream; ListStreams, which has no resource to scope to). No function reads or writes the table.
    publisher.function.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        filters: [lambda.FilterCriteria.filter(STREAM_EVENT_FILTER as unknown as Record<string, unknown>)],
        batchSize: STREAM_PUBLISHER.batchSize,
        maxBatchingWindow: Duration.seconds(STREAM_PUBLISHER.maxBatchingWindowSeconds),
        parallelizationFactor: STREAM_PUBLISHER.parallelizationFactor,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: -1,
        maxRecordAge: StreamPublishing.MAX_RECORD_AGE,
        onFailure: new SqsDlq(this.failureQueue),
      }),
    );
    Validations.of(publisher).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams, which Lambda needs to read the table stream, takes no resource: it is granted on "*" ' +
        '(everything else the event source reads is scoped to the stream ARN).',
    });
    this.function = publisher.function;
  }
}
