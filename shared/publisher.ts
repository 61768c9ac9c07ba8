import { createHash } from 'node:crypto';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { NormalizedEvent } from './contract/eventContract.ts';
import { stringifyJson } from './core/losslessJson.ts';
import { PAYLOAD_HASH_LENGTH } from './core/payloadHash.ts';
import { conflictOf } from './eventStore.ts';

/** SNS's limit on one message: the body plus every attribute's name, data type and value, in bytes. */
export const MAX_MESSAGE_BYTES = 262_144;

/** One SNS message, exactly as it is published. */
export interface EventMessage {
  Message: string;
  MessageGroupId: string;
  MessageDeduplicationId: string;
  MessageAttributes: Record<string, { DataType: 'String'; StringValue: string }>;
}

/**
 * The message of a stored event, the same for the inline publish at ingest and the stream publisher
 * (same deduplication id and group, so SNS FIFO collapses the pair). An event whose whole message
 * would not fit goes by reference: `data` is left out and `dataref` names the stored item.
 *
 * @param storeKey the event-store key, used as `dataref` when the event is too large
 * @param dedupeSalt changes the deduplication id (operator replays must not be swallowed by SNS)
 */
export function eventMessage(
  event: NormalizedEvent,
  storeKey: string,
  dedupeSalt = '',
  json = stringifyJson(event),
): EventMessage {
  const whole = messageOf(event, json, dedupeSalt);
  if (snsMessageBytes(whole) <= MAX_MESSAGE_BYTES) return whole;
  const { data: _omitted, ...rest } = event;
  return messageOf(event, stringifyJson({ ...rest, dataref: storeKey }), dedupeSalt);
}

/** The size of a message as SNS counts it against its limit: body, and each attribute's name, type and value. */
export function snsMessageBytes(message: Pick<EventMessage, 'Message' | 'MessageAttributes'>): number {
  let bytes = Buffer.byteLength(message.Message);
  for (const [name, value] of Object.entries(message.MessageAttributes)) {
    bytes +=
      Buffer.byteLength(name) + Buffer.byteLength(value.DataType) + Buffer.byteLength(value.StringValue);
  }
  return bytes;
}

/**
 * At most how many bytes a conflict's message takes beyond its event's message of the same form (whole,
 * or by reference): the id gains `~` and 12 characters of the hash, a by-reference `dataref` gains `#` and
 * the hash (each character at most 6 bytes once escaped), and the body gains `,"conflict":true`.
 */
function conflictGrowthBytes(): number {
  return 6 * (1 + 12) + 6 * (1 + PAYLOAD_HASH_LENGTH) + ',"conflict":true'.length;
}

/**
 * Why an event could not be published, or undefined when it can. Checked before the event is stored,
 * so nothing is acknowledged as accepted that no publisher could send: a message that does not fit even
 * by reference (ids, types and subjects are bounded earlier, in `intake`: `core/bounds.ts`). Checks the
 * event as a conflict too (a longer id and key), since the store may keep it as one.
 *
 * @param message the event's own message (`eventMessage(event, storeKey)`), when the caller has it: when
 *   it fits with room for a conflict's growth, the conflict's message fits too (in the same form, or
 *   whole) and is not built.
 */
export function unpublishableReason(
  event: NormalizedEvent,
  storeKey: string,
  message?: EventMessage,
): string | undefined {
  if (message && snsMessageBytes(message) + conflictGrowthBytes() <= MAX_MESSAGE_BYTES) return undefined;
  // A conflict's key and id take its payload hash: sized with one of that length.
  const conflict = conflictOf(storeKey, event, 'A'.repeat(PAYLOAD_HASH_LENGTH));
  const bytes = snsMessageBytes(eventMessage(conflict.event, conflict.pk));
  if (bytes > MAX_MESSAGE_BYTES)
    return `event message of ${bytes} bytes does not fit SNS's ${MAX_MESSAGE_BYTES} even by reference`;
  return undefined;
}

/** Publishes normalized events to the SNS FIFO events topic. */
export class EventPublisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  /**
   * One message per event (see `eventMessage`): grouped per business entity (ordered per order or
   * user, parallel across them), deduplicated by event id (a second publish of the same event within
   * SNS's 5-minute window is dropped by SNS), with `provider`, `type` and `outcome` attributes for
   * filter policies.
   */
  async publish(
    event: NormalizedEvent,
    storeKey: string,
    options: { dedupeSalt?: string; abortSignal?: AbortSignal } = {},
  ): Promise<void> {
    await this.publishMessage(eventMessage(event, storeKey, options.dedupeSalt), options);
  }

  /** Publishes a message `eventMessage` made (ingest makes it once, to size it and to send it). */
  async publishMessage(message: EventMessage, options: { abortSignal?: AbortSignal } = {}): Promise<void> {
    await this.client.send(
      new PublishCommand({ TopicArn: this.topicArn, ...message }),
      options.abortSignal ? { abortSignal: options.abortSignal } : {},
    );
  }
}

function messageOf(event: NormalizedEvent, body: string, dedupeSalt: string): EventMessage {
  return {
    Message: body,
    MessageGroupId: messageGroupId(event),
    MessageDeduplicationId: digest(`${event.source}\n${event.id}\n${dedupeSalt}`),
    MessageAttributes: {
      provider: { DataType: 'String', StringValue: event.provider },
      type: { DataType: 'String', StringValue: event.type },
      outcome: { DataType: 'String', StringValue: event.outcome },
    },
  };
}

/** Events of one business entity share a group, so FIFO keeps their order; at most 128 characters. */
export function messageGroupId(event: Pick<NormalizedEvent, 'provider' | 'subject'>): string {
  const group = `${event.provider}:${event.subject}`;
  return /^[\w!-/:-@[-`{-~]{1,128}$/.test(group) ? group : digest(group);
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
