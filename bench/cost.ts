/**
 * Dollars per million webhooks from measured figures and AWS's published us-east-1 prices. Every
 * number that is not measured is named here, with where it comes from; docs/COST.md walks through it.
 */
import { FUNCTION_SIZING } from '../infra/functionSizing.ts';

/** us-east-1 list prices (see docs/COST.md for the pages they were checked against). */
export const PRICES = {
  /** API Gateway HTTP API, per request (first 300 M a month), metered in 512 KB increments. */
  apiGatewayHttpRequest: 1.0 / 1e6,
  /** Lambda arm64, per GB-second (first 7.5 G GB-s a month). */
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** DynamoDB on-demand (standard table class), per request unit. */
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  /** DynamoDB standard storage and continuous backups (PITR), per GB-month. */
  dynamoStorageGbMonth: 0.25,
  dynamoPitrGbMonth: 0.2,
  /** DynamoDB counts 100 bytes of overhead per item for storage. */
  dynamoItemOverheadBytes: 100,
  /** SNS FIFO: publish requests (each 64 KB chunk is one), plus payload data published. */
  snsFifoPublish: 0.3 / 1e6,
  snsFifoPayloadGb: 0.017,
  /** SNS FIFO deliveries to SQS: per message and per GB delivered (not confirmed from AWS's page; see COST.md). */
  snsFifoDelivery: 0.01 / 1e6,
  snsFifoDeliveryGb: 0.001,
  /** SNS standard publish (the alert topic). */
  snsStandardPublish: 0.5 / 1e6,
  /** SQS FIFO, per request (each 64 KB chunk of a payload is one request). */
  sqsFifoRequest: 0.5 / 1e6,
  /** CloudWatch Logs ingestion, standard class, per GB. */
  logsIngestGb: 0.5,
} as const;

export type Prices = typeof PRICES;

/** Lambda gives a function M/1,769 of a vCPU at M MB of memory: 1,769 MB buys one full vCPU. */
const MB_PER_VCPU = 1769;

/**
 * Lambda CPU time per local CPU ms at this memory size: a full vCPU at most, scaled by how long a
 * Lambda core takes against the bench machine's (`relativeCore` 0.5: twice as fast).
 */
function cpuFactorAt(memoryMb: number, relativeCore = 1): number {
  return (MB_PER_VCPU / Math.min(MB_PER_VCPU, memoryMb)) * relativeCore;
}

/** What the model assumes where it cannot measure; each is varied in the sensitivity table. */
export interface Assumptions {
  /** Lambda memory of the ingest and handler functions, MB (infra/functionSizing.ts). */
  ingestMemoryMb: number;
  handlerMemoryMb: number;
  /**
   * Lambda CPU time is local CPU time × this factor (`cpuFactorAt`): at M MB a function gets a share
   * of a vCPU, so CPU-bound work takes longer, if a Graviton core is about as fast as the core the
   * bench ran on.
   */
  cpuFactor: number;
  /** In-region round trips the ingest path waits for, ms: PutItem, SNS FIFO Publish. */
  ingestRoundTripsMs: number;
  /**
   * Stored events per stream-publisher invocation: Lambda invokes it per batch of new stream records,
   * so at low traffic every event is an invocation of its own (1, the default); under load up to 100.
   */
  streamRecordsPerInvocation: number;
  /** Billed ms of the stream publisher per event: one SNS publish round trip and a little CPU. */
  streamPublisherMsPerEvent: number;
  /** Log bytes per stream-publisher invocation: its EMF metrics line and Lambda's platform lines. */
  streamLogBytesPerInvocation: number;
  /** Round trips of the handler per event, ms (UpdateItem; plus GetItem, Publish, PutItem on alerts). */
  handlerRoundTripsMs: number;
  /** Share of invocations that are cold starts, and the init time billed for each (ms, at the cpu factor). */
  coldStartShare: number;
  /** Bytes Lambda itself logs per invocation (START, END and REPORT lines). */
  platformLogBytes: number;
  /** Messages per handler invocation (the SQS event source batch). */
  handlerBatchSize: number;
  /** Days an event item is kept (TTL) — it is stored, and backed up, that long. */
  retentionDays: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  ingestMemoryMb: FUNCTION_SIZING.ingest.memoryMb,
  handlerMemoryMb: FUNCTION_SIZING.eventHandler.memoryMb,
  cpuFactor: cpuFactorAt(FUNCTION_SIZING.ingest.memoryMb),
  ingestRoundTripsMs: 5 + 20,
  streamRecordsPerInvocation: 1,
  streamPublisherMsPerEvent: 22,
  streamLogBytesPerInvocation: 250 + 300,
  handlerRoundTripsMs: 5,
  coldStartShare: 0.01,
  platformLogBytes: 300,
  handlerBatchSize: 10,
  retentionDays: 30,
};

