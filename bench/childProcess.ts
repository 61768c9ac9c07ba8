import { type ChildProcess, spawn } from 'node:child_process';
import { stopProcess } from '../local/servers.ts';
import { ROOT } from './bundle.ts';

/** A tsx child process that announced itself with one JSON line on stdout. */
export interface ReadyChild<T> {
  child: ChildProcess;
  info: T;
  stop(): Promise<void>;
}

const TSX = `${ROOT}node_modules/.bin/tsx`;

/**
 * Runs `tsx <script>` and waits for its first stdout line that parses as JSON with `ready: true`.
 * `stop()` closes its stdin, sends SIGTERM, and SIGKILL after 5 s.
 */
export async function startReadyChild<T>(
  script: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<ReadyChild<T>> {
  const child = spawn(TSX, [script], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const info = await new Promise<T>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => reject(new Error(`${script} not ready within ${timeoutMs} ms\n${stderr}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
        try {
          const parsed = JSON.parse(line) as T & { ready?: boolean };
          if (parsed.ready) {
            clearTimeout(timer);
            resolve(parsed);
          }
        } catch {
          // not our line
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (code ${code}) before it was ready\n${stderr}`));
    });
  });
  child.stdout?.resume();
  return {
    child,
    info,
    async stop() {
      child.stdin?.end();
      await stopProcess(child, 5000);
    },
  };
}
