import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DEFAULT_RETENTION_DAYS } from './config.ts';
import type { NormalizedEvent } from './contract/eventContract.ts';
import { expiry, packEvent, unpackEvent } from './eventStore.ts';
import { EVENT_TABLE } from './resources.ts';

/** Events order by their own time first, then by when we received them. */
export function orderKey(event: Pick<NormalizedEvent, 'time' | 'receivedat'>): string {
  return `${new Date(event.time).toISOString()}|${new Date(event.receivedat).toISOString()}`;
}

export interface EntityState {
  subject: string;
  provider: string;
  lastEventId: string;
  /** The latest event for the entity: its type and outcome are the entity's current state. */
  event: NormalizedEvent;
}

/**
 * The latest state of each business entity, kept by the default handler in the event table under
 * `state#<provider>#<subject>`. An event older than the one held is ignored, so out-of-order and
 * redelivered events never move an entity backwards.
 */
export class EntityStateStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly retentionSeconds = DEFAULT_RETENTION_DAYS * 24 * 3600,
  ) {}

  /** Applies the event if it is newer than the state held; false when it was older or already applied. */
  async apply(event: NormalizedEvent, now = new Date()): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { [EVENT_TABLE.partitionKey]: { S: stateKey(event.provider, event.subject) } },
          UpdateExpression: 'SET #o = :o, #id = :id, #e = :e, #x = :x',
          ConditionExpression: 'attribute_not_exists(#o) OR #o < :o',
          ExpressionAttributeNames: { '#o': 'o', '#id': 'id', '#e': 'e', '#x': EVENT_TABLE.ttlAttribute },
          ExpressionAttributeValues: {
            ':o': { S: orderKey(event) },
            ':id': { S: event.id },
            ':e': { B: packEvent(event) },
            ':x': expiry(now, this.retentionSeconds),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async get(provider: string, subject: string): Promise<EntityState | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { [EVENT_TABLE.partitionKey]: { S: stateKey(provider, subject) } },
        ConsistentRead: true,
      }),
    );
    const bytes = Item?.e?.B;
    if (!Item || !bytes) return undefined;
    return { subject, provider, lastEventId: Item.id?.S ?? '', event: unpackEvent(bytes) };
  }
}

function stateKey(provider: string, subject: string): string {
  return `state#${provider}#${subject}`;
}
