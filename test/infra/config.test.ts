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
  ])('refuses %j with a message that says what to fix', (context, message) => {
    expect(() => configFrom(context)).toThrow(message);
  });
});
