import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import autocannon from 'autocannon';
import { localClients } from '../local/awsClients.ts';
import { loadLocalKeys } from '../local/localKeys.ts';
import { freePort, stopProcess } from '../local/servers.ts';
import { readStackFile } from '../local/stackFile.ts';
import { EntityStateStore } from '../shared/entityState.ts';
import { EventStore } from '../shared/eventStore.ts';
import { ROOT } from './bundle.ts';
import { largestSample, type Sample, samplesOf, signedHeaders, withEventId } from './samples.ts';
import { round } from './stats.ts';

export interface ThroughputResult {
  provider: string;
  sample: string;
  durationSeconds: number;
  connections: number;
  cores: number;
  cpuModel: string;
  requests: number;
  /** Requests per second answered 200 "accepted", over the run. */
  acceptedPerSecond: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number };
  statuses: Record<string, number>;
  errors: number;
  accepted: number;
  /** Accepted ids that never reached the audit queue / never became handled entity state. */
  lostPublished: number;
  lostHandled: number;
  /** Ids published more than once. */
  doubledPublished: number;
  /** Published ids that were never answered 200 (e.g. the answer was lost but the event kept: fine). */
  publishedNotAccepted: number;
  /** Seconds after the load stopped until every accepted event was published and handled. */
  drainSeconds: number;
  /**
   * CPU time per accepted event during the load, ms: the stack's processes (Node with the handlers
   * and fauxqs, Java with DynamoDB Local) and this process (autocannon and signing). Linux only.
   */
  cpuMsPerEvent?: { stackNode: number; dynamoDbLocal: number; loadGenerator: number };
  stack: 'local/start.ts';
}

/**
 * Sustained throughput of the local stack (`npm start`, spawned on free ports with a temporary state
 * directory), driven by autocannon with a unique, correctly signed event per request; then every id
 * answered "accepted" is looked for in an audit queue subscribed to the events topic (published once?)
 * and in the entity states the default handler keeps (handled?).
 */
