import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { localClients } from '../../local/awsClients.ts';
import { loadLocalKeys } from '../../local/localKeys.ts';
import { assertPortFree, freePort } from '../../local/servers.ts';
import type { StackFile } from '../../local/stackFile.ts';
import { EntityStateStore, orderKey } from '../../shared/entityState.ts';
import { EventStore } from '../../shared/eventStore.ts';
import { PROVIDER_NAMES, signerOf } from '../../shared/providers/signers.ts';
import { personalDataIn, personalValues } from '../support/personalData.ts';
import { samplesOf } from '../support/samples.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/** How long one script may run on a loaded machine (tsx compiles it first); the tests' budgets count on it. */
const SCRIPT_TIMEOUT_MS = 20_000;

/**
 * The environment of a child process: an inherited NODE_OPTIONS (a debugger hook, a flag that warns)
 * would add lines to its stderr that the tests do not expect, and CI=true (as CI runs) turns colors on
 * for a pipe: NO_COLOR keeps the text plain.
 */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1', ...env };
}

/** Runs one of the local scripts (send, ops) the way npm does, against the stack in `stateDir`. */
async function script(
  file: string,
  args: string[],
  stateDir: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', file, ...args], {
      cwd: ROOT,
      env: childEnv({ LOCAL_STATE_DIR: stateDir }),
      maxBuffer: 16 * 1024 * 1024,
      timeout: SCRIPT_TIMEOUT_MS,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; killed?: boolean; stdout?: string; stderr?: string };
    if (failed.killed) throw new Error(`${file} ${args.join(' ')} took over ${SCRIPT_TIMEOUT_MS} ms`);
    return {
      code: typeof failed.code === 'number' ? failed.code : 1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
    };
  }
}

