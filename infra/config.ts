import type { Node } from 'constructs';
import { PROVIDER_NAMES } from '../shared/providers/registry.ts';
import { MESSAGE_ATTRIBUTES, type SubscriberQueue } from '../shared/resources.ts';

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

/** Optional per-provider settings of an ingest function (become its environment). */
export interface ProviderDeploySettings {
  /** Header carrying the signature, where the provider lets the receiver choose it (APARA, Coinme). */
  signatureHeader?: string;
  /** Accepted clock skew of a signed timestamp, seconds. */
  toleranceSeconds?: number;
  /** How long events are kept, and so the dedupe window, in days. */
  retentionDays?: number;
  /**
   * Concurrent executions reserved for (and capping) this provider's ingest function: junk traffic to
   * one URL cannot take the account's concurrency from the others. Unset: the shared pool.
   */
  reservedConcurrency?: number;
}

/**
 * A custom domain for the webhook URLs, so they survive a replaced API. Either an ACM certificate
 * for the name in the stack's region (`certificateArn`; point the DNS at the `CustomDomainTarget`
 * output yourself), or a Route 53 public hosted zone (`hostedZoneId` + `hostedZoneName`): the stack
 * then creates a DNS-validated certificate and the alias record.
 */
export interface CustomDomain {
  domainName: string;
  certificateArn?: string;
  hostedZoneId?: string;
  hostedZoneName?: string;
}

/** Everything a deployment may configure, read from CDK context (`cdk.json` or `-c key=value`). */
export interface IntakeConfig {
  stage: Stage;
  /** Steady-state requests per second the API stage accepts before answering 429. */
  throttleRateLimit: number;
  /** Requests the API stage accepts in a burst. */
  throttleBurstLimit: number;
  /** Queues for other services, each fed by the events topic through its filter policy. */
  subscribers: SubscriberQueue[];
  providerSettings: Record<string, ProviderDeploySettings>;
  /** Alarm when a stored event has waited this long to be published. */
  unpublishedAgeAlarmSeconds: number;
  /** Alarm when the oldest message in the handler queue is this old. */
  handlerQueueAgeAlarmSeconds: number;
  /** Alarm when this percentage of API requests over 5 minutes are answered 5xx. */
  api5xxAlarmPercent: number;
  /** Window of the key-rejection and quarantine-rate alarms, minutes. */
  alarmWindowMinutes: number;
  /** Alarm when a provider had this many deliveries rejected for a wrong or missing key, and none accepted, in the window. */
  keyRejectionAlarmCount: number;
  /** Alarm when this percentage of a provider's authentic deliveries in the window were quarantined. */
  quarantineRateAlarmPercent: number;
  /** Operator alerts are aggregated per provider, event type and outcome over windows of this many minutes. */
  alertWindowMinutes: number;
  customDomain?: CustomDomain;
  /**
   * Event items the release before 2026-11-30 also reads (context `compatibleEventItems: true`), for an
   * update from it that may have to be rolled back; deploy once more without it when the update holds.
   */
  compatibleEventItems: boolean;
}

export const DEFAULTS = {
  stage: 'dev',
  throttleRateLimit: 100,
  throttleBurstLimit: 200,
  unpublishedAgeAlarmSeconds: 300,
  handlerQueueAgeAlarmSeconds: 300,
  api5xxAlarmPercent: 5,
  alarmWindowMinutes: 15,
  keyRejectionAlarmCount: 3,
  quarantineRateAlarmPercent: 50,
  alertWindowMinutes: 5,
} as const;

