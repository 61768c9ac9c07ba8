import { SNSClient } from '@aws-sdk/client-sns';
import { ENV } from '../../shared/config.ts';
import { EventPublisher } from '../../shared/publisher.ts';
import { CLIENT_CONFIG, requiredEnv } from '../awsConfig.ts';
import { makeStreamPublisher } from './streamPublisher.ts';

/** The stream publisher Lambda, on the event table's DynamoDB stream: publishes every stored event. */
export const handler = makeStreamPublisher({
  publisher: new EventPublisher(new SNSClient(CLIENT_CONFIG), requiredEnv(ENV.topicArn)),
});
