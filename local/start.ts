/**
 * `npm start`: the whole intake on this machine. DynamoDB Local and fauxqs (SNS/SQS) on loopback,
 * provisioned from the same definitions as the CDK stack; the real ingest handlers behind an HTTP
 * server; the table's stream fed to the real stream publisher; the handler queue fed to the real event
 * handler. Ctrl-C stops it all.
 *
 * Environment: PORT (HTTP, 3000), DYNAMODB_PORT (8000), SQS_PORT (4566), LOCAL_STATE_DIR (.local),
 * LOG_FORMAT (json | pretty), LOCAL_METRICS=1 to also print the EMF metric lines.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import pc from 'picocolors';
import { errorField, log, logSink } from '../shared/log.ts';
import { PROVIDER_NAMES, signerOf } from '../shared/providers/signers.ts';
import { localClients } from './awsClients.ts';
import { exitQuietlyWhenOutputCloses } from './cli.ts';
import { type HttpServer, startHttpServer } from './httpServer.ts';
import { type LocalKeys, loadLocalKeys } from './localKeys.ts';
import { buildLocalStack, type LocalStack } from './localStack.ts';
import { provisionLocal } from './provision.ts';
import { startPoller } from './queuePoller.ts';
import { assertPortFree, startLocalServers } from './servers.ts';
import { localStateDir, removeStackFile, type StackFile, writeStackFile } from './stackFile.ts';

const DEFAULT_PORTS = { http: 3000, dynamodb: 8000, sqs: 4566 } as const;
/** The stack flushes alert windows every minute; locally a little more often. */
const ALERT_FLUSH_EVERY_MS = 15_000;
const EXAMPLE_PROVIDER = 'apara';
/** How often start checks that the process that started it is still there. */
const PARENT_CHECK_MS = 1000;
/** How long a start waits for the ports a killed earlier start's servers still hold. */
const LEFTOVER_WAIT_MS = 10_000;
const EXAMPLE_SAMPLE = 'order.completed';

/** A startup failure whose message is all the user needs (no stack trace). */
class StartupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** Raised inside startup when Ctrl-C came before the stack was ready. */
class StartupAbortedError extends Error {
  constructor() {
    super('stopped during startup');
    this.name = 'StartupAbortedError';
  }
}

function portFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new StartupError(`${name} must be a port number from 1 to 65535, got "${text}".`);
  }
  return port;
}

/** EMF metric lines are for CloudWatch; in a terminal they bury the log, so they are left out unless asked. */
function hideMetricLines(): void {
  if (process.env.LOCAL_METRICS === '1') return;
  const write = logSink.write;
  logSink.write = (line: string) => {
    if (!line.startsWith('{"_aws"')) write(line);
  };
}

/** Stops what was started, last first; every step runs even if one before it failed. */
class Shutdown {
  private readonly steps: { what: string; stop: () => Promise<void> }[] = [];
  requested = false;

  add(what: string, stop: () => Promise<void>): void {
    this.steps.push({ what, stop });
  }

  async run(): Promise<void> {
    for (const { what, stop } of this.steps.reverse()) {
      try {
        await stop();
      } catch (error) {
        log.warn(`could not stop ${what}`, { error: errorField(error) });
      }
    }
    this.steps.length = 0;
  }
}

