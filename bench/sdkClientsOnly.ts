/**
 * A reference for the cold-start bench, not a Lambda: only the AWS SDK clients the ingest Lambda
 * constructs, with the same settings. Its import time is the part of a cold start the SDK costs
 * whatever our code does.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { CLIENT_CONFIG } from '../functions/awsConfig.ts';

export const clients = [
  new DynamoDBClient(CLIENT_CONFIG),
  new SNSClient(CLIENT_CONFIG),
  new SecretsManagerClient(CLIENT_CONFIG),
];
