import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { DEFAULT_RETENTION_DAYS, ENV } from '../../shared/config.ts';
import { EventStore } from '../../shared/eventStore.ts';
import { cachedKeySource, parseKeys } from '../../shared/providerKeys.ts';
import { providerNamed } from '../../shared/providers/registry.ts';
import { EventPublisher } from '../../shared/publisher.ts';
import {
  CLIENT_CALL_MAX_MS,
  CLIENT_CONFIG,
  INLINE_PUBLISH_CLIENT_CONFIG,
  INLINE_PUBLISH_MAX_MS,
  numberEnv,
  requiredEnv,
} from '../awsConfig.ts';
import { makeIngestHandler } from './ingestHandler.ts';

const provider = await providerNamed(requiredEnv(ENV.provider));
const secretId = process.env[ENV.secretId];
const secrets = secretId ? new SecretsManagerClient(CLIENT_CONFIG) : undefined;

const keys = cachedKeySource(
  async () => {
    if (secrets && secretId) {
      const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
      return parseKeys(SecretString ?? '');
    }
    return parseKeys(process.env[ENV.keys] ?? '');
  },
  {
    ...(process.env[ENV.signatureHeader] ? { signatureHeader: process.env[ENV.signatureHeader] } : {}),
    ...(process.env[ENV.toleranceSeconds] ? { toleranceSeconds: numberEnv(ENV.toleranceSeconds, 0) } : {}),
  },
);

/** The ingest Lambda: API Gateway HTTP API (payload v2) → verified, stored, published event. */
export const handler = makeIngestHandler({
  provider,
  keys,
  store: new EventStore(new DynamoDBClient(CLIENT_CONFIG), requiredEnv(ENV.table), {
    compatibleItems: process.env[ENV.eventItems] === 'compatible',
  }),
  publisher: new EventPublisher(new SNSClient(INLINE_PUBLISH_CLIENT_CONFIG), requiredEnv(ENV.topicArn)),
  retentionSeconds: numberEnv(ENV.retentionDays, DEFAULT_RETENTION_DAYS) * 24 * 3600,
  // These clients end every call by themselves within these limits.
  callLimits: { storeMs: CLIENT_CALL_MAX_MS, publishMs: INLINE_PUBLISH_MAX_MS },
});