async function main(): Promise<void> {
  hideMetricLines();
  const shutdown = new Shutdown();
  let ready = false;
  let exiting = false;
  const onSignal = (signal: NodeJS.Signals | 'parent gone' | 'output closed') => {
    if (exiting) return;
    if (!ready) {
      // Start-up notices the request after its current step, then cleans up.
      if (!shutdown.requested) step(`${signal}: stopping after the current start-up step`);
      shutdown.requested = true;
      return;
    }
    shutdown.requested = true;
    exiting = true;
    log.info(`${signal}: stopping`);
    shutdown.run().then(
      () => {
        log.info('webhook intake stopped');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  watchParent(() => onSignal('parent gone'));
  exitQuietlyWhenOutputCloses(() => onSignal('output closed'));

  const checkpoint = () => {
    if (shutdown.requested) throw new StartupAbortedError();
  };

  try {
    const ports = {
      http: portFromEnv('PORT', DEFAULT_PORTS.http),
      dynamodb: portFromEnv('DYNAMODB_PORT', DEFAULT_PORTS.dynamodb),
      sqs: portFromEnv('SQS_PORT', DEFAULT_PORTS.sqs),
    };
    if (new Set(Object.values(ports)).size !== 3) {
      throw new StartupError(
        `PORT, DYNAMODB_PORT and SQS_PORT must differ (got ${Object.values(ports).join(', ')}).`,
      );
    }
    const stateDir = localStateDir();
    // Fail on a busy port before Java starts: one line, and nothing to clean up. A port still held by
    // what a killed earlier start left behind is named, and given a moment to be released.
    const earlier = leftoverOfEarlierStart(stateDir);
    await portFreeOrLeftover(ports.http, 'HTTP server, PORT', earlier);
    await portFreeOrLeftover(ports.dynamodb, 'DynamoDB Local, DYNAMODB_PORT', earlier);
    await portFreeOrLeftover(ports.sqs, 'SNS/SQS (fauxqs), SQS_PORT', earlier);

    const keysFile = join(stateDir, 'keys.json');
    const keys = loadLocalKeys(keysFile);

    step(
      `starting DynamoDB Local (Java) on 127.0.0.1:${ports.dynamodb} and SNS/SQS (fauxqs) on 127.0.0.1:${ports.sqs}…`,
    );
    const servers = await startLocalServers({ dynamodb: ports.dynamodb, sqs: ports.sqs });
    shutdown.add('DynamoDB Local and fauxqs', () => servers.stop());
    checkpoint();

    const clients = localClients(servers.endpoints);
    shutdown.add('AWS clients', async () => {
      clients.dynamodb.destroy();
      clients.streams.destroy();
      clients.sns.destroy();
      clients.sqs.destroy();
    });
    step('creating the event table, the topics and the queues…');
    const resources = await provisionLocal(clients);
    checkpoint();

    step(`loading the provider modules and listening on 127.0.0.1:${ports.http}…`);
    const stack = await buildLocalStack({ clients, resources, keys, keysFile });
    const stopPoller = startPoller(clients.sqs, resources.handlerQueueUrl, stack.eventHandler);
    shutdown.add('queue poller', stopPoller);
    const streamPublisher = stack.startStreamPublisher();
    shutdown.add('stream publisher', () => streamPublisher.stop());
    const stopAlertFlush = startAlertFlush(stack);
    shutdown.add('alert flush', stopAlertFlush);

    const http = await startHttpServer(ports.http, stack.ingest);
    shutdown.add('HTTP server', () => http.close());
    checkpoint();

    const info: StackFile = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      httpUrl: http.url,
      webhookUrls: Object.fromEntries(PROVIDER_NAMES.map((name) => [name, `${http.url}/webhooks/${name}`])),
      endpoints: servers.endpoints,
      region: 'us-east-1',
      keysFile,
      ...(servers.dynamodbProcessGroup ? { dynamodbProcessGroup: servers.dynamodbProcessGroup } : {}),
      ...resources,
    };
    writeStackFile(info, stateDir);
    shutdown.add('stack file', async () => removeStackFile(process.pid, stateDir));

    process.stdout.write(banner(info, http, keys, stateDir));
    ready = true;
    log.info('webhook intake ready', { url: http.url });
  } catch (error) {
    await shutdown.run();
    if (error instanceof StartupAbortedError || shutdown.requested) {
      step('stopped during start-up; nothing is left running');
      process.exit(0);
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${pc.red('Cannot start:')} ${message.split('\n')[0]}\n`);
    process.exit(1);
  }
}

/** One line of what start-up is doing, for the seconds before the banner. */
function step(text: string): void {
  process.stdout.write(`${pc.dim(`▸ ${text}`)}\n`);
}

/**
 * Stops the stack when the process that started it is gone (a killed `npm start`, a closed IDE):
 * the stack was re-parented then, and nobody would ever stop it.
 */
function watchParent(onGone: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, PARENT_CHECK_MS);
  timer.unref();
}

/** The stack file of an earlier start whose process is gone (killed, so it never cleaned up). */
function leftoverOfEarlierStart(stateDir: string): StackFile | undefined {
  try {
    const earlier = JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')) as StackFile;
    return isRunning(earlier.pid) ? undefined : earlier;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A free port, or a clear error. When a killed earlier start used the port, its DynamoDB Local is
 * stopping by itself (its watchdog saw the parent die): wait for it a few seconds, then name it.
 */
async function portFreeOrLeftover(port: number, what: string, earlier: StackFile | undefined): Promise<void> {
  const usedBefore =
    earlier &&
    [earlier.httpUrl, earlier.endpoints.dynamodb, earlier.endpoints.sqs].some((url) =>
      url.endsWith(`:${port}`),
    );
  if (!usedBefore) return assertPortFree(port, what);
  const deadline = Date.now() + LEFTOVER_WAIT_MS;
  let said = false;
  for (;;) {
    try {
      return await assertPortFree(port, what);
    } catch (error) {
      if (Date.now() > deadline) {
        const group = earlier.dynamodbProcessGroup;
        throw new StartupError(
          `Port ${port} (${what}) is still in use, most likely by what the earlier npm start (pid ${earlier.pid}, started ${earlier.startedAt}, no longer running) left behind${group ? `: its DynamoDB Local runs in process group ${group} (stop it with \`kill -- -${group}\`)` : ''}. Or choose another port.`,
          { cause: error },
        );
      }
      if (!said) {
        step(
          `port ${port} is still held by the earlier npm start (pid ${earlier.pid}, killed); waiting for it to let go…`,
        );
        said = true;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Sends the closing operator alerts of ended alert windows, as the stack's one-minute schedule does. */
function startAlertFlush(stack: LocalStack): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    running ??= stack.eventHandler
      .flushAlerts()
      .catch((error: unknown) => log.warn('alert flush failed', { error: errorField(error) }))
      .finally(() => {
        running = undefined;
      });
  }, ALERT_FLUSH_EVERY_MS);
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** The URLs and one example to copy: the npm form, and curl with a real signature of the sample. */
function banner(info: StackFile, http: HttpServer, keys: LocalKeys, stateDir: string): string {
  const width = Math.max(...PROVIDER_NAMES.map((name) => name.length));
  const urls = PROVIDER_NAMES.map(
    (name) => `  ${pc.bold(name.padEnd(width))}  POST ${pc.cyan(info.webhookUrls[name] ?? '')}`,
  );
  const where = (file: string) => {
    const path = relative(process.cwd(), file);
    return path && !path.startsWith('..') ? path : file;
  };
  const lines = [
    '',
    `${pc.green('Webhook intake running locally')} ${pc.dim(`(Node ${process.version}, DynamoDB Local ${info.endpoints.dynamodb}, SNS/SQS ${info.endpoints.sqs})`)}`,
    '',
    ...urls,
    '',
    'Send a signed sample:',
    `  ${pc.bold(`npm run send -- ${EXAMPLE_PROVIDER} ${EXAMPLE_SAMPLE}`)}`,
  ];
  const curl = curlExample(http, keys);
  if (curl) lines.push('or with curl:', `  ${curl}`);
  lines.push(
    '',
    `Look inside: ${pc.bold('npm run ops -- events list')}   Keys: ${where(join(stateDir, 'keys.json'))}   Ctrl-C stops everything.`,
    '',
  );
  return `${lines.join('\n')}\n`;
}

function curlExample(http: HttpServer, keys: LocalKeys): string | undefined {
  const provider = PROVIDER_NAMES.includes(EXAMPLE_PROVIDER) ? EXAMPLE_PROVIDER : undefined;
  const signingKey = provider ? keys[provider]?.signingKey : undefined;
  if (!provider || !signingKey) return undefined;
  const file = join('shared', 'providers', provider, 'samples', `${EXAMPLE_SAMPLE}.json`);
  let body: Buffer;
  try {
    body = readFileSync(new URL(`../${file}`, import.meta.url));
  } catch {
    return undefined;
  }
  // APARA signs the body alone (no timestamp), so this signature stays valid for the sample file.
  const headers = signerOf(provider).sign(body, signingKey, new Date());
  const flags = Object.entries(headers).map(([name, value]) => `-H '${name}: ${value}'`);
  return ['curl -i', ...flags, `--data-binary @${file}`, `${http.url}/webhooks/${provider}`].join(' ');
}

await main();
