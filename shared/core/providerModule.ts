import type * as v from 'valibot';
import type { ContractAmount, NormalizedEvent, Outcome, ProviderName } from '../contract/eventContract.ts';

/** Request headers with lower-cased names (API Gateway HTTP APIs already lower-case them). */
export type Headers = Readonly<Record<string, string | undefined>>;

/** What a deployment configures for one provider. */
export interface ProviderSettings {
  /** Active secrets (HMAC) or public keys (Ed25519). Several at once during a rotation. */
  keys: readonly string[];
  /** Header carrying the signature, where the provider lets the receiver choose (APARA, Coinme). */
  signatureHeader?: string;
  /** Accepted clock skew of a signed timestamp, in seconds (default 300). */
  toleranceSeconds?: number;
}

/** Why a delivery was not accepted as authentic. Each is distinct, so logs and metrics can tell them apart. */
export type AuthFailure =
  | 'no_keys_configured'
  | 'missing_signature'
  | 'malformed_signature'
  | 'unknown_signature_version'
  /** Every signature is of a version no configured key can check (an HMAC secret held, an Ed25519 signature sent). */
  | 'no_key_for_version'
  | 'bad_signature'
  /** A signed delivery id header (Standard Webhooks' `webhook-id`) is absent. */
  | 'missing_id'
  /** That header is not an id (spaces, control characters, too long for a key). */
  | 'malformed_id'
  | 'missing_timestamp'
  | 'malformed_timestamp'
  | 'stale_timestamp'
  /** Signed further ahead of our clock than the tolerance (where a provider tells it from stale). */
  | 'future_timestamp';

export type VerifyResult = { ok: true } | { ok: false; reason: AuthFailure };

/**
 * The provider-specific part of a normalized event; the intake adds id, source, provider, receipt time and
 * `data` (the payload exactly as parsed).
 */
export interface NormalizedParts {
  /** The provider's own event type, e.g. "order.completed"; becomes `<provider>.<eventType>`. */
  eventType: string;
  subject: string;
  /** The provider's event time as RFC 3339, where the payload gives one. */
  time?: string;
  outcome: Outcome;
  amounts: ContractAmount[];
}

export interface NormalizeContext {
  headers: Headers;
  receivedAt: Date;
}

/**
 * One webhook provider: how to authenticate its deliveries, what its events look like, how to tell a
 * retry from a new event, and how to turn an event into the contract. One folder per provider,
 * listed once in `shared/providers/registry.ts`.
 */
export interface ProviderModule<Event = unknown> {
  name: ProviderName;
  /** Authenticity on the raw body bytes, before anything is parsed. */
  verify(rawBody: Buffer, headers: Headers, settings: ProviderSettings, now: Date): VerifyResult;
  /** Every documented event type; loose objects, so fields the provider adds are kept. */
  schema: v.GenericSchema<unknown, Event>;
  /** A check between unsigned headers and the body; returns why they disagree (answered 400). */
  checkHeaders?(event: Event, headers: Headers): string | undefined;
  /** Same key for every retry of one delivery; never the same key for two real events. */
  dedupeKey(event: Event, headers: Headers): string;
  normalize(event: Event, context: NormalizeContext): NormalizedParts;
  /** How long the provider keeps retrying one delivery, in seconds: the dedupe window is never shorter. */
  retrySpanSeconds: number;
}

export type { NormalizedEvent };

/**
 * Signs a delivery exactly as the provider does (its headers, its timestamp format). Used by tests and
 * by the local sample sender, never by the ingest path. Returns the headers to send, lower-cased.
 */
export type SignDelivery = (
  rawBody: Buffer,
  key: string,
  now: Date,
  settings?: Pick<ProviderSettings, 'signatureHeader'>,
) => Record<string, string>;
