import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DynamoDBRecord } from 'aws-lambda';
import { bundleLambda } from '../../bench/bundle.ts';
import { apiGatewayEvent } from '../../local/apiGatewayEvent.ts';
import { localClients } from '../../local/awsClients.ts';
import { generateKeys } from '../../local/localKeys.ts';
import { provisionLocal } from '../../local/provision.ts';
import { localContext } from '../../local/queuePoller.ts';
import { startStreamPoller } from '../../local/streamPoller.ts';
import { ENV } from '../../shared/config.ts';
import { signerOf } from '../../shared/providers/signers.ts';
import { bundledIngest } from '../support/bundledIngest.ts';
import { sqsRecord } from '../support/lambdaEvents.ts';
import { sample } from '../support/samples.ts';
import { drain, until, useLocalServers } from '../support/testStack.ts';

const localServers = useLocalServers();

describe('the Lambda entries, wired from their environment as in AWS', () => {
  it('ingest, stream publisher and event handler start from env and serve a delivery end to end', async () => {
    const clients = localClients(localServers().endpoints);
    const resources = await provisionLocal(clients, { suffix: '-entries', subscribers: [{ name: 'audit' }] });
    const keys = generateKeys('coinme');
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: localServers().endpoints.dynamodb,
      AWS_ENDPOINT_URL_SNS: localServers().endpoints.sns,
      AWS_ENDPOINT_URL_SQS: localServers().endpoints.sqs,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      [ENV.provider]: 'coinme',
      [ENV.table]: resources.table,
      [ENV.topicArn]: resources.topicArn,
      [ENV.alertsTopicArn]: resources.alertsTopicArn,
      [ENV.keys]: JSON.stringify({ keys: keys.verifyKeys }),
    });

    const ingest = await import('../../functions/ingest/index.ts');
    const eventHandler = await import('../../functions/event-handler/index.ts');
    const streamPublisher = await import('../../functions/stream-publisher/index.ts');

    const body = sample('coinme', 'order-template-consumed');
    const headers = signerOf('coinme').sign(body, keys.signingKey, new Date());
    const response = await ingest.handler(apiGatewayEvent('coinme', body, headers), localContext('ingest'));
    expect(response.statusCode).toBe(200);

    const messages = await drain(clients.sqs, resources.subscriberQueues.audit?.url ?? '');
    expect(messages).toHaveLength(1);
    const result = await eventHandler.handler(
      {
        Records: [sqsRecord('m1', messages[0] ?? '')],
      },
      localContext('event-handler'),
    );
    expect(result.batchItemFailures).toEqual([]);

    // The stream publisher, fed the table's stream record of the event as Lambda feeds it, publishes
    // the same message again: SNS FIFO collapses it with the inline one.
    const records: DynamoDBRecord[] = [];
    const failures: unknown[] = [];
    const poller = startStreamPoller({
      streams: clients.streams,
      streamArn: resources.streamArn,
      handler: async (event) => {
        const answer = await streamPublisher.handler(event, localContext('stream-publisher'));
        records.push(...event.Records);
        failures.push(...answer.batchItemFailures);
        return answer;
      },
    });
    await until('the stream publisher to publish the stored event', () => records.length === 1, 10_000);
    await poller.stop();
    expect(failures).toEqual([]);
    expect(await drain(clients.sqs, resources.subscriberQueues.audit?.url ?? '')).toHaveLength(0);
  });

  it('the production ingest bundle (ESM, SDK bundled, env-only credentials) serves a delivery', async () => {
    const clients = localClients(localServers().endpoints);
    const resources = await provisionLocal(clients, { suffix: '-bundle', subscribers: [{ name: 'audit' }] });
    const keys = generateKeys('apara');
    const outdir = mkdtempSync(join(tmpdir(), 'ingest-bundle-'));
    const { file } = await bundleLambda('functions/ingest/index.ts', outdir);
    const body = sample('apara', 'order.completed');
    const event = apiGatewayEvent('apara', body, signerOf('apara').sign(body, keys.signingKey, new Date()));

    // Asynchronous: fauxqs answers from this very process, so it must keep its event loop.
    const run = bundledIngest(file, {
      event,
      dynamodb: localServers().endpoints.dynamodb,
      sns: localServers().endpoints.sns,
      table: resources.table,
      topicArn: resources.topicArn,
      verifyKeys: keys.verifyKeys,
    });
    const child = await promisify(execFile)(process.execPath, run.args, { env: run.env });

    const answer = JSON.parse(child.stdout.slice(child.stdout.indexOf('ANSWER ') + 7) || '{}') as {
      statusCode?: number;
    };
    expect(answer.statusCode).toBe(200);
    expect(await drain(clients.sqs, resources.subscriberQueues.audit?.url ?? '')).toHaveLength(1);
  });
});
