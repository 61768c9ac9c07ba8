import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalEndpoints } from './awsClients.ts';
import type { LocalResources } from './provision.ts';

/** What a running local stack tells `send` and `ops`: where it answers and what it provisioned. */
export interface StackFile extends LocalResources {
  /** The `npm start` process; the stack is gone when it is. */
  pid: number;
  startedAt: string;
  /** `http://127.0.0.1:<port>`; webhooks are under `/webhooks/<provider>`. */
  httpUrl: string;
  webhookUrls: Record<string, string>;
  endpoints: LocalEndpoints;
  region: string;
  /** The key file the stack verifies with (the sender signs with the same file). */
  keysFile: string;
  /** The process group of DynamoDB Local (Java and its watchdog), to name it if it is ever left behind. */
  dynamodbProcessGroup?: number;
}

/** Raised when no running local stack can be found; its message says what to do. */
class StackNotRunningError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StackNotRunningError';
  }
}

const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The git-ignored directory of local state (keys, stack file): `LOCAL_STATE_DIR`, else `<repo>/.local`. */
export function localStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.LOCAL_STATE_DIR || join(REPO_ROOT, '.local'));
}

function stackFilePath(dir = localStateDir()): string {
  return join(dir, 'stack.json');
}

export function writeStackFile(info: StackFile, dir = localStateDir()): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(stackFilePath(dir), `${JSON.stringify(info, null, 2)}\n`);
}

/** Removes the stack file if it still describes this process's stack. */
export function removeStackFile(pid: number, dir = localStateDir()): void {
  const file = stackFilePath(dir);
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as StackFile).pid === pid) rmSync(file);
  } catch {
    // missing or unreadable: nothing of ours to remove
  }
}

/** The running local stack, or a StackNotRunningError that says how to start one. */
export function readStackFile(dir = localStateDir()): StackFile {
  const file = stackFilePath(dir);
  if (!existsSync(file)) {
    throw new StackNotRunningError(`No local stack is running (no ${file}). Start one with \`npm start\`.`);
  }
  let info: StackFile;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as StackFile;
  } catch (error) {
    throw new StackNotRunningError(
      `${file} is not a stack file npm start wrote (${error instanceof Error ? error.message : String(error)}). Delete it and start the stack again with \`npm start\`.`,
      { cause: error },
    );
  }
  if (!isAlive(info.pid)) {
    throw new StackNotRunningError(
      `The local stack in ${file} (pid ${info.pid}) is not running any more. Start one with \`npm start\`.`,
    );
  }
  return info;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
