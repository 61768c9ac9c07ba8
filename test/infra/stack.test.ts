import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DEFAULTS } from '../../infra/config.ts';
import { FUNCTION_SIZING } from '../../infra/functionSizing.ts';
import { ENV } from '../../shared/config.ts';
import { METRIC, METRICS_NAMESPACE } from '../../shared/metrics.ts';
import { PROVIDER_NAMES } from '../../shared/providers/registry.ts';
import {
  EVENT_TABLE,
  HANDLER_QUEUE,
  MAX_RECEIVE_COUNT,
  STREAM_EVENT_FILTER,
  STREAM_PUBLISHER,
} from '../../shared/resources.ts';
import { synthIntake } from './synthIntake.ts';

type Resource = { Properties: Record<string, unknown>; DeletionPolicy?: string };

/** Logical id of the only resource of a type matching the props; fails when there is not exactly one. */
function onlyId(template: Template, type: string, props: object = {}): string {
  const ids = Object.keys(template.findResources(type, { Properties: props }));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

function resourcesOf(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

/** The resource of that type and logical id; fails the test when there is none. */
function resource(template: Template, type: string, id: string): Resource {
  const found = resourcesOf(template, type)[id];
  if (!found) throw new Error(`no ${type} ${id} in the template`);
  return found;
}

/** Logical id of the dead-letter queue a queue redrives to. */
function dlqOf(queue: Resource): string {
  return describeArn(
    (queue.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn,
  );
}

/** `{Ref: X}` → X, `{Fn::GetAtt: [X, 'Arn']}` → X, `{Fn::GetAtt: [X, 'StreamArn']}` → `X/stream`. */
function describeArn(value: unknown): string {
  const v = value as Record<string, unknown>;
  if (typeof value === 'string') return value;
  if ('Ref' in v) return String(v.Ref);
  if ('Fn::GetAtt' in v) {
    const [id, attribute] = v['Fn::GetAtt'] as string[];
    return attribute === 'StreamArn' ? `${id}/stream` : String(id);
  }
  if ('Fn::Join' in v) return (v['Fn::Join'] as [string, unknown[]])[1].map(describeArn).join('');
  return JSON.stringify(value);
}

/** Every `action resource` pair the role is allowed, whatever way CDK grouped the statements. */
function permissionsOf(template: Template, functionId: string): string[] {
  const roleId = describeArn(resource(template, 'AWS::Lambda::Function', functionId).Properties.Role);
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) },
  });
  const role = resource(template, 'AWS::IAM::Role', roleId);
  expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  expect(role.Properties.Policies).toBeUndefined();
  const pairs: string[] = [];
  for (const policy of Object.values(policies)) {
    const document = policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] };
    for (const statement of document.Statement) {
      expect(statement.Effect).toBe('Allow');
      expect(statement.Condition).toBeUndefined();
      for (const action of [statement.Action].flat()) {
        for (const arn of [statement.Resource].flat()) pairs.push(`${action} ${describeArn(arn)}`);
      }
    }
  }
  return pairs.sort();
}

function functionIdWithEnv(template: Template, variables: Record<string, unknown>): string {
  return onlyId(template, 'AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike(variables) },
  });
}