export async function measureThroughput(
  options: { durationSeconds?: number; connections?: number; provider?: string } = {},
): Promise<ThroughputResult> {
  const durationSeconds = options.durationSeconds ?? 10;
  const connections = options.connections ?? 8;
  const sample: Sample = options.provider ? largestSample(options.provider) : throughputSample();
  if (!existsSync(join(ROOT, 'local/start.ts')))
    throw new Error('local/start.ts is missing: the throughput bench drives `npm start`');

  const stateDir = mkdtempSync(join(tmpdir(), 'webhook-bench-'));
  const ports = { PORT: await freePort(), DYNAMODB_PORT: await freePort(), SQS_PORT: await freePort() };
  const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), ['local/start.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      LOCAL_STATE_DIR: stateDir,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    await waitForLine(child, '"message":"webhook intake ready"', 90_000);
    const info = readStackFile(stateDir);
    const keys = loadLocalKeys(info.keysFile);
    const clients = localClients(info.endpoints);
    const states = new EntityStateStore(new EventStore(clients.dynamodb, info.table));
    const audit = await auditQueue(clients.sqs, clients.sns, info.topicArn, `bench-audit-${process.pid}`);

    const runTag = `tp${Date.now().toString(36)}`;
    const stackCpuBefore = processTreeCpu(child.pid);
    const benchCpuBefore = process.cpuUsage();
    let sequence = 0;
    const acceptedIds = new Set<string>();
    const statuses: Record<string, number> = {};
    const result = await autocannon({
      url: info.httpUrl,
      connections,
      duration: durationSeconds,
      requests: [
        {
          method: 'POST',
          path: `/webhooks/${sample.provider}`,
          setupRequest: (request: Record<string, unknown>) => {
            sequence += 1;
            const body = withEventId(sample, `${runTag}n${sequence}`);
            return { ...request, body, headers: signedHeaders(sample.provider, body, keys) };
          },
          onResponse: (status: number, body: string) => {
            const answer = safeJson(body);
            const key = `${status} ${answer.status ?? ''}`.trim();
            statuses[key] = (statuses[key] ?? 0) + 1;
            if (status === 200 && answer.status === 'accepted' && answer.id) acceptedIds.add(answer.id);
          },
        },
      ],
    });
    const stackCpu = diffCpu(processTreeCpu(child.pid), stackCpuBefore);
    const benchCpu = process.cpuUsage(benchCpuBefore);

    // Wait until every accepted event is published and handled (or 60 s pass).
    const drainStarted = Date.now();
    const published = new Map<string, number>();
    const handled = new Set<string>();
    /** Subjects of published events not yet seen handled, by event id. */
    const unhandled = new Map<string, string>();
    for (;;) {
      for (const { id, subject } of await drainEvents(clients.sqs, audit)) {
        published.set(id, (published.get(id) ?? 0) + 1);
        if (!handled.has(id)) unhandled.set(id, subject);
      }
      for (const id of await handledIds(states, sample.provider, unhandled)) {
        handled.add(id);
        unhandled.delete(id);
      }
      const missing = [...acceptedIds].some((id) => !published.has(id) || !handled.has(id));
      if (!missing || Date.now() - drainStarted > 60_000) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const drainSeconds = (Date.now() - drainStarted) / 1000;
    clients.dynamodb.destroy();
    clients.sns.destroy();
    clients.sqs.destroy();

    const accepted = acceptedIds.size;
    return {
      provider: sample.provider,
      sample: sample.name,
      durationSeconds,
      connections,
      cores: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      requests: result.requests.total,
      acceptedPerSecond: round(accepted / result.duration, 1),
      requestsPerSecond: round(result.requests.average, 1),
      latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
      statuses,
      errors: result.errors + result.timeouts,
      accepted,
      lostPublished: [...acceptedIds].filter((id) => !published.has(id)).length,
      lostHandled: [...acceptedIds].filter((id) => !handled.has(id)).length,
      doubledPublished: [...published.values()].filter((count) => count > 1).length,
      publishedNotAccepted: [...published.keys()].filter((id) => !acceptedIds.has(id)).length,
      drainSeconds: round(drainSeconds, 1),
      ...(stackCpu && accepted > 0
        ? {
            cpuMsPerEvent: {
              stackNode: round(stackCpu.node / accepted, 2),
              dynamoDbLocal: round(stackCpu.java / accepted, 2),
              loadGenerator: round((benchCpu.user + benchCpu.system) / 1000 / accepted, 2),
            },
          }
        : {}),
      stack: 'local/start.ts',
    };
  } finally {
    await stopProcess(child, 15_000);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** APARA's order.completed: HMAC-signed, one eventId per event, an outcome that raises no alert. */
function throughputSample(): Sample {
  return samplesOf('apara').find((s) => s.name === 'order.completed') ?? largestSample('apara');
}

function safeJson(text: string): { status?: string; id?: string; subject?: string } {
  try {
    return JSON.parse(text) as { status?: string; id?: string; subject?: string };
  } catch {
    return {};
  }
}

/** A FIFO queue subscribed to the events topic with no filter: it sees every published message. */
async function auditQueue(
  sqs: SQSClient,
  sns: ReturnType<typeof localClients>['sns'],
  topicArn: string,
  name: string,
) {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}.fifo`, Attributes: { FifoQueue: 'true' } }),
  );
  if (!QueueUrl) throw new Error('audit queue has no URL');
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return QueueUrl;
}

/** Id and subject of every event on the queue right now (received and deleted). */
async function drainEvents(sqs: SQSClient, queueUrl: string): Promise<{ id: string; subject: string }[]> {
  const events: { id: string; subject: string }[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    if (Messages.length === 0) return events;
    for (const message of Messages) {
      const event = safeJson(message.Body ?? '');
      events.push({ id: event.id ?? '?', subject: event.subject ?? '' });
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

/**
 * Those of the events (subject by id) whose entity state the default handler wrote: each bench event
 * is its own entity, so its state holds it as the last event. 16 reads at a time.
 */
async function handledIds(
  states: EntityStateStore,
  provider: string,
  events: ReadonlyMap<string, string>,
): Promise<string[]> {
  const entries = [...events];
  const ids: string[] = [];
  for (let i = 0; i < entries.length; i += 16) {
    const batch = entries.slice(i, i + 16);
    const found = await Promise.all(batch.map(([, subject]) => states.get(provider, subject)));
    batch.forEach(([id], j) => {
      if (found[j]?.lastEventId === id) ids.push(id);
    });
  }
  return ids;
}

/** CPU ms used so far by a process and its descendants, split into Java and the rest; undefined off Linux. */
function processTreeCpu(rootPid: number | undefined): { node: number; java: number } | undefined {
  if (rootPid === undefined || !existsSync('/proc/self/stat')) return undefined;
  const stats = new Map<number, { ppid: number; ms: number; java: boolean }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = text.lastIndexOf(')');
      const name = text.slice(text.indexOf('(') + 1, close);
      const fields = text.slice(close + 2).split(' ');
      // After the name: state(0) ppid(1) … utime(11) stime(12), in clock ticks (100 per second on Linux).
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
      stats.set(Number(entry), { ppid: Number(fields[1]), ms, java: name === 'java' });
    } catch {
      // the process ended meanwhile
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p && hops < 20; hops += 1) {
      if (p === rootPid) return true;
      p = stats.get(p)?.ppid;
    }
    return false;
  };
  const total = { node: 0, java: 0 };
  for (const [pid, stat] of stats) {
    if (!inTree(pid)) continue;
    if (stat.java) total.java += stat.ms;
    else total.node += stat.ms;
  }
  return total;
}

function diffCpu(
  after: { node: number; java: number } | undefined,
  before: { node: number; java: number } | undefined,
): { node: number; java: number } | undefined {
  return after && before ? { node: after.node - before.node, java: after.java - before.java } : undefined;
}

function waitForLine(child: ChildProcess, line: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    let done = false;
    const timer = setTimeout(
      () => finish(new Error(`local/start.ts did not get ready in ${timeoutMs} ms\n${output.slice(-2000)}`)),
      timeoutMs,
    );
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
      if (output.includes(line)) finish();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
    });
    child.once('exit', (code) =>
      finish(new Error(`local/start.ts exited (code ${code})\n${output.slice(-2000)}`)),
    );
  });
}
