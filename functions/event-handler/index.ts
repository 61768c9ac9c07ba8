import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DEFAULT_RETENTION_DAYS, ENV } from '../../shared/config.ts';
import { EntityStateStore } from '../../shared/entityState.ts';
import { EventStore } from '../../shared/eventStore.ts';
import { CLIENT_CONFIG, numberEnv, requiredEnv } from '../awsConfig.ts';
import { makeEventHandler } from './eventHandler.ts';

const store = new EventStore(new DynamoDBClient(CLIENT_CONFIG), requiredEnv(ENV.table));

/** The default consumer Lambda of the handler queue (SQS FIFO, partial batch responses). */
export const handler = makeEventHandler({
  states: new EntityStateStore(store, numberEnv(ENV.retentionDays, DEFAULT_RETENTION_DAYS) * 24 * 3600),
  store,
  sns: new SNSClient(CLIENT_CONFIG),
  alertsTopicArn: requiredEnv(ENV.alertsTopicArn),
});