function envOf(template: Template, functionId: string): Record<string, unknown> {
  const fn = resource(template, 'AWS::Lambda::Function', functionId);
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

function logGroupOf(template: Template, functionId: string): string {
  const fn = resource(template, 'AWS::Lambda::Function', functionId);
  return describeArn((fn.Properties.LoggingConfig as { LogGroup: unknown }).LogGroup);
}

describe('the stack, default configuration (dev)', () => {
  let template: Template;
  let findings: ReturnType<typeof synthIntake>['findings'];
  let tableId: string;
  let eventsTopicId: string;
  let alertsTopicId: string;
  beforeAll(() => {
    ({ template, findings } = synthIntake());
    tableId = onlyId(template, 'AWS::DynamoDB::Table');
    eventsTopicId = onlyId(template, 'AWS::SNS::Topic', { FifoTopic: true });
    alertsTopicId = onlyId(template, 'AWS::SNS::Topic', { FifoTopic: Match.absent() });
  });

  it('has no cdk-nag (AwsSolutions) or other validation finding left unacknowledged', () => {
    expect(findings).toEqual([]);
  });

  it('routes ANY /webhooks/<provider> to that provider’s own ingest function, for every registered provider', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Route', PROVIDER_NAMES.length);
    for (const provider of PROVIDER_NAMES) {
      const functionId = functionIdWithEnv(template, { [ENV.provider]: provider });
      const integrationId = onlyId(template, 'AWS::ApiGatewayV2::Integration', {
        IntegrationUri: { 'Fn::GetAtt': [functionId, 'Arn'] },
        PayloadFormatVersion: '2.0',
      });
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `ANY /webhooks/${provider}`,
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
      });
    }
  });

  it('runs every function on the newest Node.js runtime aws-cdk-lib knows, arm64, without cold-start flags', () => {
    const newestNode = lambda.Runtime.ALL.filter((r) => /^nodejs\d+\.x$/.test(r.name))
      .map((r) => r.name)
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
      .at(-1);
    const functions = Object.values(resourcesOf(template, 'AWS::Lambda::Function'));
    expect(functions).toHaveLength(PROVIDER_NAMES.length + 2);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: newestNode,
        Architectures: ['arm64'],
      });
      // --enable-source-maps would parse the map on every cold start (about 14 ms, see bench/).
      expect(
        (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
          ?.NODE_OPTIONS,
      ).toBeUndefined();
    }
  });

  it('sizes the ingest functions as the cost model prices them, answering within the providers’ patience', () => {
    expect(FUNCTION_SIZING.ingest.timeoutSeconds).toBeLessThan(30);
    for (const provider of PROVIDER_NAMES) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [ENV.provider]: provider }) },
        MemorySize: FUNCTION_SIZING.ingest.memoryMb,
        Timeout: FUNCTION_SIZING.ingest.timeoutSeconds,
      });
    }
  });

  it('gives every function its own log group with a retention (no legacy logRetention resource)', () => {
    for (const id of Object.keys(resourcesOf(template, 'AWS::Lambda::Function'))) {
      const logGroup = resource(template, 'AWS::Logs::LogGroup', logGroupOf(template, id));
      expect(logGroup.Properties.RetentionInDays).toEqual(expect.any(Number));
    }
    template.resourceCountIs('Custom::LogRetention', 0);
  });

  it('stores events in an on-demand table with point-in-time recovery, TTL and a stream of new images, and no index', () => {
    const { partitionKey, ttlAttribute } = EVENT_TABLE;
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
        GlobalSecondaryIndexes: Match.absent(),
      },
    });
  });

  it('publishes to an encrypted high-throughput FIFO topic that accepts TLS only', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      FifoTopic: true,
      ContentBasedDeduplication: false,
      FifoThroughputScope: 'MessageGroup',
      KmsMasterKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: eventsTopicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('feeds the handler queue (high-throughput FIFO, encrypted, TLS only) with raw delivery, and hands poison messages to a FIFO DLQ', () => {
    const queueId = onlyId(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    const queue = resource(template, 'AWS::SQS::Queue', queueId);
    expect(queue.Properties).toMatchObject({
      FifoQueue: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      SqsManagedSseEnabled: true,
      VisibilityTimeout: HANDLER_QUEUE.visibilityTimeoutSeconds,
      RedrivePolicy: { maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    const dlqId = dlqOf(queue);
    expect(resource(template, 'AWS::SQS::Queue', dlqId).Properties).toMatchObject({
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: HANDLER_QUEUE.dlqRetentionSeconds,
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: { Ref: eventsTopicId },
      Protocol: 'sqs',
      Endpoint: { 'Fn::GetAtt': [queueId, 'Arn'] },
      RawMessageDelivery: true,
    });
    for (const id of [queueId, dlqId]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('allows each ingest function exactly its calls: put/update the table, publish events, read its own secret', () => {
    const secrets = new Set<string>();
    for (const provider of PROVIDER_NAMES) {
      const id = functionIdWithEnv(template, { [ENV.provider]: provider });
      const secretId = describeArn(envOf(template, id)[ENV.secretId]);
      secrets.add(secretId);
      expect(permissionsOf(template, id)).toEqual(
        [
          `dynamodb:PutItem ${tableId}`,
          `logs:CreateLogStream ${logGroupOf(template, id)}`,
          `logs:PutLogEvents ${logGroupOf(template, id)}`,
          `secretsmanager:GetSecretValue ${secretId}`,
          `sns:Publish ${eventsTopicId}`,
        ].sort(),
      );
    }
    expect(secrets.size).toBe(PROVIDER_NAMES.length);
    template.resourceCountIs('AWS::SecretsManager::Secret', PROVIDER_NAMES.length);
  });

  it('runs the stream publisher on the table stream: new event items only, partial failures, bisect, unlimited retries, a standard failure queue', () => {
    const id = functionIdWithEnv(template, {
      [ENV.topicArn]: Match.anyValue(),
      [ENV.provider]: Match.absent(),
    });
    const failureQueueId = onlyId(template, 'AWS::SQS::Queue', { FifoQueue: Match.absent() });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id },
      EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify(STREAM_EVENT_FILTER) }] },
      BatchSize: STREAM_PUBLISHER.batchSize,
      ParallelizationFactor: STREAM_PUBLISHER.parallelizationFactor,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: 23 * 3600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [failureQueueId, 'Arn'] } },
      },
    });
    // No sweeper schedule: the one rule is the alert flush of the event handler.
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: 'Sends the closing operator alerts of ended alert windows',
    });
  });

  it('lets only the stream publisher read the stream, and it touches no table item: stream read, publish events, report failures', () => {
    const id = functionIdWithEnv(template, {
      [ENV.topicArn]: Match.anyValue(),
      [ENV.provider]: Match.absent(),
    });
    const failureQueueId = onlyId(template, 'AWS::SQS::Queue', { FifoQueue: Match.absent() });
    const permissions = permissionsOf(template, id);
    expect(permissions).toEqual(
      [
        `dynamodb:DescribeStream ${tableId}/stream`,
        `dynamodb:GetRecords ${tableId}/stream`,
        `dynamodb:GetShardIterator ${tableId}/stream`,
        'dynamodb:ListStreams *',
        `logs:CreateLogStream ${logGroupOf(template, id)}`,
        `logs:PutLogEvents ${logGroupOf(template, id)}`,
        `sns:Publish ${eventsTopicId}`,
        ...permissions.filter((p) => p.startsWith('sqs:')),
      ].sort(),
    );
    expect(permissions.filter((p) => p.startsWith('sqs:'))).toContain(`sqs:SendMessage ${failureQueueId}`);
    expect(permissions.filter((p) => p.startsWith('sqs:')).every((p) => p.endsWith(failureQueueId))).toBe(
      true,
    );
    for (const other of Object.keys(resourcesOf(template, 'AWS::Lambda::Function')).filter((f) => f !== id)) {
      expect(permissionsOf(template, other).filter((p) => p.includes('/stream'))).toEqual([]);
    }
  });

  it('allows the event handler get/put/update on the table, consuming its queue, and alerting (with the alert key)', () => {
    const id = functionIdWithEnv(template, { [ENV.alertsTopicArn]: Match.anyValue() });
    const queueId = onlyId(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    const keyId = onlyId(template, 'AWS::KMS::Key', { EnableKeyRotation: true });
    expect(permissionsOf(template, id)).toEqual(
      [
        `dynamodb:GetItem ${tableId}`,
        `dynamodb:PutItem ${tableId}`,
        `dynamodb:UpdateItem ${tableId}`,
        `kms:Decrypt ${keyId}`,
        `kms:GenerateDataKey* ${keyId}`,
        `logs:CreateLogStream ${logGroupOf(template, id)}`,
        `logs:PutLogEvents ${logGroupOf(template, id)}`,
        `sns:Publish ${alertsTopicId}`,
        ...[
          'ChangeMessageVisibility',
          'DeleteMessage',
          'GetQueueAttributes',
          'GetQueueUrl',
          'ReceiveMessage',
        ].map((action) => `sqs:${action} ${queueId}`),
      ].sort(),
    );
  });

  it('lets CloudWatch alarms use the alert topic’s key', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
      FifoTopic: Match.absent(),
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('alarms on every DLQ, quarantines, the stream publisher falling behind or giving up, API 5xx rate, handler queue age, and each function’s errors and throttles, all to the alert topic', () => {
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'));
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: alertsTopicId }]);
    }
    const has = (props: object) => template.hasResourceProperties('AWS::CloudWatch::Alarm', props);
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    const dlqIds = Object.values(queues)
      .filter((queue) => queue.Properties.RedrivePolicy !== undefined)
      .map(dlqOf);
    expect(dlqIds.length).toBeGreaterThan(0);
    for (const dlqId of dlqIds) {
      has({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
    for (const provider of PROVIDER_NAMES) {
      has({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.quarantined,
        Dimensions: [{ Name: 'provider', Value: provider }],
        Threshold: 0,
      });
    }
    const streamPublisherId = functionIdWithEnv(template, {
      [ENV.topicArn]: Match.anyValue(),
      [ENV.provider]: Match.absent(),
    });
    has({
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: streamPublisherId } }],
      Threshold: DEFAULTS.unpublishedAgeAlarmSeconds * 1000,
    });
    const failureQueueId = onlyId(template, 'AWS::SQS::Queue', { FifoQueue: Match.absent() });
    has({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [failureQueueId, 'QueueName'] } }],
      Threshold: 0,
    });
    const handlerQueueId = onlyId(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    has({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [handlerQueueId, 'QueueName'] } }],
      Threshold: DEFAULTS.handlerQueueAgeAlarmSeconds,
    });
    has({
      Threshold: DEFAULTS.api5xxAlarmPercent,
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: '5xx' }) }),
        }),
        Match.objectLike({
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Count' }) }),
        }),
      ]),
    });
    for (const functionId of Object.keys(resourcesOf(template, 'AWS::Lambda::Function'))) {
      for (const metric of ['Errors', 'Throttles']) {
        has({
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
          Threshold: 0,
        });
      }
    }
  });

  it('charts every provider’s accepted, duplicate, conflict, quarantined, rejected and latency metrics', () => {
    const dashboard = resource(
      template,
      'AWS::CloudWatch::Dashboard',
      onlyId(template, 'AWS::CloudWatch::Dashboard'),
    );
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const provider of PROVIDER_NAMES) {
      for (const name of [
        METRIC.accepted,
        METRIC.duplicate,
        METRIC.conflict,
        METRIC.quarantined,
        METRIC.rejected,
        METRIC.ingestLatency,
      ]) {
        expect(body).toContain(`[\\"${METRICS_NAMESPACE}\\",\\"${name}\\",\\"provider\\",\\"${provider}\\"`);
      }
    }
  });

  it('throttles the API stage and logs access as JSON without bodies or headers', () => {
    const stage = resource(
      template,
      'AWS::ApiGatewayV2::Stage',
      onlyId(template, 'AWS::ApiGatewayV2::Stage'),
    );
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: DEFAULTS.throttleRateLimit,
        ThrottlingBurstLimit: DEFAULTS.throttleBurstLimit,
      },
    });
    const { DestinationArn, Format } = stage.Properties.AccessLogSettings as {
      DestinationArn: unknown;
      Format: string;
    };
    const logGroup = resource(template, 'AWS::Logs::LogGroup', describeArn(DestinationArn));
    expect(logGroup.Properties.RetentionInDays).toEqual(expect.any(Number));
    const fields = Object.values(JSON.parse(Format) as Record<string, string>);
    expect(fields).toContain('$context.requestId');
    for (const field of fields) expect(field).not.toMatch(/body|header|authorization|signature/i);
  });

  it('prints the webhook URL of each provider and the names consumers and operators need', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const provider of PROVIDER_NAMES) {
      const url = Object.values(outputs).find((output) =>
        JSON.stringify(output.Value).endsWith(`"/webhooks/${provider}"]]}`),
      );
      expect(url).toBeDefined();
    }
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['EventsTopicArn', 'HandlerQueueUrl', 'AlertsTopicArn', 'EventsTableName']),
    );
  });

  it('leaves dev stateful resources other than the table to CDK defaults and names nothing by hand', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    for (const type of [
      'AWS::DynamoDB::Table',
      'AWS::SQS::Queue',
      'AWS::Lambda::Function',
      'AWS::IAM::Role',
    ]) {
      for (const resource of Object.values(resourcesOf(template, type))) {
        expect(resource.Properties).not.toHaveProperty('TableName');
        expect(resource.Properties).not.toHaveProperty('QueueName');
        expect(resource.Properties).not.toHaveProperty('FunctionName');
        expect(resource.Properties).not.toHaveProperty('RoleName');
      }
    }
  });
});

