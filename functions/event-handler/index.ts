import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context, ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AlertWindows } from '../../shared/alertWindows.ts';
import { DEFAULT_ALERT_WINDOW_MINUTES, DEFAULT_RETENTION_DAYS, ENV } from '../../shared/config.ts';
import { EntityStateStore } from '../../shared/entityState.ts';
import { EventStore } from '../../shared/eventStore.ts';
import { CLIENT_CONFIG, numberEnv, requiredEnv } from '../awsConfig.ts';
import { makeEventHandler } from './eventHandler.ts';

const dynamodb = new DynamoDBClient(CLIENT_CONFIG);
const table = requiredEnv(ENV.table);
const retentionSeconds = numberEnv(ENV.retentionDays, DEFAULT_RETENTION_DAYS) * 24 * 3600;
const store = new EventStore(dynamodb, table);

const handleEvents = makeEventHandler({
  states: new EntityStateStore(store, retentionSeconds),
  store,
  sns: new SNSClient(CLIENT_CONFIG),
  alertsTopicArn: requiredEnv(ENV.alertsTopicArn),
  alertWindows: new AlertWindows(
    dynamodb,
    table,
    numberEnv(ENV.alertWindowMinutes, DEFAULT_ALERT_WINDOW_MINUTES) * 60_000,
    retentionSeconds,
  ),
});

/**
 * The default consumer Lambda of the handler queue (SQS FIFO, partial batch responses); invoked by
 * the schedule instead, it sends the closing alerts of ended alert windows.
 */
export function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse>;
export function handler(event: ScheduledEvent, context: Context): Promise<{ sent: number; failed: number }>;
export async function handler(
  event: SQSEvent | ScheduledEvent,
  context: Context,
): Promise<SQSBatchResponse | { sent: number; failed: number }> {
  if ('Records' in event) return handleEvents(event, context);
  return handleEvents.flushAlerts();
}
