import { stringify } from 'lossless-json';
import pc from 'picocolors';
import type { Outcome } from '../../shared/contract/eventContract.ts';
import type { StoredItem } from '../../shared/eventStore.ts';
import { terminalColumns } from '../cli.ts';

export type Colors = ReturnType<typeof pc.createColors>;

/** How a command prints: aligned, colored text for people (colors only in a terminal), or JSON for scripts. */
export interface Output {
  json: boolean;
  c: Colors;
  line(text?: string): void;
  /**
   * Columns padded to their widest cell (colors not counted). In a terminal, the `shrink` columns are
   * cut (with …) until the table fits its width, group by group (the first group first, down to a few
   * characters, then the next); piped, every cell is printed whole.
   */
  table(rows: readonly (readonly string[])[], options?: { shrink?: readonly (readonly number[])[] }): void;
  /** One JSON document; numbers of provider payloads keep every digit. */
  data(value: unknown): void;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matches the ANSI color escapes picocolors writes
const ANSI = /\u001b\[[0-9;]*m/g;
const visibleLength = (text: string) => text.replace(ANSI, '').length;

const GAP = 2;
/** The narrowest a shrunk column gets: a cut beyond this helps nobody read the row. */
const MIN_SHRUNK_WIDTH = 8;

/**
 * Column widths that fit `columns`: within each group of shrinkable columns (in order), the widest
 * gives first, one character at a time.
 */
export function fitWidths(
  widths: readonly number[],
  shrink: readonly (readonly number[])[],
  columns: number,
): number[] {
  const fitted = [...widths];
  const total = () => fitted.reduce((sum, w) => sum + w, 0) + GAP * (fitted.length - 1);
  for (const group of shrink) {
    while (total() > columns) {
      const widest = group
        .filter((i) => (fitted[i] ?? 0) > MIN_SHRUNK_WIDTH)
        .sort((a, b) => (fitted[b] ?? 0) - (fitted[a] ?? 0))[0];
      if (widest === undefined) break;
      fitted[widest] = (fitted[widest] ?? 0) - 1;
    }
  }
  return fitted;
}

function cut(cell: string, width: number): string {
  if (visibleLength(cell) <= width) return cell;
  return `${cell.replace(ANSI, '').slice(0, width - 1)}…`;
}

export function makeOutput(
  json: boolean,
  write: (text: string) => void = (text) => process.stdout.write(text),
  columns: number | undefined = terminalColumns(),
): Output {
  const c = pc.createColors(!json && pc.isColorSupported);
  return {
    json,
    c,
    line: (text = '') => write(`${text}\n`),
    table(rows, options = {}) {
      let widths: number[] = [];
      for (const row of rows) {
        for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell));
      }
      if (columns !== undefined && options.shrink) widths = fitWidths(widths, options.shrink, columns);
      for (const row of rows) {
        const cells = row.map((whole, i) => {
          const cell = cut(whole, widths[i] ?? 0);
          return i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell));
        });
        write(`${cells.join(' '.repeat(GAP)).trimEnd()}\n`);
      }
    },
    data: (value) => write(`${stringify(value, undefined, 2) ?? 'null'}\n`),
  };
}

export function colorOutcome(c: Colors, outcome: Outcome | string): string {
  switch (outcome) {
    case 'succeeded':
      return c.green(outcome);
    case 'failed':
      return c.red(outcome);
    case 'action_required':
      return c.yellow(outcome);
    case 'pending':
      return c.cyan(outcome);
    default:
      return c.dim(outcome);
  }
}

export function colorStatus(c: Colors, status: StoredItem['status']): string {
  if (status === 'stored') return c.green(status);
  if (status === 'quarantined') return c.yellow(status);
  return c.dim(status);
}

const DURATION = /^(\d+)\s*(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A time given on the command line: ISO 8601 (`2024-11-27T05:00:00Z`, `2024-11-27`), `now`, or a
 * duration ago (`90s`, `15m`, `2h`, `7d`).
 */
export function parseTime(text: string, now = new Date()): Date {
  const value = text.trim();
  if (value === 'now') return now;
  const duration = DURATION.exec(value);
  if (duration)
    return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]);
  const time = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time.getTime())) {
    throw new Error(
      `"${text}" is not a time: use ISO 8601 (2024-11-27T05:00:00Z), "now", or an age such as 15m, 2h, 7d`,
    );
  }
  return time;
}

/** A time as people read it in a table: `2024-11-27 05:07:45` (UTC, to the second). */
export function shortTime(time: Date | string): string {
  const iso = typeof time === 'string' ? time : time.toISOString();
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '');
}

/**
 * `--since` / `--until` read and checked before anything runs: a receive-time range that holds at
 * least one instant (`since` < `until`), as `replay` needs it too.
 */
export function timeRange(
  since: string | undefined,
  until: string | undefined,
  now = new Date(),
): { since?: Date; until?: Date } {
  const range = {
    ...(since !== undefined ? { since: parseTime(since, now) } : {}),
    ...(until !== undefined ? { until: parseTime(until, now) } : {}),
  };
  if (range.since && range.until && !(range.since < range.until)) {
    throw new Error(
      `the time range is empty: --since (${range.since.toISOString()}) must be before --until (${range.until.toISOString()})`,
    );
  }
  return range;
}

/** A stored item for `--json`: dates as ISO text, a raw body as text when it is UTF-8 (else base64). */
export function itemJson(item: StoredItem): Record<string, unknown> {
  const { quarantine, receivedAt, expiresAt, ...rest } = item;
  return {
    ...rest,
    receivedAt: receivedAt.toISOString(),
    expiresAt: expiresAt.toISOString(),
    ...(quarantine
      ? {
          quarantine: {
            reason: quarantine.reason,
            headers: quarantine.headers,
            ...bodyText(quarantine.rawBody),
          },
        }
      : {}),
  };
}

function bodyText(body: Buffer): { rawBody: string } | { rawBodyBase64: string } {
  const text = body.toString('utf8');
  return Buffer.from(text, 'utf8').equals(body)
    ? { rawBody: text }
    : { rawBodyBase64: body.toString('base64') };
}