/** A bad deployment setting (CDK context): its message is all the person deploying needs. */
export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** Reads and checks the deployment configuration; a bad value stops synthesis with a ConfigError. */
export function readConfig(node: Node): IntakeConfig {
  try {
    return readContext(node);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

function readContext(node: Node): IntakeConfig {
  const get = (key: string): unknown => node.tryGetContext(key);
  const stage = get('stage') ?? DEFAULTS.stage;
  if (!STAGES.includes(stage as Stage)) {
    throw new Error(`context "stage" must be one of ${STAGES.join(', ')}; got ${JSON.stringify(stage)}`);
  }
  return {
    stage: stage as Stage,
    throttleRateLimit: positiveNumber(
      'throttleRateLimit',
      get('throttleRateLimit'),
      DEFAULTS.throttleRateLimit,
    ),
    throttleBurstLimit: positiveNumber(
      'throttleBurstLimit',
      get('throttleBurstLimit'),
      DEFAULTS.throttleBurstLimit,
    ),
    subscribers: parseSubscribers(fromJson('subscribers', get('subscribers')) ?? []),
    providerSettings: parseProviderSettings(fromJson('providerSettings', get('providerSettings')) ?? {}),
    unpublishedAgeAlarmSeconds: positiveNumber(
      'unpublishedAgeAlarmSeconds',
      get('unpublishedAgeAlarmSeconds'),
      DEFAULTS.unpublishedAgeAlarmSeconds,
    ),
    handlerQueueAgeAlarmSeconds: positiveNumber(
      'handlerQueueAgeAlarmSeconds',
      get('handlerQueueAgeAlarmSeconds'),
      DEFAULTS.handlerQueueAgeAlarmSeconds,
    ),
    api5xxAlarmPercent: positiveNumber(
      'api5xxAlarmPercent',
      get('api5xxAlarmPercent'),
      DEFAULTS.api5xxAlarmPercent,
    ),
    ...readDayTwoConfig(get),
    compatibleEventItems: flag('compatibleEventItems', get('compatibleEventItems')),
  };
}

/** A yes/no setting: true, false or absent (the CLI's `-c key=true` arrives as text). */
function flag(key: string, value: unknown): boolean {
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new Error(`context "${key}" must be true or false; got ${JSON.stringify(value)}`);
}

/** Alarm windows and thresholds, alert aggregation, the custom domain. */
function readDayTwoConfig(get: (key: string) => unknown) {
  const alarmWindowMinutes = wholeNumber(
    'alarmWindowMinutes',
    get('alarmWindowMinutes'),
    DEFAULTS.alarmWindowMinutes,
  );
  // CloudWatch evaluates one period of at most a day; 1-minute periods need high-resolution pricing.
  if (alarmWindowMinutes > 1440) throw new Error('context "alarmWindowMinutes" must be at most 1440 (a day)');
  const quarantineRateAlarmPercent = positiveNumber(
    'quarantineRateAlarmPercent',
    get('quarantineRateAlarmPercent'),
    DEFAULTS.quarantineRateAlarmPercent,
  );
  if (quarantineRateAlarmPercent >= 100)
    throw new Error('context "quarantineRateAlarmPercent" must be below 100');
  const customDomain = fromJson('customDomain', get('customDomain'));
  return {
    alarmWindowMinutes,
    keyRejectionAlarmCount: wholeNumber(
      'keyRejectionAlarmCount',
      get('keyRejectionAlarmCount'),
      DEFAULTS.keyRejectionAlarmCount,
    ),
    quarantineRateAlarmPercent,
    alertWindowMinutes: wholeNumber(
      'alertWindowMinutes',
      get('alertWindowMinutes'),
      DEFAULTS.alertWindowMinutes,
    ),
    ...(customDomain === undefined ? {} : { customDomain: parseCustomDomain(customDomain) }),
  };
}

function wholeNumber(key: string, value: unknown, fallback: number): number {
  const parsed = positiveNumber(key, value, fallback);
  if (!Number.isInteger(parsed))
    throw new Error(`context "${key}" must be a whole number; got ${JSON.stringify(value)}`);
  return parsed;
}

const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/;

export function parseCustomDomain(value: unknown): CustomDomain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(
      'context "customDomain" must be an object: {"domainName": "...", "certificateArn": "..."}',
    );
  }
  const { domainName, certificateArn, hostedZoneId, hostedZoneName, ...rest } = value as Record<
    string,
    unknown
  >;
  const unknownKeys = Object.keys(rest);
  if (unknownKeys.length > 0) throw new Error(`customDomain has unknown keys: ${unknownKeys.join(', ')}`);
  if (typeof domainName !== 'string' || !DOMAIN_NAME.test(domainName)) {
    throw new Error('customDomain.domainName must be a lower-case DNS name such as hooks.example.com');
  }
  const zone = hostedZoneId !== undefined || hostedZoneName !== undefined;
  if ((certificateArn === undefined) === !zone) {
    throw new Error('customDomain needs either certificateArn or hostedZoneId + hostedZoneName (not both)');
  }
  if (
    certificateArn !== undefined &&
    (typeof certificateArn !== 'string' || !CERTIFICATE_ARN.test(certificateArn))
  ) {
    throw new Error("customDomain.certificateArn must be an ACM certificate ARN (in the stack's region)");
  }
  if (zone) {
    if (typeof hostedZoneId !== 'string' || !/^Z[A-Z0-9]{1,31}$/.test(hostedZoneId)) {
      throw new Error('customDomain.hostedZoneId must be a Route 53 hosted zone id (Z…)');
    }
    if (
      typeof hostedZoneName !== 'string' ||
      !(domainName === hostedZoneName || domainName.endsWith(`.${hostedZoneName}`))
    ) {
      throw new Error('customDomain.hostedZoneName must be the zone domainName is in');
    }
  }
  return {
    domainName,
    ...(typeof certificateArn === 'string' ? { certificateArn } : {}),
    ...(typeof hostedZoneId === 'string' ? { hostedZoneId } : {}),
    ...(typeof hostedZoneName === 'string' ? { hostedZoneName } : {}),
  };
}

