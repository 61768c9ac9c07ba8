import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { ENV } from '../../shared/config.ts';
import { EntityStateStore } from '../../shared/entityState.ts';
import { EventStore } from '../../shared/eventStore.ts';
import { CLIENT_CONFIG, requiredEnv } from '../awsConfig.ts';
import { makeEventHandler } from './eventHandler.ts';

const dynamodb = new DynamoDBClient(CLIENT_CONFIG);
const table = requiredEnv(ENV.table);

/** The default consumer Lambda of the handler queue (SQS FIFO, partial batch responses). */
export const handler = makeEventHandler({
  states: new EntityStateStore(dynamodb, table),
  store: new EventStore(dynamodb, { table, leaseMs: 15_000 }),
  sns: new SNSClient(CLIENT_CONFIG),
  alertsTopicArn: requiredEnv(ENV.alertsTopicArn),
});
