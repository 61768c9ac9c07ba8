/**
 * The operator's side of a full-table scan: parallel segments, progress with an ETA and the read units
 * spent, the estimated cost asked about before a large scan, and a clean stop on Ctrl-C with what was
 * found so far. The table access itself is one function (`ScanPage`): this module never builds a
 * DynamoDB request, so it serves any table module that can read one page of one segment.
 *
 * A scan reads (and bills) every item of the table; there is no time index on the write path by
 * design (see storedEvents.ts), so these commands are the place to make that cost visible.
 */
import { createInterface } from 'node:readline/promises';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { plural } from '../cli.ts';

export type ScanKey = Record<string, AttributeValue>;

/** One page of one segment: the matching items, where to go on from, and the read units it cost. */
export interface ScanPageResult<T> {
  items: T[];
  lastEvaluatedKey?: ScanKey;
  /** `ConsumedCapacity.CapacityUnits` of the page (ReturnConsumedCapacity TOTAL). */
  consumedRcu: number;
  /** Items read for the page, matching or not (`ScannedCount`): what progress counts. */
  scannedCount?: number;
}

/** Reads one page of segment `segment` of `totalSegments`, from `exclusiveStartKey`; aborts with `signal`. */
export type ScanPage<T> = (
  segment: number,
  totalSegments: number,
  exclusiveStartKey: ScanKey | undefined,
  signal: AbortSignal,
) => Promise<ScanPageResult<T>>;

/** What DescribeTable says (ItemCount and TableSizeBytes, refreshed by AWS about every six hours). */
export interface TableSize {
  itemCount: number;
  sizeBytes: number;
}

/**
 * On-demand price of one million read request units, USD (us-east-1, since November 2024). Other
 * regions cost up to about 1.5 times more; a provisioned table pays by capacity instead.
 */
export const USD_PER_MILLION_READ_UNITS = 0.125;
/** An eventually consistent scan costs half a read unit per 4 KB read. */
const BYTES_PER_HALF_READ_UNIT = 4096;
/** About one segment per GiB of table, as DynamoDB's parallel-scan guidance suggests; at least 4. */
const BYTES_PER_SEGMENT = 1024 ** 3;
const MIN_SEGMENTS = 4;
export const MAX_SEGMENTS = 64;
/** Scans of more items than this are described and asked about first (`--confirm-above`). */
export const DEFAULT_CONFIRM_ABOVE_ITEMS = 1_000_000;
/** Below this many items a scan takes a moment: no progress lines when the output is not a terminal. */
const PROGRESS_LINES_ABOVE_ITEMS = 10_000;

export interface ScanEstimate extends TableSize {
  readUnits: number;
  costUsd: number;
}

/** What scanning the whole table costs, eventually consistent, at the on-demand price. */
export function estimateScan(size: TableSize): ScanEstimate {
  const readUnits = Math.ceil(size.sizeBytes / BYTES_PER_HALF_READ_UNIT) * 0.5;
  return { ...size, readUnits, costUsd: (readUnits / 1_000_000) * USD_PER_MILLION_READ_UNITS };
}

export function defaultSegments(size: TableSize | undefined): number {
  const bySize = size ? Math.ceil(size.sizeBytes / BYTES_PER_SEGMENT) : 0;
  return Math.min(MAX_SEGMENTS, Math.max(MIN_SEGMENTS, bySize));
}

export interface ScanProgress {
  segments: number;
  /** Items read so far (matching or not). */
  scanned: number;
  /** Items that matched so far. */
  found: number;
  readUnits: number;
  /** DescribeTable's item count, when known. */
  estimatedItems?: number;
  elapsedMs: number;
  /** Time left at the rate so far, when the item count is known and not yet passed. */
  etaMs?: number;
}

export interface ScanResult<T> extends ScanProgress {
  items: T[];
  /** False when the scan was stopped (Ctrl-C) before every segment was read: `items` is partial. */
  complete: boolean;
}

/**
 * Reads every segment to its end, `segments` at a time, each page after the previous one of its
 * segment. Stops early, keeping what was found, when `signal` aborts; a failing page stops the other
 * segments and its error is thrown.
 */