/** The measured inputs (from the bench's JSON). */
export interface MeasuredInputs {
  /** CPU ms of one warm ingest invocation in-process (handler + SDK work), this machine. */
  ingestCpuMs: number;
  /** Cold start: import time of the ingest bundle above bare Node, ms, this machine. */
  ingestInitMs: number;
  /** Write and read units per accepted event, ingest side (table + index). */
  ingestWriteUnits: number;
  ingestReadUnits: number;
  /** Stored item bytes (as DynamoDB sizes it). */
  itemBytes: number;
  /** Bytes of the published message (the normalized event). */
  messageBytes: number;
  /** Request body bytes (API Gateway meters 512 KB increments). */
  bodyBytes: number;
  /** Log bytes the ingest handler writes per event. */
  ingestLogBytes: number;
  /** Handler, per event. */
  handlerCpuMs: number;
  handlerWriteUnits: number;
  handlerReadUnits: number;
  /** Alerts published per event by the handler (0 or 1). */
  handlerAlerts: number;
  handlerLogBytes: number;
}

export interface CostLine {
  item: string;
  /** Dollars per million webhooks. */
  perMillion: number;
  basis: string;
}

const chunks64k = (bytes: number) => Math.max(1, Math.ceil(bytes / (64 * 1024)));
const GB = 1024 ** 3;

/** Billed Lambda ms for an invocation: CPU scaled to the memory's CPU share, plus network waits, rounded up to 1 ms. */
export function billedMs(cpuMs: number, roundTripsMs: number, a: Assumptions): number {
  return Math.ceil(cpuMs * a.cpuFactor + roundTripsMs);
}

/** The ingest path: API Gateway request → stored in DynamoDB → published to SNS FIFO (→ SQS), per million. */
export function ingestPathCost(m: MeasuredInputs, a: Assumptions = DEFAULT_ASSUMPTIONS, p: Prices = PRICES) {
  const ms = billedMs(m.ingestCpuMs, a.ingestRoundTripsMs, a);
  const gb = a.ingestMemoryMb / 1024;
  const initMs = Math.ceil(m.ingestInitMs * a.cpuFactor);
  const core: CostLine[] = [
    {
      item: 'API Gateway HTTP API request',
      perMillion: 1e6 * Math.ceil(m.bodyBytes / (512 * 1024)) * p.apiGatewayHttpRequest,
      basis: `${Math.ceil(m.bodyBytes / (512 * 1024))} request unit(s) of 512 KB`,
    },
    { item: 'Lambda ingest request', perMillion: 1e6 * p.lambdaRequest, basis: '1 invocation' },
    {
      item: 'Lambda ingest duration',
      perMillion: 1e6 * gb * (ms / 1000) * p.lambdaArmGbSecond,
      basis: `${ms} ms billed at ${a.ingestMemoryMb} MB = ${m.ingestCpuMs} ms CPU × ${a.cpuFactor.toFixed(2)} + ${a.ingestRoundTripsMs} ms round trips`,
    },
    {
      item: 'Lambda ingest cold starts',
      perMillion: 1e6 * a.coldStartShare * gb * (initMs / 1000) * p.lambdaArmGbSecond,
      basis: `${(a.coldStartShare * 100).toFixed(1)}% cold × ${initMs} ms init (INIT is billed)`,
    },
    {
      item: 'DynamoDB writes (table + index)',
      perMillion: 1e6 * (m.ingestWriteUnits * p.dynamoWriteUnit + m.ingestReadUnits * p.dynamoReadUnit),
      basis: `${m.ingestWriteUnits} WRU${m.ingestReadUnits ? ` + ${m.ingestReadUnits} RRU` : ''} per event`,
    },
    {
      item: 'SNS FIFO publish',
      perMillion:
        1e6 * (chunks64k(m.messageBytes) * p.snsFifoPublish + (m.messageBytes / GB) * p.snsFifoPayloadGb),
      basis: `${chunks64k(m.messageBytes)} request(s) + ${m.messageBytes} B payload`,
    },
    {
      item: 'Stream publisher: the second SNS FIFO publish',
      perMillion:
        1e6 * (chunks64k(m.messageBytes) * p.snsFifoPublish + (m.messageBytes / GB) * p.snsFifoPayloadGb),
      basis: 'the same message again (SNS drops it as a duplicate, but bills the request)',
    },
    {
      item: 'Stream publisher: Lambda requests and duration',
      perMillion:
        1e6 *
        (p.lambdaRequest / a.streamRecordsPerInvocation +
          (FUNCTION_SIZING.streamPublisher.memoryMb / 1024) *
            (a.streamPublisherMsPerEvent / 1000) *
            p.lambdaArmGbSecond),
      basis:
        `${a.streamRecordsPerInvocation} event(s) per invocation, ${a.streamPublisherMsPerEvent} ms per event at ` +
        `${FUNCTION_SIZING.streamPublisher.memoryMb} MB; reading the stream is free for Lambda triggers`,
    },
  ];
  const extras: CostLine[] = [
    {
      item: 'SNS → SQS FIFO delivery, per subscribed queue',
      perMillion:
        1e6 *
        (p.snsFifoDelivery +
          (m.messageBytes / GB) * p.snsFifoDeliveryGb +
          chunks64k(m.messageBytes) * p.sqsFifoRequest),
      basis: 'SNS delivery + the SQS send it makes (see COST.md: unconfirmed)',
    },
    {
      item: 'CloudWatch Logs (ingest)',
      perMillion: 1e6 * ((m.ingestLogBytes + a.platformLogBytes) / GB) * p.logsIngestGb,
      basis: `${m.ingestLogBytes} B handler logs + ${a.platformLogBytes} B Lambda platform lines`,
    },
    {
      item: 'CloudWatch Logs (stream publisher)',
      perMillion: 1e6 * (a.streamLogBytesPerInvocation / a.streamRecordsPerInvocation / GB) * p.logsIngestGb,
      basis: `${a.streamLogBytesPerInvocation} B per invocation (metrics line + platform lines)`,
    },
    {
      item: `DynamoDB storage, ${a.retentionDays} days`,
      perMillion:
        1e6 *
        ((m.itemBytes + p.dynamoItemOverheadBytes) / GB) *
        (a.retentionDays / 30) *
        p.dynamoStorageGbMonth,
      basis: `${m.itemBytes} B item + ${p.dynamoItemOverheadBytes} B overhead, kept ${a.retentionDays} days`,
    },
    {
      item: `DynamoDB PITR, ${a.retentionDays} days`,
      perMillion:
        1e6 * ((m.itemBytes + p.dynamoItemOverheadBytes) / GB) * (a.retentionDays / 30) * p.dynamoPitrGbMonth,
      basis: 'continuous backups of the same bytes',
    },
  ];
  return {
    billedMs: ms,
    initMs,
    core,
    extras,
    coreTotal: total(core),
    fullTotal: total(core) + total(extras),
  };
}

