import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DEFAULTS } from '../../infra/config.ts';
import { ENV } from '../../shared/config.ts';
import { KEY_REJECTION_REASONS, METRIC, METRICS_NAMESPACE } from '../../shared/metrics.ts';
import { PROVIDER_NAMES, pascalName } from '../../shared/providers/registry.ts';
import { synthIntake } from './synthIntake.ts';

type Resource = { Properties: Record<string, unknown> };
type Statement = {
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const resourcesOf = (template: Template, type: string) =>
  template.findResources(type) as Record<string, Resource>;

/**
 * The topics any alarm notifies (alarm, OK and insufficient-data actions) that no topic policy lets
 * CloudWatch publish to, scoped to this account's alarms. Empty means every alarm can reach someone.
 */
function alarmTopicsCloudWatchCannotPublishTo(template: Template): string[] {
  const topicRefs = new Set<string>();
  for (const alarm of Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'))) {
    const {
      AlarmActions = [],
      OKActions = [],
      InsufficientDataActions = [],
    } = alarm.Properties as Record<string, { Ref?: string }[]>;
    for (const action of [...AlarmActions, ...OKActions, ...InsufficientDataActions]) {
      topicRefs.add(action.Ref ?? JSON.stringify(action));
    }
  }
  const policies = Object.values(resourcesOf(template, 'AWS::SNS::TopicPolicy'));
  const allows = (topic: string) =>
    policies.some((policy) => {
      const topics = policy.Properties.Topics as { Ref?: string }[];
      if (!topics.some((t) => t.Ref === topic)) return false;
      const { Statement } = policy.Properties.PolicyDocument as { Statement: Statement[] };
      return Statement.some(
        (s) =>
          s.Effect === 'Allow' &&
          JSON.stringify(s.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }) &&
          [s.Action].flat().includes('sns:Publish') &&
          JSON.stringify(s.Resource) === JSON.stringify({ Ref: topic }) &&
          JSON.stringify(s.Condition?.StringEquals?.['aws:SourceAccount']) ===
            JSON.stringify({ Ref: 'AWS::AccountId' }) &&
          JSON.stringify(s.Condition?.ArnLike?.['aws:SourceArn'] ?? '').includes(':alarm:'),
      );
    });
  return [...topicRefs].filter((topic) => !allows(topic));
}

/** The alarm whose construct id contains `name` (its logical id drops the dashes). */
function alarmNamed(template: Template, name: string): Resource {
  const logicalPart = name.replace(/[^A-Za-z0-9]/g, '');
  const found = Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm')).filter(([id]) =>
    id.startsWith(`Monitoring${logicalPart}`),
  );
  expect(found).toHaveLength(1);
  return (found[0] as [string, Resource])[1];
}

type MetricQuery = {
  Id: string;
  Expression?: string;
  MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: unknown[] }; Period: number };
};

describe('alarms reach the alert topic', () => {
  it('every alarm’s action topic lets CloudWatch publish, for this account’s alarms only', () => {
    const { template } = synthIntake();
    expect(Object.keys(resourcesOf(template, 'AWS::CloudWatch::Alarm')).length).toBeGreaterThan(0);
    expect(alarmTopicsCloudWatchCannotPublishTo(template)).toEqual([]);
  });

  it('catches an alarm on a topic whose policy (enforceSSL) does not admit CloudWatch', () => {
    const { template } = synthIntake({}, (stack) => {
      const topic = new sns.Topic(stack, 'UnreachableTopic', { enforceSSL: true });
      new cloudwatch.Alarm(stack, 'UnreachableAlarm', {
        metric: new cloudwatch.Metric({ namespace: 'X', metricName: 'Y' }),
        threshold: 1,
        evaluationPeriods: 1,
      }).addAlarmAction(new actions.SnsAction(topic));
    });
    expect(alarmTopicsCloudWatchCannotPublishTo(template)).toEqual([
      expect.stringMatching(/^UnreachableTopic/),
    ]);
  });
});

