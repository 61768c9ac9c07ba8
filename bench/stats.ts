/** Small statistics and formatting helpers shared by the benchmarks. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest-rank: the smallest value with at least p% of the values at or below it.
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/**
 * Warm per-operation time of `fn` in microseconds: runs it `warmup` times, then `rounds` rounds of
 * `iterations` calls, and returns the median round's µs per call (the median resists GC pauses and
 * other processes on a small machine).
 */
export function microsPerOp(
  fn: () => unknown,
  options: { iterations: number; rounds?: number; warmup?: number },
): number {
  const { iterations, rounds = 7, warmup = iterations } = options;
  let last: unknown;
  for (let i = 0; i < warmup; i += 1) last = fn();
  const perRound: number[] = [];
  for (let r = 0; r < rounds; r += 1) {
    const started = performance.now();
    for (let i = 0; i < iterations; i += 1) last = fn();
    perRound.push(((performance.now() - started) * 1000) / iterations);
  }
  keep(last);
  return median(perRound);
}

/**
 * `microsPerOp` of two functions in alternating rounds (a, b, a, b…), so a slow spell of a shared
 * machine falls on both: the median round of each, in µs per call.
 */
export function pairedMicrosPerOp(
  a: () => unknown,
  b: () => unknown,
  options: { iterations: number; rounds?: number; warmup?: number },
): [number, number] {
  const { iterations, rounds = 15, warmup = iterations } = options;
  let last: unknown;
  for (let i = 0; i < warmup; i += 1) last = [a(), b()];
  const roundsOf: [number[], number[]] = [[], []];
  for (let r = 0; r < rounds; r += 1) {
    for (const [k, fn] of [a, b].entries()) {
      const started = performance.now();
      for (let i = 0; i < iterations; i += 1) last = fn();
      roundsOf[k]?.push(((performance.now() - started) * 1000) / iterations);
    }
  }
  keep(last);
  return [median(roundsOf[0]), median(roundsOf[1])];
}

/** Where results are kept reachable, so the optimizer cannot drop the work that produced them. */
export const sink: { value: unknown } = { value: undefined };

export function keep(value: unknown): void {
  sink.value = value;
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${round(bytes / 1024 / 1024, 2)} MiB`;
  if (bytes >= 1024) return `${round(bytes / 1024, 1)} KiB`;
  return `${bytes} B`;
}

/** A plain-text table with left-aligned first column and right-aligned others. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows].map((row) => row.map((cell) => String(cell)));
  const widths = headers.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, col) => (col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0)))
      .join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(cells[0] ?? []), rule, ...cells.slice(1).map(line)].join('\n');
}

export const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');
