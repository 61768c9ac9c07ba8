/**
 * The fixed monthly cost of one stage, counted from the synthesized template (alarms, the metrics
 * they and the dashboard read, dashboards, secrets, KMS keys), priced with the constants below.
 * `npx tsx scripts/fixed-cost.ts` prints the "Fixed monthly cost per stage" section of docs/COST.md;
 * test/infra/fixedCost.test.ts fails when the page and the stack disagree.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { createIntakeApp } from '../infra/intakeApp.ts';
import { METRICS_NAMESPACE, REJECTION_REASONS } from '../shared/metrics.ts';
import { PROVIDER_NAMES } from '../shared/providers/registry.ts';

/** us-east-1 list prices, read 2026-11-30 (sources in docs/COST.md). */
export const FIXED_PRICES = {
  alarmMetricMonth: 0.1,
  customMetricMonth: 0.3,
  dashboardMonth: 3.0,
  secretMonth: 0.4,
  kmsKeyMonth: 1.0,
} as const;

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

interface MetricStat {
  Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] };
}

const metricKey = (namespace: string, name: string, dimensions: { Name: string; Value: unknown }[] = []) =>
  `${namespace}|${name}|${dimensions.map((d) => `${d.Name}=${JSON.stringify(d.Value)}`).join(',')}`;

/** Every metric an alarm reads: one for a plain alarm, each MetricStat of a metric-math alarm. */
function alarmMetrics(properties: Record<string, unknown>): string[] {
  if (typeof properties.MetricName === 'string') {
    return [
      metricKey(
        String(properties.Namespace),
        properties.MetricName,
        properties.Dimensions as { Name: string; Value: unknown }[],
      ),
    ];
  }
  return ((properties.Metrics ?? []) as { MetricStat?: MetricStat }[]).flatMap((q) =>
    q.MetricStat
      ? [
          metricKey(
            q.MetricStat.Metric.Namespace,
            q.MetricStat.Metric.MetricName,
            q.MetricStat.Metric.Dimensions,
          ),
        ]
      : [],
  );
}

/**
 * Custom metrics (our namespace) the dashboard charts: its body is a JSON string with CloudFormation
 * references; the metric arrays read `[namespace, name, dim, value, …]`.
 */
function dashboardMetrics(body: unknown): string[] {
  const text = JSON.stringify(body).replace(/\\"/g, '"');
  const keys: string[] = [];
  for (const match of text.matchAll(
    new RegExp(`\\["${METRICS_NAMESPACE}","([A-Za-z]+)"((?:,"[^"]*","[^"]*")*)`, 'g'),
  )) {
    const dims = [...(match[2] ?? '').matchAll(/,"([^"]*)","([^"]*)"/g)].map((d) => ({
      Name: d[1] ?? '',
      Value: d[2],
    }));
    keys.push(metricKey(METRICS_NAMESPACE, match[1] ?? '', dims));
  }
  return keys;
}

export interface FixedCost {
  alarms: number;
  alarmMetrics: number;
  dashboards: number;
  secrets: number;
  kmsKeys: number;
  /** Custom metrics the alarms and the dashboard read. */
  chartedCustomMetrics: number;
  /** Of those, metrics a scheduled function emits every run, traffic or not. */
  scheduledCustomMetrics: number;
  /** Custom metrics `Rejected{provider, reason}` can add at most (the bounded reason set). */
  reasonMetricsAtMost: number;
  dollars: { alarms: number; dashboards: number; secrets: number; kmsKeys: number; scheduledMetrics: number };
  fixedTotal: number;
  /** Custom metrics beyond the scheduled ones once traffic flows, at most. */
  trafficMetricsAtMost: number;
  /** Their cost when every one is emitted in every hour of the month. */
  busyMetricsAtMost: number;
}

/** Counts and prices one stage's fixed monthly cost from its template. */
export function fixedMonthlyCost(resources: Resources): FixedCost {
  const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);
  const alarms = ofType('AWS::CloudWatch::Alarm');
  const alarmMetricKeys = alarms.map((a) => alarmMetrics(a.Properties ?? {}));
  const dashboards = ofType('AWS::CloudWatch::Dashboard');
  const custom = new Set(
    [
      ...alarmMetricKeys.flat(),
      ...dashboards.flatMap((d) => dashboardMetrics(d.Properties?.DashboardBody)),
    ].filter((key) => key.startsWith(`${METRICS_NAMESPACE}|`)),
  );
  // Metrics emitted without traffic: none since the sweeper gave way to the stream publisher (the
  // alert flush's schedule emits only when it sends an alert). Kept as a line so a new one shows.
  const scheduled = [...custom].filter((key) => key.includes('schedule='));
  const reasonMetricsAtMost = PROVIDER_NAMES.length * REJECTION_REASONS.length;
  const chartedReasons = [...custom].filter((key) => key.includes('reason=')).length;
  const round = (n: number) => Math.round(n * 100) / 100;
  const trafficMetricsAtMost = custom.size - scheduled.length + reasonMetricsAtMost - chartedReasons;
  const dollars = {
    alarms: round(alarmMetricKeys.flat().length * FIXED_PRICES.alarmMetricMonth),
    dashboards: round(dashboards.length * FIXED_PRICES.dashboardMonth),
    secrets: round(ofType('AWS::SecretsManager::Secret').length * FIXED_PRICES.secretMonth),
    kmsKeys: round(ofType('AWS::KMS::Key').length * FIXED_PRICES.kmsKeyMonth),
    scheduledMetrics: round(scheduled.length * FIXED_PRICES.customMetricMonth),
  };
  return {
    alarms: alarms.length,
    alarmMetrics: alarmMetricKeys.flat().length,
    dashboards: dashboards.length,
    secrets: ofType('AWS::SecretsManager::Secret').length,
    kmsKeys: ofType('AWS::KMS::Key').length,
    chartedCustomMetrics: custom.size,
    scheduledCustomMetrics: scheduled.length,
    reasonMetricsAtMost,
    dollars,
    fixedTotal: round(Object.values(dollars).reduce((a, b) => a + b, 0)),
    trafficMetricsAtMost,
    busyMetricsAtMost: round(trafficMetricsAtMost * FIXED_PRICES.customMetricMonth),
  };
}

