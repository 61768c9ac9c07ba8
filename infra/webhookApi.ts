import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ENV } from '../shared/config.ts';
import type { CustomDomain, ProviderDeploySettings } from './config.ts';
import { FUNCTION_SIZING } from './functionSizing.ts';
import { WebhookFunction } from './webhookFunction.ts';

/**
 * What the ingest path does to the table: one conditional put of a new event (or a quarantine record);
 * never a read, an update or an index. test/runtime/eventStore.test.ts checks the code keeps to this.
 */
export const INGEST_TABLE_ACTIONS = ['dynamodb:PutItem'] as const;

export interface WebhookApiProps {
  /** The API's name, distinct per stage so the console and CLI tell them apart. */
  apiName: string;
  /** Webhook URLs on this domain instead of the API's generated one (survives a replaced API). */
  customDomain?: CustomDomain;
  providers: readonly string[];
  providerSettings: Record<string, ProviderDeploySettings>;
  /** Event items the earlier release also reads (see `IntakeConfig.compatibleEventItems`). */
  compatibleEventItems?: boolean;
  secretOf: (provider: string) => secretsmanager.ISecret;
  table: dynamodb.ITable;
  topic: sns.ITopic;
  throttle: { rateLimit: number; burstLimit: number };
  logRetention: logs.RetentionDays;
  logRemovalPolicy?: RemovalPolicy;
  /** Code instead of the bundled entry (tests). */
  code?: lambda.Code;
}

/**
 * Access log line: who called which route, the answer and the timings. Never the body, and no
 * header at all (signature and authorization headers included): `$context` variables only.
 */
const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  time: '$context.requestTime',
  method: '$context.httpMethod',
  route: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationStatus: '$context.integration.status',
  integrationError: '$context.integration.error',
  error: '$context.error.message',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
};

/**
 * The HTTP API providers call, `ANY /webhooks/<provider>`, one ingest function per provider (same code,
 * the provider chosen by its environment). ANY, so the function itself answers 405 to anything but
 * POST, with the body the design specifies.
 */
export class WebhookApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** Ingest function by provider name. */
  readonly ingest: Record<string, WebhookFunction> = {};
  /** The custom domain, when configured: the URLs are on it. */
  readonly domain: apigwv2.DomainName | undefined;
  private readonly domainName: string | undefined;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: props.apiName,
      description: 'Webhook intake: POST /webhooks/<provider>',
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      ...(props.logRemovalPolicy ? { removalPolicy: props.logRemovalPolicy } : {}),
    });
    this.stage = this.api.addStage('Stage', {
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
      },
    });

    for (const provider of props.providers) {
      const secret = props.secretOf(provider);
      const settings = props.providerSettings[provider] ?? {};
      const ingest = new WebhookFunction(this, `Ingest-${provider}`, {
        entry: 'ingest',
        description: `Webhook intake for ${provider}: verify, store, publish`,
        memorySize: FUNCTION_SIZING.ingest.memoryMb,
        timeout: Duration.seconds(FUNCTION_SIZING.ingest.timeoutSeconds),
        environment: {
          [ENV.provider]: provider,
          [ENV.table]: props.table.tableName,
          [ENV.topicArn]: props.topic.topicArn,
          [ENV.secretId]: secret.secretArn,
          ...(settings.signatureHeader ? { [ENV.signatureHeader]: settings.signatureHeader } : {}),
          ...(settings.toleranceSeconds ? { [ENV.toleranceSeconds]: String(settings.toleranceSeconds) } : {}),
          ...(settings.retentionDays ? { [ENV.retentionDays]: String(settings.retentionDays) } : {}),
          ...(props.compatibleEventItems ? { [ENV.eventItems]: 'compatible' } : {}),
        },
        logRetention: props.logRetention,
        ...(props.logRemovalPolicy ? { logRemovalPolicy: props.logRemovalPolicy } : {}),
        ...(settings.reservedConcurrency === undefined
          ? {}
          : { reservedConcurrentExecutions: settings.reservedConcurrency }),
        ...(props.code ? { code: props.code } : {}),
      });
      ingest.allow([...INGEST_TABLE_ACTIONS], [props.table.tableArn]);
      ingest.allow(['sns:Publish'], [props.topic.topicArn]);
      // Its own provider's keys only.
      ingest.allow(['secretsmanager:GetSecretValue'], [secret.secretArn]);
      this.ingest[provider] = ingest;

      const [route] = this.api.addRoutes({
        path: `/webhooks/${provider}`,
        methods: [apigwv2.HttpMethod.ANY],
        integration: new HttpLambdaIntegration(`Ingest-${provider}`, ingest.function),
      });
      if (route) {
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'Providers cannot send IAM, JWT or Lambda-authorizer credentials; every delivery is ' +
            "authenticated by the provider's signature (HMAC or Ed25519) over the raw body and a " +
            'timestamp window, checked by the ingest function before anything is parsed or stored.',
        });
      }
    }
    if (props.customDomain) {
      this.domain = this.addCustomDomain(props.customDomain);
      this.domainName = props.customDomain.domainName;
    }
  }

  /**
   * The domain, its certificate (imported, or created and DNS-validated in the hosted zone) and the
   * mapping to the stage; with a hosted zone, also the alias record.
   */
  private addCustomDomain(config: CustomDomain): apigwv2.DomainName {
    const zone =
      config.hostedZoneId && config.hostedZoneName
        ? route53.PublicHostedZone.fromHostedZoneAttributes(this, 'Zone', {
            hostedZoneId: config.hostedZoneId,
            zoneName: config.hostedZoneName,
          })
        : undefined;
    const certificate = config.certificateArn
      ? acm.Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn)
      : new acm.Certificate(this, 'Certificate', {
          domainName: config.domainName,
          validation: acm.CertificateValidation.fromDns(zone),
        });
    const domain = new apigwv2.DomainName(this, 'Domain', {
      domainName: config.domainName,
      certificate,
      securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
    });
    new apigwv2.ApiMapping(this, 'Mapping', { api: this.api, domainName: domain, stage: this.stage });
    if (zone) {
      new route53.ARecord(this, 'Alias', {
        zone,
        recordName: config.domainName,
        target: route53.RecordTarget.fromAlias(
          new route53Targets.ApiGatewayv2DomainProperties(
            domain.regionalDomainName,
            domain.regionalHostedZoneId,
          ),
        ),
      });
    }
    return domain;
  }

  /** The URL to register in a provider's dashboard: on the custom domain when there is one. */
  urlOf(provider: string): string {
    if (this.domainName) return `https://${this.domainName}/webhooks/${provider}`;
    return `${this.stage.url}webhooks/${provider}`;
  }
}
