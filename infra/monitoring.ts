import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  KEY_REJECTION_REASONS,
  METRIC,
  METRICS_NAMESPACE,
  type MetricName,
  SERVICE,
} from '../shared/metrics.ts';

export interface MonitoringProps {
  alertsTopic: sns.ITopic;
  providers: readonly string[];
  api: apigwv2.HttpApi;
  /** Every Lambda function, by a name used in alarm descriptions. */
  functions: Record<string, lambda.IFunction>;
  handlerQueue: sqs.IQueue;
  /** Every dead-letter queue, by the queue it serves. */
  deadLetterQueues: Record<string, sqs.IQueue>;
  /** The stream publisher: how far behind the table's stream it is (its iterator age). */
  streamPublisher: lambda.IFunction;
  /** Where a batch the stream publisher could not publish for a day is described. */
  streamFailureQueue: sqs.IQueue;
  unpublishedAgeAlarmSeconds: number;
  handlerQueueAgeAlarmSeconds: number;
  api5xxAlarmPercent: number;
  /** Key-rejection and quarantine-rate alarms: their window and thresholds (infra/config.ts). */
  deliveryAlarms: {
    windowMinutes: number;
    keyRejectionCount: number;
    quarantineRatePercent: number;
  };
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The alarms (every one notifies the operator alert topic) and the dashboard: deliveries per provider,
 * delivery health, function health.
 */
export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  private readonly notify: actions.SnsAction;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.notify = new actions.SnsAction(props.alertsTopic);