/** The stage's template as `cdk synth` makes it (cdk.json flags), with stand-in code (no bundling). */
export function synthesizedResources(stage: 'dev' | 'prod' = 'dev'): Resources {
  const context = (
    JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
      context: Record<string, unknown>;
    }
  ).context;
  const { stack } = createIntakeApp({
    context: { ...context, stage },
    functionCode: lambda.Code.fromInline('exports.handler = async () => ({});'),
  });
  return Template.fromStack(stack).toJSON().Resources as Resources;
}

const usd = (n: number) => `$${n.toFixed(2)}`;

/** The table of docs/COST.md's "Fixed monthly cost per stage", from the counts. */
export function fixedCostTable(cost: FixedCost): string {
  const rows = [
    ['What (counted in the synthesized stack)', 'Count', 'Price', '$ / month'],
    ['---', '---:', '---', '---:'],
    [
      'CloudWatch alarms (metric-math alarms read several metrics)',
      `${cost.alarms} alarms, ${cost.alarmMetrics} alarm metrics`,
      `${usd(FIXED_PRICES.alarmMetricMonth)} per alarm metric`,
      usd(cost.dollars.alarms),
    ],
    [
      'CloudWatch dashboards',
      String(cost.dashboards),
      `${usd(FIXED_PRICES.dashboardMonth)} each`,
      usd(cost.dollars.dashboards),
    ],
    [
      'Secrets Manager secrets (one per provider)',
      String(cost.secrets),
      `${usd(FIXED_PRICES.secretMonth)} each`,
      usd(cost.dollars.secrets),
    ],
    [
      'KMS customer-managed keys (alert topic)',
      String(cost.kmsKeys),
      `${usd(FIXED_PRICES.kmsKeyMonth)} each`,
      usd(cost.dollars.kmsKeys),
    ],
    [
      'Custom metrics a schedule emits every minute, without traffic',
      String(cost.scheduledCustomMetrics),
      `${usd(FIXED_PRICES.customMetricMonth)} each`,
      usd(cost.dollars.scheduledMetrics),
    ],
    ['**Fixed, before the first webhook**', '', '', `**${usd(cost.fixedTotal)}**`],
    [
      'Custom metrics once traffic flows: the other charted ones, plus `Rejected{provider, reason}` (at most ' +
        `${cost.reasonMetricsAtMost}: ${PROVIDER_NAMES.length} providers × ${REJECTION_REASONS.length} reasons)`,
      `≤ ${cost.trafficMetricsAtMost}`,
      `${usd(FIXED_PRICES.customMetricMonth)} each, per hour emitted`,
      `≤ ${usd(cost.busyMetricsAtMost)}`,
    ],
  ];
  return rows.map((row) => `| ${row.join(' | ')} |`).join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${fixedCostTable(fixedMonthlyCost(synthesizedResources()))}\n`);
}
