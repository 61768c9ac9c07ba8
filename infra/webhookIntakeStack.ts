import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENV } from '../shared/config.ts';
import { PROVIDER_NAMES, pascalName } from '../shared/providers/registry.ts';
import type { IntakeConfig } from './config.ts';
import { EventDelivery } from './eventDelivery.ts';
import { EventTable } from './eventTable.ts';
import { FUNCTION_SIZING } from './functionSizing.ts';
import { Monitoring } from './monitoring.ts';
import { OperatorAlerts } from './operatorAlerts.ts';
import { ProviderSecrets } from './providerSecrets.ts';
import { StreamPublishing } from './streamPublishing.ts';
import { WebhookApi } from './webhookApi.ts';
import { WebhookFunction } from './webhookFunction.ts';

export interface WebhookIntakeStackProps extends StackProps {
  config: IntakeConfig;
  /**
   * Code for every function instead of bundling functions/*. For tests only: they need neither the
   * entries nor esbuild time. `cdk synth` / `cdk deploy` leave it unset and bundle.
   */
  functionCode?: lambda.Code;
}

/**
 * The webhook intake: HTTP API → ingest functions → event table + SNS FIFO topic → SQS FIFO queues,
 * the stream publisher, the event handler, operator alerts, alarms and a dashboard. Environment-agnostic (no
 * account or region lookups), so it synthesizes offline.
 */
