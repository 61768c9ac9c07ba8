/**
 * Structured logs that can hold no personal data: a log line takes only the fields below (ids, types,
 * outcomes, reasons, timings), never a payload, a header value or a free-form object. JSON in Lambda;
 * short and readable in a terminal.
 */
export interface LogFields {
  provider?: string;
  eventId?: string;
  type?: string;
  outcome?: string;
  status?: number;
  result?: string;
  reason?: string;
  pk?: string;
  count?: number;
  durationMs?: number;
  retryAfterSeconds?: number;
  error?: string;
  requestId?: string;
  url?: string;
}

type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const minLevel = LEVELS[(process.env.LOG_LEVEL?.toLowerCase() as Level) ?? 'info'] ?? LEVELS.info;
const pretty =
  process.env.LOG_FORMAT === 'pretty' || (process.env.LOG_FORMAT !== 'json' && process.stdout.isTTY === true);

/** Where log lines go; tests replace it to capture every line. */
export const logSink = {
  write: (line: string): void => {
    process.stdout.write(`${line}\n`);
  },
};

function emit(level: Level, message: string, fields: LogFields = {}): void {
  if (LEVELS[level] < minLevel) return;
  if (pretty) {
    const parts = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${value}`);
    const time = new Date().toISOString().slice(11, 23);
    logSink.write(
      `${time} ${level.toUpperCase().padEnd(5)} ${message}${parts.length ? `  ${parts.join(' ')}` : ''}`,
    );
    return;
  }
  logSink.write(JSON.stringify({ level, time: new Date().toISOString(), message, ...fields }));
}

/** An error as a log field: its name and the start of its message, never its stack or data. */
export function errorField(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 200);
  return String(error).slice(0, 200);
}

export const log = {
  debug: (message: string, fields?: LogFields) => emit('debug', message, fields),
  info: (message: string, fields?: LogFields) => emit('info', message, fields),
  warn: (message: string, fields?: LogFields) => emit('warn', message, fields),
  error: (message: string, fields?: LogFields) => emit('error', message, fields),
};
