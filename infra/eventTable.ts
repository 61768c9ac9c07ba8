import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { EVENT_TABLE } from '../shared/resources.ts';

export interface EventTableProps {
  /** Refuse `DeleteTable` calls (prod). */
  deletionProtection: boolean;
}

/**
 * The event store (stateful): one on-demand table, point-in-time recovery, TTL, and the sparse
 * `pending` index the sweeper reads. Retained when the stack is deleted, in every stage: acknowledged
 * events live here and nowhere else.
 */
export class EventTable extends Construct {
  readonly table: dynamodb.Table;
  /** ARN of the `pending` index, for the one Query the sweeper makes. */
  readonly pendingIndexArn: string;

  constructor(scope: Construct, id: string, props: EventTableProps) {
    super(scope, id);
    const { partitionKey, ttlAttribute, pendingIndex } = EVENT_TABLE;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ttlAttribute,
      deletionProtection: props.deletionProtection,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Only events whose publish failed carry the index keys: the constant 'waiting' (string: one
    // partition, it only ever holds the few events the sweeper has to publish) and the epoch
    // milliseconds they became due (number), as shared/eventStore.ts writes them.
    this.table.addGlobalSecondaryIndex({
      indexName: pendingIndex.name,
      partitionKey: { name: pendingIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: pendingIndex.sortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    this.pendingIndexArn = `${this.table.tableArn}/index/${pendingIndex.name}`;
  }
}
