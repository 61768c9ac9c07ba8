import { App } from 'aws-cdk-lib';
import { ConfigError, readConfig } from '../../infra/config.ts';

describe('a bad CDK context value', () => {
  it('is a ConfigError, which the app prints as one line', () => {
    const app = new App({ context: { stage: 'staging' } });
    expect(() => readConfig(app.node)).toThrow(ConfigError);
    expect(() => readConfig(app.node)).toThrow('context "stage" must be one of dev, prod; got "staging"');
  });
});
