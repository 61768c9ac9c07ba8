import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { EVENT_TABLE } from '../shared/resources.ts';

export interface EventTableProps {
  /** Refuse `DeleteTable` calls (prod). */
  deletionProtection: boolean;
}

/**
 * The event store (stateful): one on-demand table, point-in-time recovery, TTL, and a stream of new
 * images that the stream publisher reads (stored means published). No index: every index write would
 * be paid on every webhook. Retained when the stack is deleted, in every stage: acknowledged events live
 * here and nowhere else.
 */
export class EventTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: EventTableProps) {
    super(scope, id);
    const { partitionKey, ttlAttribute } = EVENT_TABLE;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ttlAttribute,
      stream: dynamodb.StreamViewType[EVENT_TABLE.streamViewType],
      deletionProtection: props.deletionProtection,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