describe('the cdk-nag checks', () => {
  it('report a finding nobody acknowledged (so zero findings above means compliant, not unchecked)', () => {
    const { findings } = synthIntake({}, (stack) => {
      new sqs.Queue(stack, 'UncheckedQueue');
    });
    expect(findings).toContainEqual({
      ruleName: 'AwsSolutions-SQS3',
      constructPaths: ['WebhookIntake-dev/UncheckedQueue/Resource'],
    });
  });
});

describe('compatible event items, for an update from the release before 2026-11-30', () => {
  it('tells every ingest function so with `-c compatibleEventItems=true`, and none without it', () => {
    const ingestEnvs = (template: Template) =>
      Object.values(template.findResources('AWS::Lambda::Function'))
        .map(
          (fn) =>
            (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables,
        )
        .filter((variables) => variables?.[ENV.provider] !== undefined);
    const compatible = ingestEnvs(synthIntake({ compatibleEventItems: 'true' }).template);
    expect(compatible).toHaveLength(PROVIDER_NAMES.length);
    for (const variables of compatible) expect(variables?.[ENV.eventItems]).toBe('compatible');
    for (const variables of ingestEnvs(synthIntake().template))
      expect(variables?.[ENV.eventItems]).toBeUndefined();
  });
});

describe('the stack, prod with subscribers', () => {
  let template: Template;
  let findings: ReturnType<typeof synthIntake>['findings'];
  let stackName: string;
  let terminationProtection: boolean;
  beforeAll(() => {
    const synth = synthIntake({
      stage: 'prod',
      throttleRateLimit: '25',
      subscribers: JSON.stringify([
        { name: 'wallet', filterPolicy: { provider: ['apara'], outcome: ['succeeded'] } },
        { name: 'partner-kyc', consumerAccountId: '123456789012' },
      ]),
    });
    ({ template, findings } = synth);
    stackName = synth.stack.stackName;
    terminationProtection = synth.stack.terminationProtection;
  });

  it('has no validation finding either', () => {
    expect(findings).toEqual([]);
  });

  it('names the stack after its stage and protects it', () => {
    expect(stackName).toBe('WebhookIntake-prod');
    expect(terminationProtection).toBe(true);
  });

  it('gives a configured subscriber its own FIFO queue with a DLQ, subscribed raw with its filter policy', () => {
    const eventsTopicId = onlyId(template, 'AWS::SNS::Topic', { FifoTopic: true });
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const queueId = describeArn(outputs.SubscriberQueueUrlWallet?.Value);
    const queue = resource(template, 'AWS::SQS::Queue', queueId);
    expect(queue.Properties).toMatchObject({
      FifoQueue: true,
      RedrivePolicy: { maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: { Ref: eventsTopicId },
      Endpoint: { 'Fn::GetAtt': [queueId, 'Arn'] },
      RawMessageDelivery: true,
      FilterPolicy: { provider: ['apara'], outcome: ['succeeded'] },
    });
    const dlqId = dlqOf(queue);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
    });
  });

  it('lets a subscriber in another account subscribe its own SQS queue, and nothing more', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Subscribe',
            Principal: {
              AWS: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':iam::123456789012:root'])] }),
            },
            Condition: Match.objectLike({ StringEquals: { 'sns:Protocol': 'sqs' } }),
          }),
        ]),
      },
    });
  });

  it('retains every stateful resource and protects the table from deletion', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
    for (const type of [
      'AWS::SQS::Queue',
      'AWS::SNS::Topic',
      'AWS::SecretsManager::Secret',
      'AWS::Logs::LogGroup',
      'AWS::KMS::Key',
    ]) {
      for (const resource of Object.values(resourcesOf(template, type))) {
        expect(resource.DeletionPolicy).toBe('Retain');
      }
    }
  });

  it('takes the stage throttling from context', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: 25 }),
    });
  });
});