export async function parallelScan<T>(
  page: ScanPage<T>,
  options: {
    segments: number;
    signal?: AbortSignal;
    estimatedItems?: number;
    onProgress?: (progress: ScanProgress) => void;
    now?: () => number;
  },
): Promise<ScanResult<T>> {
  const now = options.now ?? Date.now;
  const started = now();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) stop.abort();
  const found: T[][] = Array.from({ length: options.segments }, () => []);
  let scanned = 0;
  let readUnits = 0;
  let matched = 0;
  let failure: { error: unknown } | undefined;

  const progress = (): ScanProgress => {
    const elapsedMs = now() - started;
    const estimated = options.estimatedItems;
    const etaMs =
      estimated !== undefined && scanned > 0 && scanned < estimated
        ? ((estimated - scanned) * elapsedMs) / scanned
        : undefined;
    return {
      segments: options.segments,
      scanned,
      found: matched,
      readUnits,
      ...(estimated !== undefined ? { estimatedItems: estimated } : {}),
      elapsedMs,
      ...(etaMs !== undefined ? { etaMs } : {}),
    };
  };

  const readSegment = async (segment: number) => {
    let start: ScanKey | undefined;
    do {
      if (stop.signal.aborted) return;
      let result: ScanPageResult<T>;
      try {
        result = await page(segment, options.segments, start, stop.signal);
      } catch (error) {
        if (stop.signal.aborted) return; // the request was cut by the stop itself
        failure ??= { error };
        stop.abort();
        return;
      }
      found[segment]?.push(...result.items);
      matched += result.items.length;
      scanned += result.scannedCount ?? result.items.length;
      readUnits += result.consumedRcu;
      start = result.lastEvaluatedKey;
      options.onProgress?.(progress());
    } while (start);
  };

  try {
    await Promise.all(Array.from({ length: options.segments }, (_, segment) => readSegment(segment)));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure.error;
  return { ...progress(), items: found.flat(), complete: !stop.signal.aborted };
}

/** Raised when a command that cannot act on a partial result (replay, re-ingest --all) was stopped. */
export class ScanStoppedError extends Error {
  constructor(readonly progress: ScanProgress) {
    super(`stopped during the scan, after ${describeCount(progress)}: nothing was done`);
    this.name = 'ScanStoppedError';
  }
}

/** Raised when a large scan was not confirmed. */
export class ScanNotConfirmedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScanNotConfirmedError';
  }
}

export interface ScanSettings {
  /** Segments to read in parallel; default from the table size. */
  segments?: number;
  /** Ask before scanning a table with more items than this. */
  confirmAbove?: number;
  /** Skip the question (required when stdin is not a terminal). */
  yes?: boolean;
  /** Show progress, the estimate and the summary on `stream` (the CLI: stderr). */
  stream?: NodeJS.WriteStream;
  /** Whether stdin can answer a question. */
  interactive?: boolean;
}

/**
 * The scans of one operator command: settings from its flags, and whether one of them was stopped.
 * The CLI installs one per command (`useScanSession`); without one (tests, other code), scans run
 * in parallel with no question, no progress and no signal handling.
 */
export class ScanSession {
  stopped: ScanProgress | undefined;
  /** What to do when a scan is stopped: keep the partial result, or throw ScanStoppedError. */
  onStop: 'keep' | 'throw' = 'keep';

  constructor(private readonly settings: ScanSettings = {}) {}

