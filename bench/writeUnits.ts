import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { LocalEndpoints } from '../local/awsClients.ts';
import { localClients } from '../local/awsClients.ts';
import { pollOnce } from '../local/queuePoller.ts';
import { stringifyJson } from '../shared/core/losslessJson.ts';
import { holdsDeflatedEvent, packEvent } from '../shared/eventStore.ts';
import { PROVIDER_NAMES } from '../shared/providers/registry.ts';
import { answerOf, type BenchStack, benchStack, rawItem } from './benchStack.ts';
import { type CapacityTally, itemSize, meterCapacity, totalWrites } from './capacity.ts';
import { largestSample, medianSample, withChangedPayload, withEventId } from './samples.ts';

/** Capacity of one path, per event. */
export interface PathCapacity extends CapacityTally {
  /** Table + index writes as reported, plus the failed conditional writes' estimated units. */
  writeUnits: number;
  status?: string;
}

export interface WriteUnitsResult {
  provider: string;
  sample: string;
  bodyBytes: number;
  /** The stored event item as DynamoDB sizes it (deflated event), and as it would be with the event as plain JSON. */
  itemBytes: number;
  itemBytesUnpacked: number;
  /** Bytes of the message body published to SNS. */
  messageBytes: number;
  accepted: PathCapacity;
  duplicate: PathCapacity;
  conflict: PathCapacity;
  /** The inline publish failed: still the one put; the stream publisher publishes it and touches no table item. */
  publishFailed: PathCapacity;
  /** The default handler on the accepted event's message (entity state; alert where the outcome asks for one). */
  handler: PathCapacity;
  handlerOutcome: string;
}

export interface WriteUnitsReport {
  samples: WriteUnitsResult[];
}

/**
 * Capacity consumed per path, measured on DynamoDB Local with `ReturnConsumedCapacity: 'INDEXES'`
 * added to every request of the store's own client; the median sample and each provider's largest.
 */
export async function measureWriteUnits(endpoints: LocalEndpoints): Promise<WriteUnitsReport> {
  const clients = localClients(endpoints);
  const meter = meterCapacity(clients.dynamodb);
  const t = await benchStack(endpoints, { clients });
  const failing = await benchStack(endpoints, { clients, ingestSns: failingSns(endpoints) });
  const take = (status?: string): PathCapacity => {
    const tally = meter.take();
    return { ...tally, writeUnits: totalWrites(tally), ...(status ? { status } : {}) };
  };

  const median = medianSample();
  const samples = [median, ...PROVIDER_NAMES.map(largestSample)].filter(
    (s, i, all) => all.findIndex((o) => o.provider === s.provider && o.name === s.name) === i,
  );
  const results: WriteUnitsResult[] = [];
  let n = 0;
  for (const sample of samples) {
    n += 1;
    const body = withEventId(sample, `wu${process.pid}x${n}`);
    meter.take();

    const first = await t.deliver(sample.provider, body);
    const accepted = take(answerOf(first).status);
    const pk = `${sample.provider}#${answerOf(first).id}`;
    const item = await rawItem(t, pk);
    meter.take();

    const handledCount = await pollOnce(t.clients.sqs, t.resources.handlerQueueUrl, t.stack.eventHandler, 1);
    const handler = take(`${handledCount} message(s)`);

    const duplicate = take(answerOf(await t.deliver(sample.provider, body)).status);
    const conflict = take(answerOf(await t.deliver(sample.provider, withChangedPayload(body))).status);
    await drainHandlerQueue(t);
    meter.take();

    const failedBody = withEventId(sample, `wu${process.pid}f${n}`);
    const publishFailed = take(answerOf(await failing.deliver(sample.provider, failedBody)).status);

    const event = (await t.stack.store.get(pk))?.event;
    meter.take();
    const eventJson = event ? stringifyJson(event) : '';
    const itemBytes = itemSize(item);
    results.push({
      provider: sample.provider,
      sample: sample.name,
      bodyBytes: body.length,
      itemBytes,
      // The same item with the event as plain JSON (packEvent is deterministic).
      itemBytesUnpacked:
        event && holdsDeflatedEvent(item)
          ? itemBytes - packEvent(event).length + Buffer.byteLength(eventJson)
          : itemBytes,
      messageBytes: Buffer.byteLength(eventJson),
      accepted,
      duplicate,
      conflict,
      publishFailed,
      handler,
      handlerOutcome: event?.outcome ?? '?',
    });
  }
  return { samples: results };
}

async function drainHandlerQueue(t: BenchStack): Promise<void> {
  while ((await pollOnce(t.clients.sqs, t.resources.handlerQueueUrl, t.stack.eventHandler, 0)) > 0) {
    // keep going until empty
  }
}

/** An SNS client whose publishes fail, as when SNS is unavailable: the stream publisher then publishes. */
function failingSns(endpoints: LocalEndpoints): SNSClient {
  const sns = localClients(endpoints).sns;
  const send = sns.send.bind(sns) as (command: unknown) => Promise<unknown>;
  (sns as { send: unknown }).send = async (command: unknown) => {
    if (command instanceof PublishCommand) throw new Error('bench: SNS unavailable');
    return send(command);
  };
  return sns;
}
