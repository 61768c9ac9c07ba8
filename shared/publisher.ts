import { createHash } from 'node:crypto';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { NormalizedEvent } from './contract/eventContract.ts';
import { stringifyJson } from './core/losslessJson.ts';

/** SNS (and SQS) take at most 256 KiB per message, attributes included. */
const MAX_MESSAGE_BYTES = 256 * 1024;
const ATTRIBUTE_ALLOWANCE = 1024;

/** Publishes normalized events to the SNS FIFO events topic. */
export class EventPublisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  /**
   * One message per event: grouped per business entity (ordered per order or user, parallel across
   * them), deduplicated by event id (a second publish of the same event within SNS's 5-minute window
   * is dropped by SNS), with `provider`, `type` and `outcome` attributes for filter policies.
   * An event too large for one message goes by reference: `data` is left out and `dataref` names the
   * stored item, so it is never lost.
   *
   * @param storeKey the event-store key, used as `dataref` when the event is too large
   * @param dedupeSalt changes the deduplication id (operator replays must not be swallowed by SNS)
   * @param abortSignal gives up the publish when signalled (the caller's time budget)
   */
  async publish(
    event: NormalizedEvent,
    storeKey: string,
    dedupeSalt = '',
    abortSignal?: AbortSignal,
  ): Promise<void> {
    let body = stringifyJson(event);
    if (Buffer.byteLength(body) + ATTRIBUTE_ALLOWANCE > MAX_MESSAGE_BYTES) {
      const { data: _omitted, ...rest } = event;
      body = stringifyJson({ ...rest, dataref: storeKey });
    }
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Message: body,
        MessageGroupId: messageGroupId(event),
        MessageDeduplicationId: digest(`${event.source}\n${event.id}\n${dedupeSalt}`),
        MessageAttributes: {
          provider: { DataType: 'String', StringValue: event.provider },
          type: { DataType: 'String', StringValue: event.type },
          outcome: { DataType: 'String', StringValue: event.outcome },
        },
      }),
      abortSignal ? { abortSignal } : {},
    );
  }
}

/** Events of one business entity share a group, so FIFO keeps their order; at most 128 characters. */
export function messageGroupId(event: Pick<NormalizedEvent, 'provider' | 'subject'>): string {
  const group = `${event.provider}:${event.subject}`;
  return /^[\w!-/:-@[-`{-~]{1,128}$/.test(group) ? group : digest(group);
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