describe('delivery alarms', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = synthIntake());
  });

  it('per provider: 401s for a wrong or missing key with none accepted over the window (metric math)', () => {
    for (const provider of PROVIDER_NAMES) {
      const alarm = alarmNamed(template, `KeyRejected-${provider}`);
      const queries = alarm.Properties.Metrics as MetricQuery[];
      const expression = queries.find((q) => q.Expression)?.Expression ?? '';
      const stats = queries.filter((q) => q.MetricStat);
      const rejected = stats.filter((q) => q.MetricStat?.Metric.MetricName === METRIC.rejected);
      expect(rejected.map((q) => q.MetricStat?.Metric.Dimensions)).toEqual(
        KEY_REJECTION_REASONS.map((reason) => [
          { Name: 'provider', Value: provider },
          { Name: 'reason', Value: reason },
        ]),
      );
      const accepted = stats.find((q) => q.MetricStat?.Metric.MetricName === METRIC.accepted);
      expect(accepted?.MetricStat?.Metric.Dimensions).toEqual([{ Name: 'provider', Value: provider }]);
      for (const q of stats) {
        expect(q.MetricStat?.Metric.Namespace).toBe(METRICS_NAMESPACE);
        expect(q.MetricStat?.Period).toBe(DEFAULTS.alarmWindowMinutes * 60);
      }
      // Fires only with enough key rejections AND nothing accepted.
      for (const q of rejected) expect(expression).toContain(`FILL(${q.Id}, 0)`);
      expect(expression).toContain(`>= ${DEFAULTS.keyRejectionAlarmCount}`);
      expect(expression).toContain(`FILL(${accepted?.Id}, 0) == 0`);
      expect(alarm.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
  });

  it('per provider: the share of authentic deliveries quarantined over the window', () => {
    for (const provider of PROVIDER_NAMES) {
      const alarm = alarmNamed(template, `QuarantineRate-${provider}`);
      const queries = alarm.Properties.Metrics as MetricQuery[];
      const names = queries.flatMap((q) => (q.MetricStat ? [q.MetricStat.Metric.MetricName] : [])).sort();
      expect(names).toEqual([METRIC.accepted, METRIC.quarantined].sort());
      expect(queries.find((q) => q.Expression)?.Expression).toMatch(/100 \* FILL\(quarantined, 0\) \//);
      expect(alarm.Properties).toMatchObject({
        Threshold: DEFAULTS.quarantineRateAlarmPercent,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('takes thresholds and the window from context', () => {
    const { template: tuned } = synthIntake({
      alarmWindowMinutes: '30',
      keyRejectionAlarmCount: '10',
      quarantineRateAlarmPercent: '20',
    });
    const keyAlarm = alarmNamed(tuned, 'KeyRejected-apara');
    const queries = keyAlarm.Properties.Metrics as MetricQuery[];
    expect(queries.find((q) => q.Expression)?.Expression).toContain('>= 10');
    for (const q of queries.filter((q) => q.MetricStat)) expect(q.MetricStat?.Period).toBe(1800);
    expect(alarmNamed(tuned, 'QuarantineRate-apara').Properties.Threshold).toBe(20);
  });
});

describe('limits a fresh account meets', () => {
  const ingestFunctions = (template: Template) =>
    Object.values(resourcesOf(template, 'AWS::Lambda::Function')).filter(
      (fn) => (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables[ENV.provider],
    );

  it('reserves concurrency only for the providers configured, on their own ingest function', () => {
    const { template, findings } = synthIntake({
      providerSettings: JSON.stringify({
        apara: { reservedConcurrency: 5 },
        coinme: { reservedConcurrency: 2 },
      }),
    });
    expect(findings).toEqual([]);
    const reserved = Object.fromEntries(
      ingestFunctions(template).map((fn) => [
        (fn.Properties.Environment as { Variables: Record<string, string> }).Variables[ENV.provider],
        fn.Properties.ReservedConcurrentExecutions,
      ]),
    );
    expect(reserved).toEqual({ apara: 5, coinme: 2, openpoly: undefined, 'gnosis-pay': undefined });
  });

  it('leaves every function in the shared pool by default', () => {
    const { template } = synthIntake();
    for (const fn of Object.values(resourcesOf(template, 'AWS::Lambda::Function'))) {
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  it('names each stage’s API apart', () => {
    const names = ['dev', 'prod'].map((stage) => {
      const { template } = synthIntake({ stage });
      return Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Api')).map((api) => api.Properties.Name);
    });
    expect(names).toEqual([['webhook-intake-dev'], ['webhook-intake-prod']]);
  });
});

describe('a custom domain, so provider URLs survive a replaced API', () => {
  const urls = (template: Template) => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    return PROVIDER_NAMES.map((p) => outputs[`WebhookUrl${pascalName(p)}`]?.Value);
  };

  it('with an ACM certificate: the domain on it, mapped to the stage, URLs on the domain, the DNS target printed', () => {
    const certificateArn =
      'arn:aws:acm:eu-west-1:123456789012:certificate/0f2c3d4e-aaaa-bbbb-cccc-111122223333';
    const { template, findings } = synthIntake({
      customDomain: JSON.stringify({ domainName: 'hooks.example.com', certificateArn }),
    });
    expect(findings).toEqual([]);
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'hooks.example.com',
      DomainNameConfigurations: [
        Match.objectLike({ CertificateArn: certificateArn, SecurityPolicy: 'TLS_1_2' }),
      ],
    });
    const apiId = Object.keys(resourcesOf(template, 'AWS::ApiGatewayV2::Api'))[0];
    template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', {
      ApiId: { Ref: apiId },
      Stage: '$default',
    });
    template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    expect(urls(template)).toEqual(PROVIDER_NAMES.map((p) => `https://hooks.example.com/webhooks/${p}`));
    expect(Object.keys(template.toJSON().Outputs)).toEqual(
      expect.arrayContaining(['CustomDomainTarget', 'CustomDomainZoneId']),
    );
  });

  it('with a hosted zone: a DNS-validated certificate and the alias record are created', () => {
    const { template, findings } = synthIntake({
      customDomain: JSON.stringify({
        domainName: 'hooks.example.com',
        hostedZoneId: 'Z0123456789ABC',
        hostedZoneName: 'example.com',
      }),
    });
    expect(findings).toEqual([]);
    template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'hooks.example.com',
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: 'hooks.example.com', HostedZoneId: 'Z0123456789ABC' }],
    });
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'hooks.example.com.',
      Type: 'A',
      HostedZoneId: 'Z0123456789ABC',
      AliasTarget: Match.objectLike({ DNSName: { 'Fn::GetAtt': [Match.anyValue(), 'RegionalDomainName'] } }),
    });
  });

  it('without one: the URLs stay on the API’s own endpoint and no domain is created', () => {
    const { template } = synthIntake();
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    for (const url of urls(template)) expect(JSON.stringify(url)).toContain('execute-api');
  });
});

describe('operator alert aggregation', () => {
  it('runs the event handler every minute to send closing alerts, with the configured window', () => {
    const { template } = synthIntake({ alertWindowMinutes: '10' });
    const [handlerId] = Object.entries(resourcesOf(template, 'AWS::Lambda::Function'))
      .filter(
        ([, fn]) =>
          (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables[ENV.alertsTopicArn],
      )
      .map(([id]) => id);
    expect(handlerId).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.alertWindowMinutes]: '10' }) },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [handlerId, 'Arn'] } })],
    });
  });
});
