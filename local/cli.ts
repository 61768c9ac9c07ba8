/**
 * How the local command-line tools (`start`, `send`, `ops`) behave as processes, once for all three:
 * output piped to a reader that stops early (`| head`) ends the command quietly with exit 0, a
 * failure the user can fix is one line, and tables fit the terminal.
 */
import pc from 'picocolors';

/**
 * When the reader of stdout goes away (`ops events list | head`), there is nobody left to tell
 * anything: stop at once, successfully, as `cat` and `grep` do, instead of an EPIPE stack trace.
 * A process with something to stop first (`npm start`) passes its own `onClosed`; it is called once.
 */
export function exitQuietlyWhenOutputCloses(onClosed: () => void = () => process.exit(0)): void {
  let closed = false;
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
      if (!closed) onClosed();
      closed = true;
      return;
    }
    throw error;
  };
  process.stdout.on('error', onError);
  process.stderr.on('error', onError);
}

/** A failure the user caused and can fix: printed as one line, without a stack trace. */
export class UserError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UserError';
  }
}

/** Prints `<tool>: <first line of the message>` on stderr and sets exit code 1. */
export function reportFailure(tool: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${pc.red(`${tool}:`)} ${message.split('\n')[0]}\n`);
  process.exitCode = 1;
}

/** The width to fit tables in: the terminal's, or none when the output is a pipe or a file. */
export function terminalColumns(stream: NodeJS.WriteStream = process.stdout): number | undefined {
  return stream.isTTY && stream.columns > 0 ? stream.columns : undefined;
}

/** `1 record`, `2 records`: a count with its noun. */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? noun : nouns}`;
}