/** The default handler's own cost per event (after the ingest path), per million. */
export function handlerCost(m: MeasuredInputs, a: Assumptions = DEFAULT_ASSUMPTIONS, p: Prices = PRICES) {
  const perEventMs = m.handlerCpuMs * a.cpuFactor + a.handlerRoundTripsMs;
  const gb = a.handlerMemoryMb / 1024;
  const lines: CostLine[] = [
    {
      item: 'SQS FIFO receive + delete (batched)',
      perMillion: 1e6 * ((2 * chunks64k(m.messageBytes)) / a.handlerBatchSize) * p.sqsFifoRequest,
      basis: `1 receive + 1 delete batch per ${a.handlerBatchSize} messages`,
    },
    {
      item: 'Lambda handler requests',
      perMillion: (1e6 / a.handlerBatchSize) * p.lambdaRequest,
      basis: `1 invocation per ${a.handlerBatchSize} events`,
    },
    {
      item: 'Lambda handler duration',
      perMillion: 1e6 * gb * (perEventMs / 1000) * p.lambdaArmGbSecond,
      basis: `${perEventMs.toFixed(1)} ms per event = ${m.handlerCpuMs} ms CPU × ${a.cpuFactor.toFixed(2)} + ${a.handlerRoundTripsMs} ms round trips`,
    },
    {
      item: 'DynamoDB (entity state, alert record)',
      perMillion: 1e6 * (m.handlerWriteUnits * p.dynamoWriteUnit + m.handlerReadUnits * p.dynamoReadUnit),
      basis: `${m.handlerWriteUnits} WRU + ${m.handlerReadUnits} RRU per event`,
    },
    {
      item: 'SNS alert publish',
      perMillion: 1e6 * m.handlerAlerts * p.snsStandardPublish,
      basis: `${m.handlerAlerts} alert(s) per event at most: an event alone in its window (later events of a window share one closing alert)`,
    },
    {
      item: 'CloudWatch Logs (handler)',
      perMillion: 1e6 * ((m.handlerLogBytes + a.platformLogBytes / a.handlerBatchSize) / GB) * p.logsIngestGb,
      basis: `${m.handlerLogBytes} B per event + platform lines per batch`,
    },
  ];
  return { lines, total: total(lines) };
}

/** The ingest path's total under a range of the assumptions that matter most. */
export function sensitivity(m: MeasuredInputs, base: Assumptions = DEFAULT_ASSUMPTIONS) {
  const rows: {
    cpuFactor: number;
    /** CPU time of a Lambda core relative to this machine's: 0.5 is a core twice as fast. */
    relativeCore: number;
    roundTripsMs: number;
    memoryMb: number;
    billedMs: number;
    coreTotal: number;
    fullTotal: number;
  }[] = [];
  for (const memoryMb of [256, 512, 1024]) {
    for (const roundTripsMs of [15, 30, 60]) {
      for (const relativeCore of [0.5, 1, 2]) {
        const cpuFactor = cpuFactorAt(memoryMb, relativeCore);
        const cost = ingestPathCost(m, {
          ...base,
          cpuFactor,
          ingestRoundTripsMs: roundTripsMs,
          ingestMemoryMb: memoryMb,
        });
        rows.push({
          cpuFactor,
          relativeCore,
          roundTripsMs,
          memoryMb,
          billedMs: cost.billedMs,
          coreTotal: cost.coreTotal,
          fullTotal: cost.fullTotal,
        });
      }
    }
  }
  return rows;
}

function total(lines: readonly CostLine[]): number {
  return lines.reduce((s, l) => s + l.perMillion, 0);
}
