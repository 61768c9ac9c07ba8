import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CLIENT_CONFIG, INLINE_PUBLISH_CLIENT_CONFIG } from '../functions/awsConfig.ts';

/** Endpoints of the AWS-compatible servers running on loopback. */
export interface LocalEndpoints {
  dynamodb: string;
  sns: string;
  sqs: string;
}

export interface AwsClients {
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  sns: SNSClient;
  sqs: SQSClient;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Real @aws-sdk clients pointed at the local servers. */
export function localClients(endpoints: LocalEndpoints): AwsClients {
  const base = { region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 2 };
  return {
    dynamodb: new DynamoDBClient({ ...base, endpoint: endpoints.dynamodb }),
    streams: new DynamoDBStreamsClient({ ...base, endpoint: endpoints.dynamodb }),
    sns: new SNSClient({ ...base, endpoint: endpoints.sns }),
    sqs: new SQSClient({ ...base, endpoint: endpoints.sqs }),
  };
}

/**
 * The ingest's clients as the Lambda builds them (`functions/ingest/index.ts`: enforced timeouts, one
 * attempt for the inline publish), pointed at the local servers. The bench measures the ingest with
 * these; tests and `npm start` keep the plain clients (a loaded test machine must not turn a slow local
 * server into a 503).
 */
export function lambdaIngestClients(endpoints: LocalEndpoints): Pick<AwsClients, 'dynamodb' | 'sns'> {
  const base = { region: 'us-east-1', credentials: LOCAL_CREDENTIALS };
  return {
    dynamodb: new DynamoDBClient({ ...base, ...CLIENT_CONFIG, endpoint: endpoints.dynamodb }),
    sns: new SNSClient({ ...base, ...INLINE_PUBLISH_CLIENT_CONFIG, endpoint: endpoints.sns }),
  };
}
