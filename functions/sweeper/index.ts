import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { ENV } from '../../shared/config.ts';
import { EventStore } from '../../shared/eventStore.ts';
import { EventPublisher } from '../../shared/publisher.ts';
import { CLIENT_CONFIG, requiredEnv } from '../awsConfig.ts';
import { sweep } from './sweep.ts';

const store = new EventStore(new DynamoDBClient(CLIENT_CONFIG), { table: requiredEnv(ENV.table) });
const publisher = new EventPublisher(new SNSClient(CLIENT_CONFIG), requiredEnv(ENV.topicArn));

/** The sweeper Lambda, run on a schedule: publishes stored events whose publish failed. */
export const handler = async () => sweep({ store, publisher });
