import { spawnSync } from 'node:child_process';
import { intake } from '../shared/core/intake.ts';
import { parsePayload, stringifyJson } from '../shared/core/losslessJson.ts';
import { validatePayload } from '../shared/core/payloadValidation.ts';
import type { ProviderModule, ProviderSettings } from '../shared/core/providerModule.ts';
import { packEvent } from '../shared/eventStore.ts';
import { loadProviders, PROVIDER_NAMES } from '../shared/providers/registry.ts';
import { signerOf } from '../shared/providers/signers.ts';
import { ROOT } from './bundle.ts';
import { benchKeys, largestSample, type Sample, signedHeaders } from './samples.ts';
import { keep, microsPerOp, pairedMicrosPerOp, round } from './stats.ts';

export interface CpuResult {
  provider: string;
  sample: string;
  bodyBytes: number;
  /** `intake()`: verify, lossless parse, validate, dedupe key, normalize. µs per event. */
  intakeMicros: number;
  /** `JSON.parse` plus the provider's signature check alone, over the same bytes. µs per event. */
  floorMicros: number;
  ratio: number;
  /** Where intake's time goes, µs per event. */
  stages: {
    verify: number;
    /** UTF-8 decode, `JSON.parse`, number digits put in (one walk). */
    losslessParse: number;
    jsonParse: number;
    validate: number;
    normalize: number;
  };
  /** `packEvent` (lossless stringify + raw deflate) of the normalized event, µs per event. */
  packMicros: number;
  /** Normalized event as JSON, and deflated, in bytes. */
  eventJsonBytes: number;
  packedBytes: number;
  /** The rest of the ingest handler's own CPU: the publish body (lossless stringify). µs per event. */
  publishStringifyMicros: number;
}

const ITERATIONS = 5000;

/**
 * `measureCpu` for each provider in a Node process of its own, as each provider's ingest function runs
 * it. In one process shared by every provider, `intake()`'s calls into the provider modules see five
 * shapes and V8 compiles them for all five: a cost no ingest function pays (measured 2026-11-30: 10–40 %
 * more per event than apart).
 */
export function measureCpuApart(providers: readonly string[] = PROVIDER_NAMES): CpuResult[] {
  return providers.map((provider) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/cpuProvider.ts', provider], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'warn' },
    });
    if (run.status !== 0) throw new Error(`per-event CPU of ${provider}: exit ${run.status}\n${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as CpuResult;
  });
}

/**
 * Per-event CPU of the pure intake pipeline (no AWS call), warm, per provider on its largest sample,
 * next to a floor that does only what cannot be skipped: parse the JSON and check the signature.
 */
export async function measureCpu(providers: readonly string[] = PROVIDER_NAMES): Promise<CpuResult[]> {
  const modules = await loadProviders();
  const keys = benchKeys();
  return providers.map((provider) =>
    measureProvider(largestSample(provider), modules[provider] as ProviderModule, keys),
  );
}

function measureProvider(
  sample: Sample,
  module: ProviderModule,
  keys: ReturnType<typeof benchKeys>,
): CpuResult {
  const { provider, body } = sample;
  const now = new Date();
  const headers = signedHeaders(provider, body, keys, now);
  const settings: ProviderSettings = { keys: keys[provider]?.verifyKeys ?? [] };

  const first = intake(module, body, headers, settings, now);
  if (first.kind !== 'event') throw new Error(`${provider}/${sample.name}: intake said ${first.kind}`);
  const event = first.event;

  const floor = floorCheck(module, body, headers, settings, now);
  if (!floor()) throw new Error(`${provider}: the floor's signature check failed`);

  // Intake and its floor in alternating rounds: a slow spell of the machine falls on both.
  const [intakeMicros, floorMicros] = pairedMicrosPerOp(
    () => intake(module, body, headers, settings, now),
    floor,
    { iterations: ITERATIONS },
  );

  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const payload = parsePayload(utf8.decode(body));
  const valid = validatePayload(module.schema, payload);
  if (!valid.success) throw new Error(`${provider}/${sample.name}: the sample is not valid`);
  const parsed = valid.output;
  const stages = {
    verify: microsPerOp(() => module.verify(body, headers, settings, now), { iterations: ITERATIONS }),
    losslessParse: microsPerOp(() => parsePayload(utf8.decode(body)), { iterations: ITERATIONS }),
    jsonParse: microsPerOp(() => JSON.parse(body.toString('utf8')), { iterations: ITERATIONS }),
    validate: microsPerOp(() => validatePayload(module.schema, payload), { iterations: ITERATIONS }),
    normalize: microsPerOp(
      () => [module.dedupeKey(parsed, headers), module.normalize(parsed, { headers, receivedAt: now })],
      { iterations: ITERATIONS },
    ),
  };
  const packed = packEvent(event);
  return {
    provider,
    sample: sample.name,
    bodyBytes: body.length,
    intakeMicros: round(intakeMicros, 1),
    floorMicros: round(floorMicros, 1),
    ratio: round(intakeMicros / floorMicros, 2),
    stages: Object.fromEntries(
      Object.entries(stages).map(([k, val]) => [k, round(val, 1)]),
    ) as CpuResult['stages'],
    packMicros: round(
      microsPerOp(() => packEvent(event), { iterations: ITERATIONS }),
      1,
    ),
    eventJsonBytes: Buffer.byteLength(stringifyJson(event)),
    packedBytes: packed.length,
    publishStringifyMicros: round(
      microsPerOp(() => stringifyJson(event), { iterations: ITERATIONS }),
      1,
    ),
  };
}

/**
 * The least work a receiver must do per delivery: check the provider's signature over the same bytes
 * (HMAC-SHA256 and a constant-time compare, or one Ed25519 verify with the key already parsed) and
 * `JSON.parse` the body. The provider's signer supplies it; without one, the provider's own `verify`
 * stands in (it also reads its headers, so that floor is a little higher).
 */
function floorCheck(
  module: ProviderModule,
  body: Buffer,
  headers: Record<string, string>,
  settings: ProviderSettings,
  now: Date,
): () => boolean {
  const floor = signerOf(module.name).signatureFloor;
  if (floor) return floor(body, headers, settings.keys[0] ?? '');
  return () => {
    const ok = module.verify(body, headers, settings, now).ok;
    keep(JSON.parse(body.toString('utf8')));
    return ok;
  };
}
