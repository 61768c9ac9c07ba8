import { Aws, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface OperatorAlertsProps {
  /** For the topic; unset keeps the CDK default. The key is always retained (KMS default). */
  removalPolicy?: RemovalPolicy;
}

/**
 * The operator alert topic (standard SNS): the event handler's alerts (action_required and failed
 * outcomes) and every CloudWatch alarm. Operators subscribe their e-mail, chat or paging to it.
 *
 * Encrypted with a customer-managed key because CloudWatch alarms publish to it: the AWS managed SNS
 * key's policy cannot be changed to let CloudWatch use it, so alarms on such a topic fail silently.
 *
 * `enforceSSL` gives the topic its own resource policy, which replaces SNS's default one: without the
 * statement below nothing lets CloudWatch publish, and every alarm fails to notify ("no resource-based
 * policy allows SNS:Publish"). The statement admits CloudWatch alarms of this account and region only.
 */
export class OperatorAlerts extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: OperatorAlertsProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the webhook intake operator alert topic',
      enableKeyRotation: true,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Webhook intake alerts',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    if (props.removalPolicy) this.topic.applyRemovalPolicy(props.removalPolicy);
  }
}
