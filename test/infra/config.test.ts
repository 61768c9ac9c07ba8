import { App } from 'aws-cdk-lib';
import { DEFAULTS, readConfig } from '../../infra/config.ts';

const configFrom = (context: Record<string, unknown>) => readConfig(new App({ context }).node);

describe('deployment configuration from CDK context', () => {
  it('defaults to dev with sane throttling and no subscribers', () => {
    expect(configFrom({})).toMatchObject({
      stage: 'dev',
      throttleRateLimit: DEFAULTS.throttleRateLimit,
      throttleBurstLimit: DEFAULTS.throttleBurstLimit,
      subscribers: [],
      providerSettings: {},
    });
  });

  it('reads `-c key=value` strings as the JSON and numbers they stand for', () => {
    const config = configFrom({
      stage: 'prod',
      throttleBurstLimit: '50',
      subscribers: '[{"name":"wallet","filterPolicy":{"type":["apara.order.completed"]}}]',
      providerSettings: '{"apara":{"signatureHeader":"x-our-signature","retentionDays":"45"}}',
    });
    expect(config).toMatchObject({
      stage: 'prod',
      throttleBurstLimit: 50,
      subscribers: [{ name: 'wallet', filterPolicy: { type: ['apara.order.completed'] } }],
      providerSettings: { apara: { signatureHeader: 'x-our-signature', retentionDays: 45 } },
    });
  });

  it.each([
    [{ stage: 'production' }, /"stage" must be one of dev, prod/],
    [{ throttleRateLimit: 'fast' }, /"throttleRateLimit" must be a positive number/],
    [{ subscribers: '{"name":"x"}' }, /"subscribers" must be a JSON array/],
    [{ subscribers: [{ name: 'bad name' }] }, /subscribers\[0\]\.name must be/],
    [{ subscribers: [{ name: 'a' }, { name: 'a' }] }, /"a" is used twice/],
    [
      { subscribers: [{ name: 'a', filterPolicy: { amount: ['1'] } }] },
      /filter on one of provider, type, outcome/,
    ],
    [{ subscribers: [{ name: 'a', filterPolicy: { provider: [] } }] }, /non-empty array of strings/],
    [{ subscribers: [{ name: 'a', consumerAccountId: '12345' }] }, /12-digit AWS account id/],
    [{ subscribers: [{ name: 'a', queue: 'x' }] }, /unknown keys: queue/],
    [{ providerSettings: { stripe: {} } }, /unknown provider/],
    [{ compatibleEventItems: 'yes' }, /"compatibleEventItems" must be true or false/],
  ])('refuses %j with a message that says what to fix', (context, message) => {
    expect(() => configFrom(context)).toThrow(message);
  });
});

describe('day-two configuration', () => {
  it('reads alarm thresholds, the alert window, reserved concurrency and a custom domain', () => {
    const config = configFrom({
      alarmWindowMinutes: '30',
      keyRejectionAlarmCount: 4,
      quarantineRateAlarmPercent: '25',
      alertWindowMinutes: '10',
      providerSettings: '{"apara":{"reservedConcurrency":"5"}}',
      customDomain:
        '{"domainName":"hooks.example.com","certificateArn":"arn:aws:acm:eu-west-1:123456789012:certificate/abc-123"}',
    });
    expect(config).toMatchObject({
      alarmWindowMinutes: 30,
      keyRejectionAlarmCount: 4,
      quarantineRateAlarmPercent: 25,
      alertWindowMinutes: 10,
      providerSettings: { apara: { reservedConcurrency: 5 } },
      customDomain: {
        domainName: 'hooks.example.com',
        certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc-123',
      },
    });
    expect(configFrom({})).toMatchObject({
      alarmWindowMinutes: DEFAULTS.alarmWindowMinutes,
      keyRejectionAlarmCount: DEFAULTS.keyRejectionAlarmCount,
      quarantineRateAlarmPercent: DEFAULTS.quarantineRateAlarmPercent,
      alertWindowMinutes: DEFAULTS.alertWindowMinutes,
    });
    expect(configFrom({}).customDomain).toBeUndefined();
  });

  it.each([
    [
      { providerSettings: { apara: { reservedConcurrency: 2.5 } } },
      /reservedConcurrency" must be a whole number/,
    ],
    [{ alarmWindowMinutes: '2000' }, /at most 1440/],
    [{ quarantineRateAlarmPercent: 100 }, /below 100/],
    [{ customDomain: { domainName: 'Hooks Example', certificateArn: 'x' } }, /lower-case DNS name/],
    [{ customDomain: { domainName: 'hooks.example.com' } }, /either certificateArn or hostedZoneId/],
    [
      { customDomain: { domainName: 'hooks.example.com', certificateArn: 'arn:aws:iam::1:x' } },
      /ACM certificate ARN/,
    ],
    [
      { customDomain: { domainName: 'hooks.example.com', hostedZoneId: 'Z1', hostedZoneName: 'other.org' } },
      /the zone domainName is in/,
    ],
  ])('refuses %j', (context, message) => {
    expect(() => configFrom(context)).toThrow(message);
  });
});