/** Runs a script whose stdout reader has closed before it writes, as `ops … | head` ends up. */
async function closedReader(
  file: string,
  args: string[],
  stateDir: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: ROOT,
    env: childEnv({ LOCAL_STATE_DIR: stateDir, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.destroy();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stderr };
}

/**
 * `npm start` as a child process, with its stdout split into lines: the app itself (`node --import tsx
 * local/start.ts`, what the npm script execs), or `npm start` with `viaNpm`.
 */
function startStack(env: Record<string, string>, options: { viaNpm?: boolean } = {}) {
  const command = options.viaNpm
    ? ['npm', ['start']]
    : [process.execPath, ['--import', 'tsx', 'local/start.ts']];
  const child = spawn(command[0] as string, command[1] as string[], {
    cwd: ROOT,
    env: childEnv({ LOG_FORMAT: 'json', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, lines, stderr: () => stderr, exited };
}

/** Polls until the condition holds; fails with `what` if it does not within the deadline. */
async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  deadlineMs = 30_000,
): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function jsonLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines.flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** Every process below `pid` (children, grandchildren…), read from `ps`. */
async function descendants(pid: number): Promise<{ pid: number; command: string }[]> {
  const { stdout } = await run('ps', ['-e', '-o', 'pid=,ppid=,comm=']);
  const rows = stdout
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map(([p, pp, command]) => ({ pid: Number(p), ppid: Number(pp), command: command ?? '' }));
  const found: { pid: number; command: string }[] = [];
  const parents = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const row of rows) {
      if (parents.has(row.ppid) && !parents.has(row.pid)) {
        parents.add(row.pid);
        found.push({ pid: row.pid, command: row.command });
        grew = true;
      }
    }
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

describe('npm start: the local stack as a user runs it', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'webhook-local-'));
  let ports: { http: number; dynamodb: number; sqs: number };
  let stack: ReturnType<typeof startStack>;
  let info: StackFile;
  let processes: { pid: number; command: string }[] = [];

  beforeAll(async () => {
    const [http = 0, dynamodb = 0, sqs = 0] = await distinctFreePorts(3);
    ports = { http, dynamodb, sqs };
    stack = startStack({
      PORT: String(http),
      DYNAMODB_PORT: String(dynamodb),
      SQS_PORT: String(sqs),
      LOCAL_STATE_DIR: stateDir,
    });
    await until(
      'the stack to print "ready"',
      () => {
        if (stack.child.exitCode !== null) throw new Error(`npm start exited early:\n${stack.stderr()}`);
        return stack.lines.some((line) => line.includes('ready'));
      },
      45_000,
    );
    info = JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')) as StackFile;
  }, 60_000);

  afterAll(async () => {
    // Only when the SIGINT test did not run or failed half-way: leave nothing running.
    if (stack?.child.exitCode === null && stack.child.signalCode === null) {
      processes = [...processes, ...(await descendants(stack.child.pid ?? 0))];
      stack.child.kill('SIGINT');
      await Promise.race([stack.exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    for (const { pid } of processes) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    if (stack?.child.exitCode === null) stack.child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('prints every provider URL and writes the endpoints to the stack file', () => {
    const output = stack.lines.join('\n');
    for (const provider of PROVIDER_NAMES) {
      expect(output).toContain(`http://127.0.0.1:${ports.http}/webhooks/${provider}`);
      expect(info.webhookUrls[provider]).toBe(`http://127.0.0.1:${ports.http}/webhooks/${provider}`);
    }
    expect(output).toContain('npm run send -- apara order.completed');
    expect(info.endpoints.dynamodb).toBe(`http://127.0.0.1:${ports.dynamodb}`);
    expect(info.endpoints.sqs).toBe(`http://127.0.0.1:${ports.sqs}`);
    expect(info.pid).toBe(stack.child.pid);
  });

  it('answers an unknown provider with 404 JSON', async () => {
    const response = await fetch(`${info.httpUrl}/webhooks/stripe`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect((await response.json()) as object).toHaveProperty('message', 'Not Found');

    // A malformed escape, or a name only Object.prototype has, is an unknown route too.
    for (const path of ['/webhooks/%E0%A4%A', '/webhooks/constructor']) {
      const other = await fetch(`${info.httpUrl}${path}`, { method: 'POST', body: '{}' });
      expect({ path, status: other.status }).toEqual({ path, status: 404 });
      expect((await other.json()) as object).toHaveProperty('message', 'Not Found');
    }
  });

  it('every sample of every provider, sent over HTTP, is handled exactly once and leaves each entity at its latest event', async () => {
    const expectedSamples = PROVIDER_NAMES.reduce((sum, provider) => sum + samplesOf(provider).size, 0);

    const sent = await script('local/send.ts', ['all', 'all', '--json'], stateDir);

    expect(sent.stderr).not.toMatch(/send:/);
    expect(sent.code).toBe(0);
    const answers = sent.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { provider: string; status: number; body: string });
    expect(answers).toHaveLength(expectedSamples);
    for (const answer of answers) expect(answer.status).toBe(200);
    const accepted = answers
      .map((a) => JSON.parse(a.body) as { status: string; id?: string })
      .filter((body) => body.status === 'accepted')
      .map((body) => body.id);
    expect(accepted.length).toBeGreaterThan(0);

    // Handled = every accepted id has its "event handled" line and the handler queue holds nothing more.
    const sqs = localClients(info.endpoints).sqs;
    const handledIds = () =>
      jsonLines(stack.lines)
        .filter((line) => line.message === 'event handled')
        .map((line) => String(line.eventId));
    await until('the event handler to drain its queue', async () => {
      if (!accepted.every((id) => handledIds().includes(id ?? ''))) return false;
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: info.handlerQueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return (
        Attributes.ApproximateNumberOfMessages === '0' &&
        Attributes.ApproximateNumberOfMessagesNotVisible === '0'
      );
    });
    sqs.destroy();
    expect([...handledIds()].sort()).toEqual([...accepted].sort());

    // The stored events, read with the operator CLI, and the state the handler kept for each entity.
    const listed = await script('local/ops.ts', ['--json', 'events', 'list', '--limit', '1000'], stateDir);
    expect(listed.code).toBe(0);
    const stored = JSON.parse(listed.stdout) as {
      id: string;
      provider: string;
      subject: string;
      time: string;
      receivedAt: string;
    }[];
    expect(stored.map((e) => e.id).sort()).toEqual([...accepted].sort());

    const clients = localClients(info.endpoints);
    const states = new EntityStateStore(new EventStore(clients.dynamodb, info.table));
    const entities = new Map<string, typeof stored>();
    for (const event of stored) {
      const key = `${event.provider} ${event.subject}`;
      entities.set(key, [...(entities.get(key) ?? []), event]);
    }
    for (const events of entities.values()) {
      const order = (e: (typeof stored)[number]) => orderKey({ time: e.time, receivedat: e.receivedAt });
      const latest = events.reduce((a, b) => (order(b) > order(a) ? b : a));
      const state = await states.get(latest.provider, latest.subject);
      const tied = events.filter((e) => order(e) === order(latest)).map((e) => e.id);
      expect(tied).toContain(state?.lastEventId);
    }
    clients.dynamodb.destroy();
    clients.sns.destroy();
    clients.sqs.destroy();

    const [first] = [...entities.values()].map((events) => events[0]);
    const entity = await script(
      'local/ops.ts',
      ['--json', 'entity', first?.provider ?? '', first?.subject ?? ''],
      stateDir,
    );
    expect(entity.code).toBe(0);
    const shown = JSON.parse(entity.stdout) as { state: { lastEventId: string } | null; history: unknown[] };
    expect(shown.state?.lastEventId).toBeDefined();
    // The state is named by id, type and outcome; its payload (personal data) is not printed.
    expect(entity.stdout).not.toMatch(/"data"/);
    expect(shown.history).toHaveLength(entities.get(`${first?.provider} ${first?.subject}`)?.length ?? -1);

    // Every sample went through the stack: its logs hold none of their personal values.
    const logged = [...stack.lines, ...stack.stderr().split('\n')];
    expect(personalDataIn(logged, personalValues(PROVIDER_NAMES))).toEqual([]);
    // Budget: 3 scripts (SCRIPT_TIMEOUT_MS each) + the 30 s drain wait + the reads, within the timeout.
  }, 120_000);

  it('passes a non-text body to the handler byte for byte (base64, as API Gateway does)', async () => {
    // Not valid UTF-8: only exact bytes keep the signature valid; read as text, the body would change.
    const body = Buffer.concat([
      Buffer.from('{"eventId":"EV-BIN","note":"'),
      Buffer.from([0xe9, 0xff]),
      Buffer.from('"}'),
    ]);
    const keys = loadLocalKeys(info.keysFile, {});
    const headers = {
      ...signerOf('apara').sign(body, keys.apara?.signingKey ?? '', new Date()),
      'content-type': 'application/octet-stream',
    };

    const response = await fetch(info.webhookUrls.apara ?? '', { method: 'POST', headers, body });

    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe('quarantined');
    // The list names the record without its body or headers (personal data); `events show` has both.
    const listed = await script('local/ops.ts', ['--json', 'quarantine', 'list'], stateDir);
    expect(listed.code).toBe(0);
    const records = JSON.parse(listed.stdout) as { pk: string; status: string }[];
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ pk: expect.stringMatching(/^apara#q#/), status: 'quarantined' });
    expect(listed.stdout).not.toMatch(/rawBody|headers|EV-BIN/);
    const shown = await script('local/ops.ts', ['--json', 'events', 'show', records[0]?.pk ?? ''], stateDir);
    expect(shown.code).toBe(0);
    const items = JSON.parse(shown.stdout) as { quarantine: { rawBodyBase64?: string } }[];
    expect(items.map((r) => r.quarantine.rawBodyBase64)).toEqual([body.toString('base64')]);
  }, 60_000);

  it('piped to a reader that has gone (`| head`), ops ends quietly with exit 0', async () => {
    for (const args of [
      ['events', 'list', '--limit', '1000'],
      ['--json', 'events', 'list', '--limit', '1000'],
      ['events', 'show', 'apara#EV-241127050915602'],
    ]) {
      const run = await closedReader('local/ops.ts', args, stateDir);
      expect({ args, code: run.code, signal: run.signal }).toEqual({ args, code: 0, signal: null });
      expect(run.stderr).not.toMatch(/EPIPE|^\s+at /m);
    }
  }, 60_000);

  it('send --tamper and --stale are refused (401), send --invalid is quarantined', async () => {
    const tampered = await script(
      'local/send.ts',
      ['apara', 'order.completed', '--tamper', '--json'],
      stateDir,
    );
    const stale = await script(
      'local/send.ts',
      ['openpoly', 'mini_app.trade.processed', '--stale', '--json'],
      stateDir,
    );
    const invalid = await script(
      'local/send.ts',
      ['apara', 'order.completed', '--invalid', '--json'],
      stateDir,
    );
    const answer = (run: { stdout: string }) =>
      JSON.parse(run.stdout.trim()) as { status: number; body: string };

    expect(tampered.code).toBe(1);
    expect(answer(tampered)).toMatchObject({ status: 401 });
    expect(JSON.parse(answer(tampered).body)).toEqual({ status: 'unauthorized', reason: 'bad_signature' });
    expect(stale.code).toBe(1);
    expect(answer(stale)).toMatchObject({ status: 401 });
    expect(JSON.parse(answer(stale).body)).toEqual({ status: 'unauthorized', reason: 'stale_timestamp' });
    expect(invalid.code).toBe(0);
    expect(answer(invalid)).toMatchObject({ status: 200 });
    expect(JSON.parse(answer(invalid).body)).toMatchObject({
      status: 'quarantined',
      reason: expect.stringContaining('got string of length 12'),
    });

    // APARA signs no timestamp: --stale says so instead of sending something that would pass.
    const unstale = await script('local/send.ts', ['apara', 'order.completed', '--stale'], stateDir);
    expect(unstale.code).toBe(1);
    expect(unstale.stderr).toMatch(
      /^send: apara signs no timestamp.*--stale works with openpoly, gnosis-pay/m,
    );
  }, 60_000);

  it('stops on SIGINT: no Java or Node process left, every port free, the stack file gone', async () => {
    processes = await descendants(stack.child.pid ?? 0);
    expect(processes.map((p) => p.command)).toContain('java');

    stack.child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      stack.exited,
      new Promise<'still running'>((r) => {
        timer = setTimeout(() => r('still running'), 20_000);
      }),
    ]).finally(() => clearTimeout(timer));

    expect(exit).toEqual({ code: 0, signal: null });
    // tsx's esbuild helper notices its parent is gone a moment later; give the tree time to wind down.
    await until(
      'every process of the stack to exit',
      () => processes.every(({ pid }) => !isAlive(pid)),
      15_000,
    ).catch(() => undefined);
    for (const { pid, command } of processes)
      expect({ pid, command, alive: isAlive(pid) }).toEqual({ pid, command, alive: false });
    expect(isAlive(stack.child.pid ?? 0)).toBe(false);
    await assertPortFree(ports.http, 'HTTP');
    await assertPortFree(ports.dynamodb, 'DynamoDB Local');
    await assertPortFree(ports.sqs, 'fauxqs');
    expect(() => readFileSync(join(stateDir, 'stack.json'))).toThrow();
    // Budget: 20 s for the exit + 15 s for the tree + ps and the port checks, within the timeout.
  }, 60_000);
});

describe('npm start with a port in use', () => {
  let busy: Server;
  afterEach(() => busy?.close());

  it('says so in one line and exits with code 1, starting nothing', async () => {
    busy = createServer();
    const port = await new Promise<number>((resolve) =>
      busy.listen(0, '127.0.0.1', () => resolve((busy.address() as { port: number }).port)),
    );
    const [dynamodb = 0, sqs = 0] = await distinctFreePorts(2);
    const stateDir = mkdtempSync(join(tmpdir(), 'webhook-local-'));

    const stack = startStack({
      PORT: String(port),
      DYNAMODB_PORT: String(dynamodb),
      SQS_PORT: String(sqs),
      LOCAL_STATE_DIR: stateDir,
    });
    const { code } = await stack.exited;

    expect(code).toBe(1);
    // One line says it; warnings the runtime may print around it are not ours to count, but no stack trace.
    const lines = stack.stderr().trim().split('\n');
    const said = lines.filter((line) => new RegExp(`Port ${port} .*already in use`).test(line));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/Cannot start:/);
    expect(lines.filter((line) => /^\s+at /.test(line))).toEqual([]);
    await assertPortFree(dynamodb, 'DynamoDB Local');
    rmSync(stateDir, { recursive: true, force: true });
  }, 30_000);
});

/** Starts the stack and waits for its "ready" line; fails with its stderr if it exits first. */
async function readyStack(env: Record<string, string>, options: { viaNpm?: boolean } = {}) {
  const stack = startStack(env, options);
  await until(
    'the stack to print "ready"',
    () => {
      if (stack.child.exitCode !== null) throw new Error(`npm start exited early:\n${stack.stderr()}`);
      return stack.lines.some((line) => line.includes('webhook intake ready'));
    },
    45_000,
  );
  return stack;
}

async function stackEnv() {
  const [http = 0, dynamodb = 0, sqs = 0] = await distinctFreePorts(3);
  const stateDir = mkdtempSync(join(tmpdir(), 'webhook-local-'));
  return {
    ports: { http, dynamodb, sqs },
    stateDir,
    env: {
      PORT: String(http),
      DYNAMODB_PORT: String(dynamodb),
      SQS_PORT: String(sqs),
      LOCAL_STATE_DIR: stateDir,
    },
  };
}

async function expectAllGone(
  processes: readonly { pid: number; command: string }[],
  ports: Record<string, number>,
) {
  await until(
    'every process of the stack to exit',
    () => processes.every(({ pid }) => !isAlive(pid)),
    15_000,
  ).catch(() => undefined);
  for (const { pid, command } of processes)
    expect({ pid, command, alive: isAlive(pid) }).toEqual({ pid, command, alive: false });
  for (const [what, port] of Object.entries(ports)) await assertPortFree(port, what);
}

describe('npm start as process managers and people stop it', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const step of cleanup.splice(0)) step();
  });

  it('SIGTERM to the `npm start` process (npm itself) stops npm, the app and Java, and frees every port', async () => {
    const { ports, stateDir, env } = await stackEnv();
    const stack = await readyStack(env, { viaNpm: true });
    const processes = await descendants(stack.child.pid ?? 0);
    cleanup.push(() => {
      for (const { pid } of processes) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
    });
    // The app (npm execs it: no shell in between), Java and its watchdog shell.
    expect(processes.map((p) => p.command)).toContain('java');
    expect(processes.length).toBeGreaterThanOrEqual(3);

    stack.child.kill('SIGTERM');
    const exit = await stack.exited;

    expect(exit.code).toBe(0);
    expect(jsonLines(stack.lines).map((l) => l.message)).toEqual(
      expect.arrayContaining(['SIGTERM: stopping', 'webhook intake stopped']),
    );
    await expectAllGone(processes, ports);
  }, 90_000);

  it('after a SIGKILL of the app, Java does not stay behind and the next start works on the same ports', async () => {
    const { ports, stateDir, env } = await stackEnv();
    const first = await readyStack(env);
    const processes = await descendants(first.child.pid ?? 0);
    cleanup.push(() => {
      for (const { pid } of processes) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
    });
    expect(processes.map((p) => p.command)).toContain('java');

    first.child.kill('SIGKILL');
    await first.exited;
    await until(
      'the Java of the killed app to exit',
      () => processes.every(({ pid }) => !isAlive(pid)),
      15_000,
    );

    const second = await readyStack(env);
    const secondProcesses = await descendants(second.child.pid ?? 0);
    cleanup.push(() => {
      for (const { pid } of secondProcesses) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    });
    second.child.kill('SIGINT');
    expect((await second.exited).code).toBe(0);
    await expectAllGone(secondProcesses, ports);
  }, 120_000);

  it('Ctrl-C during start-up says so, and leaves nothing running', async () => {
    const { ports, stateDir, env } = await stackEnv();
    const stack = startStack(env);
    cleanup.push(() => rmSync(stateDir, { recursive: true, force: true }));
    await until('the first start-up step', () =>
      stack.lines.some((l) => l.includes('starting DynamoDB Local')),
    );

    const processes = await descendants(stack.child.pid ?? 0);
    stack.child.kill('SIGINT');
    const exit = await stack.exited;

    expect(exit.code).toBe(0);
    const said = stack.lines.join('\n');
    expect(said).toMatch(/SIGINT: stopping after the current start-up step/);
    expect(said).toMatch(/stopped during start-up; nothing is left running/);
    expect(said).not.toMatch(/webhook intake ready/);
    expect(stack.stderr()).not.toMatch(/^\s+at /m);
    await expectAllGone(processes, ports);
  }, 90_000);

  it('piped to a reader that has gone (`npm start | head -3`), stops as on Ctrl-C: exit 0, nothing left', async () => {
    const { ports, stateDir, env } = await stackEnv();
    cleanup.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const run = await closedReader('local/start.ts', [], stateDir, env);

    expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
    expect(run.stderr).not.toMatch(/EPIPE|^\s+at /m);
    await expectAllGone([], ports);
  }, 90_000);

  it('a port still held after a killed start is waited for, then the leftover is named', async () => {
    const { ports, stateDir, env } = await stackEnv();
    cleanup.push(() => rmSync(stateDir, { recursive: true, force: true }));
    // What a killed start leaves: its stack file (a pid that is gone), and something on its DynamoDB port.
    const gone = spawn(process.execPath, ['-e', '']);
    await once(gone, 'exit');
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(ports.dynamodb, '127.0.0.1', resolve));
    cleanup.push(() => holder.close());
    writeFileSync(
      join(stateDir, 'stack.json'),
      JSON.stringify({
        pid: gone.pid,
        startedAt: '2024-11-27T05:00:00.000Z',
        httpUrl: `http://127.0.0.1:${ports.http}`,
        endpoints: { dynamodb: `http://127.0.0.1:${ports.dynamodb}`, sqs: `http://127.0.0.1:${ports.sqs}` },
        dynamodbProcessGroup: 4242,
      }),
    );

    const stack = startStack(env);
    const exit = await stack.exited;

    expect(exit.code).toBe(1);
    expect(stack.lines.join('\n')).toMatch(
      new RegExp(
        `port ${ports.dynamodb} is still held by the earlier npm start \\(pid ${gone.pid}, killed\\)`,
      ),
    );
    const said = stack
      .stderr()
      .trim()
      .split('\n')
      .filter((line) => line.includes('Cannot start'));
    expect(said).toEqual([
      expect.stringMatching(
        new RegExp(
          `Port ${ports.dynamodb} .* is still in use, most likely by what the earlier npm start \\(pid ${gone.pid},.*process group 4242 \\(stop it with \`kill -- -4242\`\\)`,
        ),
      ),
    ]);
  }, 60_000);

  it('without java on the PATH, says in one line that Java 17 is needed and how to get it', async () => {
    const { stateDir, env } = await stackEnv();
    cleanup.push(() => rmSync(stateDir, { recursive: true, force: true }));
    // Only the directory of this Node: no java there.
    const stack = startStack({ ...env, PATH: dirname(process.execPath) });
    const exit = await stack.exited;

    expect(exit.code).toBe(1);
    const lines = stack.stderr().trim().split('\n');
    expect(lines.filter((line) => /Java 17/.test(line))).toEqual([
      expect.stringMatching(
        /^Cannot start: DynamoDB Local needs Java 17 .*apt-get install openjdk-17-jre-headless/,
      ),
    ]);
    expect(lines.filter((line) => /^\s+at |ENOENT/.test(line))).toEqual([]);
  }, 60_000);
});