export class WebhookIntakeStack extends Stack {
  constructor(scope: Construct, id: string, props: WebhookIntakeStackProps) {
    super(scope, id, props);
    const { config } = props;
    const prod = config.stage === 'prod';
    // prod keeps every stateful resource on stack deletion; dev keeps the CDK defaults, except the
    // event table, which is retained everywhere.
    const retain = prod ? RemovalPolicy.RETAIN : undefined;
    const logRetention = prod ? RetentionDays.ONE_YEAR : RetentionDays.ONE_MONTH;
    const code = props.functionCode ? { code: props.functionCode } : {};
    const logs = { logRetention, ...(retain ? { logRemovalPolicy: retain } : {}) };

    // Stateful: what holds events, messages and keys.
    const eventTable = new EventTable(this, 'Events', { deletionProtection: prod });
    const table = eventTable.table;
    const delivery = new EventDelivery(this, 'Delivery', {
      subscribers: config.subscribers,
      ...(retain ? { removalPolicy: retain } : {}),
    });
    const secrets = new ProviderSecrets(this, 'ProviderSecrets', {
      providers: PROVIDER_NAMES,
      ...(retain ? { removalPolicy: retain } : {}),
    });
    const alerts = new OperatorAlerts(this, 'Alerts', retain ? { removalPolicy: retain } : {});

    // Stateless: functions, API, schedule, monitoring.
    const api = new WebhookApi(this, 'Webhooks', {
      apiName: `webhook-intake-${config.stage}`,
      ...(config.customDomain ? { customDomain: config.customDomain } : {}),
      providers: PROVIDER_NAMES,
      providerSettings: config.providerSettings,
      compatibleEventItems: config.compatibleEventItems,
      secretOf: (provider) => secrets.of(provider),
      table,
      topic: delivery.topic,
      throttle: { rateLimit: config.throttleRateLimit, burstLimit: config.throttleBurstLimit },
      ...logs,
      ...code,
    });

    const streamPublishing = new StreamPublishing(this, 'StreamPublisher', {
      table,
      topic: delivery.topic,
      ...logs,
      ...(retain ? { removalPolicy: retain } : {}),
      ...code,
    });

    const eventHandler = new WebhookFunction(this, 'EventHandler', {
      entry: 'event-handler',
      description: 'Default consumer: keeps the latest entity state, raises operator alerts',
      memorySize: FUNCTION_SIZING.eventHandler.memoryMb,
      timeout: Duration.seconds(FUNCTION_SIZING.eventHandler.timeoutSeconds),
      environment: {
        [ENV.table]: table.tableName,
        [ENV.alertsTopicArn]: alerts.topic.topicArn,
        [ENV.alertWindowMinutes]: String(config.alertWindowMinutes),
      },
      ...logs,
      ...code,
    });
    eventHandler.allow(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [table.tableArn]);
    alerts.topic.grantPublish(eventHandler);
    Validations.of(eventHandler).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'Publishing to the KMS-encrypted alert topic needs kms:GenerateDataKey* and kms:Decrypt (the set ' +
        "SNS documents and Topic.grantPublish grants), on the alert topic's key only.",
    });
    eventHandler.function.addEventSource(
      new SqsEventSource(delivery.handler.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    // Closing alerts of ended alert windows (functions/event-handler/operatorAlerts.ts).
    new events.Rule(this, 'AlertFlushSchedule', {
      description: 'Sends the closing operator alerts of ended alert windows',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(eventHandler.function)],
    });

    const monitoring = new Monitoring(this, 'Monitoring', {
      alertsTopic: alerts.topic,
      providers: PROVIDER_NAMES,
      api: api.api,
      functions: {
        ...Object.fromEntries(
          Object.entries(api.ingest).map(([name, fn]) => [`ingest-${name}`, fn.function]),
        ),
        'stream-publisher': streamPublishing.function,
        'event-handler': eventHandler.function,
      },
      handlerQueue: delivery.handler.queue,
      deadLetterQueues: {
        handler: delivery.handler.dlq,
        ...Object.fromEntries(Object.entries(delivery.subscriberQueues).map(([name, q]) => [name, q.dlq])),
      },
      streamPublisher: streamPublishing.function,
      streamFailureQueue: streamPublishing.failureQueue,
      unpublishedAgeAlarmSeconds: config.unpublishedAgeAlarmSeconds,
      handlerQueueAgeAlarmSeconds: config.handlerQueueAgeAlarmSeconds,
      api5xxAlarmPercent: config.api5xxAlarmPercent,
      deliveryAlarms: {
        windowMinutes: config.alarmWindowMinutes,
        keyRejectionCount: config.keyRejectionAlarmCount,
        quarantineRatePercent: config.quarantineRateAlarmPercent,
      },
    });

    for (const provider of PROVIDER_NAMES) {
      new CfnOutput(this, `WebhookUrl${pascalName(provider)}`, {
        description: `Register in ${provider}'s dashboard as the webhook URL`,
        value: api.urlOf(provider),
      });
      new CfnOutput(this, `SecretArn${pascalName(provider)}`, {
        description: `Put ${provider}'s keys here: {"keys": ["..."]}`,
        value: secrets.of(provider).secretArn,
      });
    }
    if (api.domain && config.customDomain) {
      new CfnOutput(this, 'CustomDomainTarget', {
        description: `Point ${config.customDomain.domainName} here (CNAME, or an alias record with CustomDomainZoneId)`,
        value: api.domain.regionalDomainName,
      });
      new CfnOutput(this, 'CustomDomainZoneId', { value: api.domain.regionalHostedZoneId });
    }
    new CfnOutput(this, 'EventsTopicArn', { value: delivery.topic.topicArn });
    new CfnOutput(this, 'HandlerQueueUrl', { value: delivery.handler.queue.queueUrl });
    new CfnOutput(this, 'HandlerDlqUrl', { value: delivery.handler.dlq.queueUrl });
    for (const [name, queues] of Object.entries(delivery.subscriberQueues)) {
      new CfnOutput(this, `SubscriberQueueUrl${pascalName(name)}`, {
        description: `Queue of subscriber ${name}`,
        value: queues.queue.queueUrl,
      });
      new CfnOutput(this, `SubscriberDlqUrl${pascalName(name)}`, {
        description: `Dead-letter queue of subscriber ${name}`,
        value: queues.dlq.queueUrl,
      });
    }
    new CfnOutput(this, 'AlertsTopicArn', { value: alerts.topic.topicArn });
    new CfnOutput(this, 'EventsTableName', { value: table.tableName });
    new CfnOutput(this, 'DashboardName', { value: monitoring.dashboard.dashboardName });
  }
}
