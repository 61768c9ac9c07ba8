/**
 * Memory and timeout of each function, held once: the CDK stack deploys them and the cost model
 * (bench/cost.ts) prices them.
 *
 * The ingest function spends most of an invocation waiting on two round trips (PutItem, Publish); its
 * own CPU is a few ms per webhook. 256 MB (0.14 vCPU) costs half of 512 MB per ms and
 * adds roughly 15–20 ms of CPU time per invocation: cheaper per webhook (docs/COST.md), and far inside
 * the 5–30 s providers wait. Raise it for lower latency: it is one number.
 */
export const FUNCTION_SIZING = {
  ingest: { memoryMb: 256, timeoutSeconds: 10 },
  /** A batch of up to 100 publishes; each one bounded by the SNS client's timeouts. */
  streamPublisher: { memoryMb: 256, timeoutSeconds: 60 },
  /** Six times the timeout fits in the handler queue's visibility timeout, as AWS recommends. */
  eventHandler: { memoryMb: 256, timeoutSeconds: 10 },
} as const;