    for (const [queueName, dlq] of Object.entries(props.deadLetterQueues)) {
      this.alarm(`DlqNotEmpty-${queueName}`, {
        metric: dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: FIVE_MINUTES }),
        threshold: 0,
        description: `Messages of ${queueName} failed repeatedly and sit in its dead-letter queue.`,
      });
    }
    for (const provider of props.providers) {
      this.alarm(`Quarantined-${provider}`, {
        metric: ingestMetric(METRIC.quarantined, provider, 'Sum'),
        threshold: 0,
        description: `Authentic ${provider} deliveries failed validation and were quarantined (schema change?).`,
      });
    }
    for (const provider of props.providers) this.providerDeliveryAlarms(provider, props.deliveryAlarms);
    const iteratorAge = props.streamPublisher.metric('IteratorAge', {
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    this.alarm('UnpublishedEventAge', {
      metric: iteratorAge,
      threshold: props.unpublishedAgeAlarmSeconds * 1000,
      description:
        `The stream publisher is over ${props.unpublishedAgeAlarmSeconds} s behind the event table ` +
        '(SNS failing?): stored events wait to be published.',
    });
    this.alarm('StreamPublishFailures', {
      metric: props.streamFailureQueue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: FIVE_MINUTES,
      }),
      threshold: 0,
      description:
        'A batch of stored events could not be published for a day: see README "Stream publisher failures".',
    });
    this.alarm('HandlerQueueAge', {
      metric: props.handlerQueue.metricApproximateAgeOfOldestMessage({
        statistic: 'Maximum',
        period: FIVE_MINUTES,
      }),
      threshold: props.handlerQueueAgeAlarmSeconds,
      description: `The handler queue's oldest message is over ${props.handlerQueueAgeAlarmSeconds} s old.`,
    });
    const api5xxRate = new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: {
        errors: props.api.metricServerError({ statistic: 'Sum', period: FIVE_MINUTES }),
        requests: props.api.metricCount({ statistic: 'Sum', period: FIVE_MINUTES }),
      },
      label: 'API 5xx %',
      period: FIVE_MINUTES,
    });
    this.alarm('Api5xxRate', {
      metric: api5xxRate,
      threshold: props.api5xxAlarmPercent,
      description: `Over ${props.api5xxAlarmPercent}% of webhook requests were answered 5xx in 5 minutes.`,
    });
    for (const [name, fn] of Object.entries(props.functions)) {
      this.alarm(`Errors-${name}`, {
        metric: fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES }),
        threshold: 0,
        description: `The ${name} function failed invocations.`,
      });
      this.alarm(`Throttles-${name}`, {
        metric: fn.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES }),
        threshold: 0,
        description: `The ${name} function was throttled.`,
      });
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(6),
      widgets: [
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })],
        ...props.providers.map((provider) => providerRow(provider)),
        [
          new cloudwatch.GraphWidget({
            title: 'API requests and 5xx',
            left: [
              props.api.metricCount({ statistic: 'Sum', period: FIVE_MINUTES }),
              props.api.metricServerError({ statistic: 'Sum', period: FIVE_MINUTES }),
              props.api.metricClientError({ statistic: 'Sum', period: FIVE_MINUTES }),
            ],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Delivery: stream publisher behind (ms), handler queue age (s)',
            left: [iteratorAge],
            right: [props.handlerQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum' })],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Dead-letter queues',
            left: Object.entries(props.deadLetterQueues).map(([queueName, dlq]) =>
              dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: queueName }),
            ),
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Event handler',
            left: [METRIC.handled, METRIC.staleIgnored, METRIC.alertsSent].map((name) =>
              serviceMetric(name, SERVICE.eventHandler, 'Sum', FIVE_MINUTES),
            ),
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Stream publisher',
            left: [METRIC.streamPublished, METRIC.publishFailed].map((name) =>
              serviceMetric(name, SERVICE.streamPublisher, 'Sum', FIVE_MINUTES),
            ),
            width: 12,
          }),
        ],
      ],
    });
  }

  /**
   * Deliveries that fail without a 5xx: every delivery of a provider answered 401 because its key is
   * wrong or missing (a rotation mistake, a secret never filled), and most of a provider's deliveries
   * quarantined (a schema change on their side).
   */
  private providerDeliveryAlarms(provider: string, config: MonitoringProps['deliveryAlarms']) {
    const window = Duration.minutes(config.windowMinutes);
    const accepted = ingestMetric(METRIC.accepted, provider, 'Sum', window);
    const keyRejections = Object.fromEntries(
      KEY_REJECTION_REASONS.map((reason, i) => [
        `rejected${i}`,
        new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: METRIC.rejected,
          dimensionsMap: { provider, reason },
          statistic: 'Sum',
          period: window,
        }),
      ]),
    );
    const rejectedSum = Object.keys(keyRejections)
      .map((id) => `FILL(${id}, 0)`)
      .join(' + ');
    this.alarm(`KeyRejected-${provider}`, {
      metric: new cloudwatch.MathExpression({
        expression: `IF((${rejectedSum}) >= ${config.keyRejectionCount} AND FILL(accepted, 0) == 0, 1, 0)`,
        usingMetrics: { ...keyRejections, accepted },
        label: `${provider}: rejected for its key, none accepted`,
        period: window,
      }),
      threshold: 0,
      description:
        `${provider}: ${config.keyRejectionCount} or more deliveries answered 401 ${KEY_REJECTION_REASONS.join(' / ')} ` +
        `and none accepted in ${config.windowMinutes} minutes: its key is wrong or missing ` +
        '(npm run ops -- keys list; README "Rotate keys").',
    });
    const quarantined = ingestMetric(METRIC.quarantined, provider, 'Sum', window);
    this.alarm(`QuarantineRate-${provider}`, {
      metric: new cloudwatch.MathExpression({
        expression:
          'IF(FILL(quarantined, 0) + FILL(accepted, 0) > 0, ' +
          '100 * FILL(quarantined, 0) / (FILL(quarantined, 0) + FILL(accepted, 0)), 0)',
        usingMetrics: { quarantined, accepted },
        label: `${provider}: quarantined %`,
        period: window,
      }),
      threshold: config.quarantineRatePercent,
      description:
        `${provider}: over ${config.quarantineRatePercent}% of authentic deliveries quarantined in ` +
        `${config.windowMinutes} minutes: their payloads changed (npm run ops -- quarantine list).`,
    });
  }

  private alarm(id: string, props: { metric: cloudwatch.IMetric; threshold: number; description: string }) {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric: props.metric,
      threshold: props.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: props.description,
    });
    alarm.addAlarmAction(this.notify);
    alarm.addOkAction(this.notify);
    this.alarms.push(alarm);
  }
}

function ingestMetric(name: MetricName, provider: string, statistic: string, period = FIVE_MINUTES) {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { provider },
    statistic,
    period,
  });
}

function serviceMetric(name: MetricName, service: string, statistic: string, period: Duration) {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service },
    statistic,
    period,
  });
}

/** One dashboard row per provider: what happened to its deliveries, and how fast. */
function providerRow(provider: string): cloudwatch.IWidget[] {
  const outcomes = [
    METRIC.accepted,
    METRIC.duplicate,
    METRIC.conflict,
    METRIC.quarantined,
    METRIC.rejected,
  ] as const;
  return [
    new cloudwatch.GraphWidget({
      title: `${provider}: deliveries`,
      left: outcomes.map((name) => ingestMetric(name, provider, 'Sum')),
      width: 16,
    }),
    new cloudwatch.GraphWidget({
      title: `${provider}: ingest latency (ms)`,
      left: ['p50', 'p99'].map((statistic) =>
        ingestMetric(METRIC.ingestLatency, provider, statistic).with({ label: statistic }),
      ),
      width: 8,
    }),
  ];
}
