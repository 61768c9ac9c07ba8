import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand } from '@aws-sdk/client-sns';
import { type LocalEndpoints, lambdaIngestClients } from '../local/awsClients.ts';
import { pollOnce } from '../local/queuePoller.ts';
import { stringifyJson } from '../shared/core/losslessJson.ts';
import { EVENT_TABLE, MESSAGE_ATTRIBUTES } from '../shared/resources.ts';
import { answerOf, benchStack, logTally, rawItem } from './benchStack.ts';
import { medianSample, withEventId } from './samples.ts';
import { median, percentile, round } from './stats.ts';

export interface LatencyResult {
  provider: string;
  sample: string;
  runs: number;
  /** The real ingest handler, in-process: API Gateway event → stored, published. ms. */
  ingest: { p50: number; p99: number; mean: number };
  /** A bare conditional PutItem plus one SNS Publish, same clients, same sizes. ms. */
  floor: { p50: number; p99: number; mean: number };
  ratioP50: number;
  /** CPU time of this process per ingest invocation (handler, SDK serialization, signing, HTTP): ms. */
  ingestCpuMs: number;
  /** CPU time per floor pair, ms. */
  floorCpuMs: number;
  /** The default event handler on the handler queue, per event (batches of up to 10): wall and CPU, ms. */
  handler: {
    events: number;
    batches: number;
    wallMsPerEvent: number;
    cpuMsPerEvent: number;
    wallMsPerBatch: number;
  };
  /** Log bytes the ingest handler wrote per event (log lines and the EMF metrics line). */
  logBytesPerEvent: number;
  /** Log bytes the event handler wrote per event. */
  handlerLogBytesPerEvent: number;
  logLinesPerEvent: number;
}

/**
 * End-to-end latency against the local servers, ingest handler and floor interleaved in one run.
 * The servers run in another process; this process's CPU time is the Lambda's own work.
 */
export async function measureLatency(
  endpoints: LocalEndpoints,
  runs = 400,
  warmup = 60,
): Promise<LatencyResult> {
  // The ingest runs with the clients the Lambda builds (enforced timeouts, one attempt for the inline
  // publish: no abort signal per call); the floor sends through the same two clients.
  const lambda = lambdaIngestClients(endpoints);
  const t = await benchStack(endpoints, { lambdaIngest: lambda });
  const floorResources = await benchStack(endpoints); // same shape: a FIFO topic with two subscribed queues
  const sample = medianSample();

  // The floor writes an item and publishes a message of the sizes the real path writes and publishes:
  // a copy of the probe's stored item under a new key, and its event.
  const probe = withEventId(sample, `probe${process.pid}`);
  const probeAnswer = answerOf(await t.deliver(sample.provider, probe));
  if (probeAnswer.status !== 'accepted') throw new Error(`probe delivery: ${probeAnswer.status}`);
  const probePk = `${sample.provider}#${probeAnswer.id}`;
  const probeItem = await rawItem(t, probePk);
  const stored = await t.stack.store.get(probePk);
  const messageBody = stored?.event ? stringifyJson(stored.event) : '';

  // The same filterable attributes the publisher sets.
  const attributes = Object.fromEntries(
    MESSAGE_ATTRIBUTES.map((name) => [
      name,
      { DataType: 'String', StringValue: String(stored?.event?.[name] ?? '') },
    ]),
  );
  let floorCount = 0;
  const floor = async () => {
    floorCount += 1;
    const pk = `floor#${process.pid}#${floorCount}`;
    await lambda.dynamodb.send(
      new PutItemCommand({
        TableName: floorResources.resources.table,
        Item: { ...probeItem, [EVENT_TABLE.partitionKey]: { S: pk } },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': EVENT_TABLE.partitionKey },
      }),
    );
    await lambda.sns.send(
      new PublishCommand({
        TopicArn: floorResources.resources.topicArn,
        Message: messageBody,
        MessageGroupId: `floor-${floorCount % 64}`,
        MessageDeduplicationId: pk.replace(/#/g, '-'),
        MessageAttributes: attributes,
      }),
    );
  };

  // The request (a new event id, the provider's signature, the API Gateway event) is built before the
  // clock starts: the Lambda is handed a ready event, as the floor is handed its item and message.
  let id = 0;
  const ingest = () => {
    id += 1;
    const invoke = t.request(sample.provider, withEventId(sample, `lat${process.pid}x${id}`));
    return async () => {
      const response = await invoke();
      if (answerOf(response).status !== 'accepted')
        throw new Error(`ingest answered ${response.statusCode} ${response.body}`);
    };
  };

  for (let i = 0; i < warmup; i += 1) {
    await ingest()();
    await floor();
  }
  const ingestMs: number[] = [];
  const floorMs: number[] = [];
  let ingestCpu = 0;
  let floorCpu = 0;
  const logsBefore = { ...logTally };
  for (let i = 0; i < runs; i += 1) {
    // Alternate which goes first, so neither always follows the other's garbage.
    const order = i % 2 ? [ingest, floor] : [floor, ingest];
    for (const fn of order) {
      const run = fn === ingest ? ingest() : floor;
      const cpu = process.cpuUsage();
      const started = performance.now();
      await run();
      const elapsed = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000;
      if (fn === ingest) {
        ingestMs.push(elapsed);
        ingestCpu += cpuMs;
      } else {
        floorMs.push(elapsed);
        floorCpu += cpuMs;
      }
    }
  }
  const logLines = logTally.lines - logsBefore.lines;
  const logBytes = logTally.bytes - logsBefore.bytes;

  // The default handler over what ingest published: batches of up to 10, as the SQS event source sends them.
  let events = 0;
  let batches = 0;
  let handlerCpu = 0;
  const handlerLogsBefore = logTally.bytes;
  const handlerStarted = performance.now();
  for (;;) {
    const cpu = process.cpuUsage();
    const count = await pollOnce(t.clients.sqs, t.resources.handlerQueueUrl, t.stack.eventHandler, 0);
    const used = process.cpuUsage(cpu);
    if (count === 0) break;
    events += count;
    batches += 1;
    handlerCpu += (used.user + used.system) / 1000;
  }
  const handlerWall = performance.now() - handlerStarted;
  const handlerLogBytes = logTally.bytes - handlerLogsBefore;

  const summary = (values: number[]) => ({
    p50: round(percentile(values, 50), 2),
    p99: round(percentile(values, 99), 2),
    mean: round(values.reduce((a, b) => a + b, 0) / values.length, 2),
  });
  return {
    provider: sample.provider,
    sample: sample.name,
    runs,
    ingest: summary(ingestMs),
    floor: summary(floorMs),
    ratioP50: round(median(ingestMs) / median(floorMs), 2),
    ingestCpuMs: round(ingestCpu / runs, 3),
    floorCpuMs: round(floorCpu / runs, 3),
    handler: {
      events,
      batches,
      wallMsPerEvent: round(handlerWall / Math.max(1, events), 3),
      cpuMsPerEvent: round(handlerCpu / Math.max(1, events), 3),
      wallMsPerBatch: round(handlerWall / Math.max(1, batches), 2),
    },
    logBytesPerEvent: round(logBytes / runs, 0),
    logLinesPerEvent: round(logLines / runs, 2),
    handlerLogBytesPerEvent: round(handlerLogBytes / Math.max(1, events), 0),
  };
}