/** `-c key=value` on the command line always gives a string; cdk.json gives JSON values. */
function fromJson(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new Error(`context "${key}" must be JSON`, { cause: error });
  }
}

function positiveNumber(key: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = typeof value === 'string' ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new Error(`context "${key}" must be a positive number; got ${JSON.stringify(value)}`);
  }
  return parsed;
}

/** Queue names: `<name>.fifo` and `<name>-dlq.fifo` must stay within SQS's 80 characters. */
const SUBSCRIBER_NAME = /^[A-Za-z0-9-]{1,70}$/;
const ACCOUNT_ID = /^\d{12}$/;

export function parseSubscribers(value: unknown): SubscriberQueue[] {
  if (!Array.isArray(value)) throw new Error('context "subscribers" must be a JSON array');
  const seen = new Set<string>();
  return value.map((entry: unknown, index) => {
    const where = `subscribers[${index}]`;
    if (typeof entry !== 'object' || entry === null) throw new Error(`${where} must be an object`);
    const { name, filterPolicy, consumerAccountId, ...rest } = entry as Record<string, unknown>;
    const unknownKeys = Object.keys(rest);
    if (unknownKeys.length > 0) throw new Error(`${where} has unknown keys: ${unknownKeys.join(', ')}`);
    if (typeof name !== 'string' || !SUBSCRIBER_NAME.test(name)) {
      throw new Error(`${where}.name must be 1-70 letters, digits or dashes`);
    }
    if (seen.has(name)) throw new Error(`${where}.name "${name}" is used twice`);
    seen.add(name);
    if (
      consumerAccountId !== undefined &&
      (typeof consumerAccountId !== 'string' || !ACCOUNT_ID.test(consumerAccountId))
    ) {
      throw new Error(`${where}.consumerAccountId must be a 12-digit AWS account id`);
    }
    return {
      name,
      ...(filterPolicy === undefined
        ? {}
        : { filterPolicy: parseFilterPolicy(`${where}.filterPolicy`, filterPolicy) }),
      ...(consumerAccountId === undefined ? {} : { consumerAccountId }),
    };
  });
}

function parseFilterPolicy(where: string, value: unknown): NonNullable<SubscriberQueue['filterPolicy']> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where} must be an object`);
  }
  const policy: NonNullable<SubscriberQueue['filterPolicy']> = {};
  for (const [attribute, allowed] of Object.entries(value)) {
    const known = MESSAGE_ATTRIBUTES.find((name) => name === attribute);
    if (!known) throw new Error(`${where}.${attribute}: filter on one of ${MESSAGE_ATTRIBUTES.join(', ')}`);
    if (
      !Array.isArray(allowed) ||
      allowed.length === 0 ||
      !allowed.every((item) => typeof item === 'string')
    ) {
      throw new Error(`${where}.${attribute} must be a non-empty array of strings`);
    }
    policy[known] = allowed;
  }
  return policy;
}

function parseProviderSettings(value: unknown): Record<string, ProviderDeploySettings> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('context "providerSettings" must be an object keyed by provider name');
  }
  const settings: Record<string, ProviderDeploySettings> = {};
  for (const [provider, entry] of Object.entries(value)) {
    const where = `providerSettings.${provider}`;
    if (!PROVIDER_NAMES.includes(provider)) {
      throw new Error(`${where}: unknown provider; known: ${PROVIDER_NAMES.join(', ')}`);
    }
    if (typeof entry !== 'object' || entry === null) throw new Error(`${where} must be an object`);
    const { signatureHeader, toleranceSeconds, retentionDays, reservedConcurrency, ...rest } =
      entry as Record<string, unknown>;
    const unknownKeys = Object.keys(rest);
    if (unknownKeys.length > 0) throw new Error(`${where} has unknown keys: ${unknownKeys.join(', ')}`);
    if (signatureHeader !== undefined && (typeof signatureHeader !== 'string' || signatureHeader === '')) {
      throw new Error(`${where}.signatureHeader must be a header name`);
    }
    settings[provider] = {
      ...(signatureHeader === undefined ? {} : { signatureHeader: signatureHeader as string }),
      ...(toleranceSeconds === undefined
        ? {}
        : { toleranceSeconds: positiveNumber(`${where}.toleranceSeconds`, toleranceSeconds, 0) }),
      ...(retentionDays === undefined
        ? {}
        : { retentionDays: positiveNumber(`${where}.retentionDays`, retentionDays, 0) }),
      ...(reservedConcurrency === undefined
        ? {}
        : { reservedConcurrency: wholeNumber(`${where}.reservedConcurrency`, reservedConcurrency, 0) }),
    };
  }
  return settings;
}