  async run<T>(
    table: { label: string; describe: () => Promise<TableSize> },
    page: ScanPage<T>,
  ): Promise<T[]> {
    const { stream } = this.settings;
    const size = stream ? await table.describe().catch(() => undefined) : undefined;
    const segments = this.settings.segments ?? defaultSegments(size);
    const estimate = size ? estimateScan(size) : undefined;
    if (
      stream &&
      estimate &&
      estimate.itemCount > (this.settings.confirmAbove ?? DEFAULT_CONFIRM_ABOVE_ITEMS)
    ) {
      stream.write(`${describeEstimate(table.label, estimate, segments)}\n`);
      await this.confirm(estimate);
    }
    if (!stream) return (await parallelScan(page, { segments })).items;

    const stop = new AbortController();
    const onSigint = () => {
      if (stop.signal.aborted) process.exit(130); // a second Ctrl-C: now
      stop.abort();
    };
    process.on('SIGINT', onSigint);
    const reporter = progressReporter(stream, estimate?.itemCount);
    try {
      const result = await parallelScan(page, {
        segments,
        signal: stop.signal,
        ...(estimate ? { estimatedItems: estimate.itemCount } : {}),
        onProgress: reporter.update,
      });
      reporter.done(result);
      if (!result.complete) {
        this.stopped = result;
        if (this.onStop === 'throw') throw new ScanStoppedError(result);
      }
      return result.items;
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  }

  private async confirm(estimate: ScanEstimate): Promise<void> {
    if (this.settings.yes) return;
    const limit = (this.settings.confirmAbove ?? DEFAULT_CONFIRM_ABOVE_ITEMS).toLocaleString('en-US');
    if (!this.settings.interactive) {
      throw new ScanNotConfirmedError(
        `this scan reads ~${plural(estimate.itemCount, 'item')} (more than ${limit}): run it again with --yes to go ahead`,
      );
    }
    const prompt = createInterface({ input: process.stdin, output: this.settings.stream ?? process.stderr });
    // Ctrl-C at the question is a no, not a paused prompt.
    const cancel = new AbortController();
    prompt.on('SIGINT', () => cancel.abort());
    try {
      const answer = await prompt
        .question('Scan the whole table? [y/N] ', { signal: cancel.signal })
        .catch(() => 'no');
      if (!/^y(es)?$/i.test(answer.trim()))
        throw new ScanNotConfirmedError('scan not confirmed: nothing was read');
    } finally {
      prompt.close();
    }
  }
}

let current: ScanSession | undefined;

/** Makes `session` the one table scans run in, until the returned function is called. */
export function useScanSession(session: ScanSession): () => void {
  current = session;
  return () => {
    if (current === session) current = undefined;
  };
}

/**
 * For a command that acts on what its scans find (replay, re-ingest --all): a scan stopped by Ctrl-C
 * throws ScanStoppedError, so nothing is done with a partial result.
 */
export function actOnlyOnCompleteScans(): void {
  if (current) current.onStop = 'throw';
}

/** Runs a scan in the current session (a plain parallel scan when there is none). */
export function scanTable<T>(
  table: { label: string; describe: () => Promise<TableSize> },
  page: ScanPage<T>,
): Promise<T[]> {
  return (current ?? new ScanSession()).run(table, page);
}

/** `~260,000,000 items, 245.1 GB: ~29,900,000 read units, ~$3.74 at the on-demand price; 32 segments` */
export function describeEstimate(label: string, estimate: ScanEstimate, segments: number): string {
  return [
    `Scanning ${label} reads every item: ~${plural(estimate.itemCount, 'item')}, ${formatBytes(estimate.sizeBytes)}`,
    `~${Math.ceil(estimate.readUnits).toLocaleString('en-US')} read units, ~$${estimate.costUsd.toFixed(2)} at the on-demand price ($${USD_PER_MILLION_READ_UNITS} per million, eventually consistent)`,
    `${segments} segments in parallel. Ctrl-C stops it with what was found so far.`,
  ].join('; ');
}

function itemsRead(p: ScanProgress): string {
  const of = p.estimatedItems !== undefined ? ` of ~${p.estimatedItems.toLocaleString('en-US')}` : '';
  return `${p.scanned.toLocaleString('en-US')}${of} items read`;
}

function describeCount(p: ScanProgress): string {
  return `${itemsRead(p)}, ${formatUnits(p.readUnits)}`;
}

/** `1 read unit`, `1,362.5 read units`. */
function formatUnits(units: number): string {
  return `${units.toLocaleString('en-US', { maximumFractionDigits: 1 })} read unit${units === 1 ? '' : 's'}`;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(s).padStart(2, '0')}s`
      : `${s}s`;
}

/** One progress line: `scan 42% · 109,000 of ~260,000 items · 12 found · 4 segments · 1,362.5 read units · ETA 14s` */
export function progressLine(p: ScanProgress): string {
  const percent =
    p.estimatedItems && p.estimatedItems > 0
      ? `${Math.min(99, Math.floor((100 * p.scanned) / p.estimatedItems))}% · `
      : '';
  return [
    `scan ${percent}${itemsRead(p)}`,
    `${p.found.toLocaleString('en-US')} found`,
    `${p.segments} segments`,
    formatUnits(p.readUnits),
    p.etaMs !== undefined ? `ETA ${formatDuration(p.etaMs)}` : `${formatDuration(p.elapsedMs)} so far`,
  ].join(' · ');
}

/**
 * Progress on a terminal: one line, rewritten. Elsewhere (a log, a CI job), a line at every tenth of a
 * large scan. Then one summary line, or what was read when the scan was stopped.
 */
function progressReporter(stream: NodeJS.WriteStream, estimatedItems: number | undefined) {
  const tty = stream.isTTY === true;
  const large = (estimatedItems ?? 0) >= PROGRESS_LINES_ABOVE_ITEMS;
  let lastTenth = 0;
  let shown = false;
  return {
    update(p: ScanProgress) {
      if (tty) {
        stream.write(`\r\x1b[2K${progressLine(p)}`);
        shown = true;
        return;
      }
      if (!large || !estimatedItems) return;
      const tenth = Math.floor((10 * p.scanned) / estimatedItems);
      if (tenth > lastTenth && tenth < 10) {
        lastTenth = tenth;
        stream.write(`${progressLine(p)}\n`);
        shown = true;
      }
    },
    done(result: ScanResult<unknown>) {
      if (tty && shown) stream.write('\r\x1b[2K');
      if (!result.complete) {
        stream.write(
          `stopped (Ctrl-C) after ${describeCount(result)} in ${formatDuration(result.elapsedMs)}: what was found so far (${result.found.toLocaleString('en-US')}) is partial\n`,
        );
      } else if (shown || large) {
        stream.write(
          `scanned ${plural(result.scanned, 'item')} in ${result.segments} segments: ${formatUnits(result.readUnits)}, ${formatDuration(result.elapsedMs)}\n`,
        );
      }
    },
  };
}
