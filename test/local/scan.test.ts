import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AttributeValue, BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { fitWidths } from '../../local/ops/output.ts';
import { estimateScan, parallelScan, type ScanKey } from '../../local/ops/scanProgress.ts';
import { writeStackFile } from '../../local/stackFile.ts';
import { eventItem } from '../../shared/eventStore.ts';
import { sample } from '../support/samples.ts';
import { publishedEvent, stopStreamPublishers, testStack, useLocalServers } from '../support/testStack.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const localServers = useLocalServers();

/** Items in the table: enough that a scan takes many pages in every segment. */
const ITEMS = 20_000;
/** Bytes of filler per item, so the table holds tens of megabytes (DynamoDB pages hold 1 MB). */
const FILLER_BYTES = 1500;

/** Runs `ops` as the operator does, against the stack file in `stateDir`; `onStderr` sees stderr as it comes. */
function ops(
  stateDir: string,
  args: string[],
  onStderr: (text: string, child: ReturnType<typeof spawn>) => void = () => undefined,
) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/ops.ts', ...args], {
    cwd: ROOT,
    // NO_COLOR: CI=true (as CI runs) would turn colors on for a pipe.
    env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1', LOCAL_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    onStderr(stderr, child);
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
}

describe('a scan of a large table, as the operator runs it', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'webhook-scan-'));
  /** The messages on the events topic since the set-up (an audit queue subscribes to it). */
  let audit: () => Promise<string[]> = async () => [];

  beforeAll(async () => {
    const t = await testStack(localServers());
    // One real stored event, cloned under new ids: every item reads back as an event.
    await t.deliver('apara', sample('apara', 'order.completed'));
    const [message] = await t.auditMessages();
    audit = () => t.auditMessages();
    // The filler items are stored events: no stream publisher may publish them (the replay test
    // checks that nothing reaches the topic).
    await stopStreamPublishers();
    const event = publishedEvent(message ?? '');
    const filler = 'x'.repeat(FILLER_BYTES);
    const now = Date.now();
    const item = (i: number): Record<string, AttributeValue> => ({
      ...eventItem(
        `apara#EV-SCAN-${i}`,
        { ...event, id: `EV-SCAN-${i}`, receivedat: new Date(now - i).toISOString() },
        { retentionSeconds: 86_400, now: new Date(now) },
      ),
      f: { S: filler }, // an attribute the store does not know: makes the items ~1.8 KB
    });
    const batches: Record<string, AttributeValue>[][] = [];
    for (let i = 0; i < ITEMS; i += 25)
      batches.push(Array.from({ length: Math.min(25, ITEMS - i) }, (_, j) => item(i + j)));
    const write = async (batch: Record<string, AttributeValue>[]) => {
      let requests = batch.map((Item) => ({ PutRequest: { Item } }));
      while (requests.length > 0) {
        const out = await t.clients.dynamodb.send(
          new BatchWriteItemCommand({ RequestItems: { [t.resources.table]: requests } }),
        );
        requests = (out.UnprocessedItems?.[t.resources.table] ?? []) as typeof requests;
      }
    };
    const queue = [...batches];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let batch = queue.shift(); batch; batch = queue.shift()) await write(batch);
      }),
    );
    writeStackFile(
      {
        ...t.resources,
        pid: process.pid,
        startedAt: new Date().toISOString(),
        httpUrl: 'http://127.0.0.1:1',
        webhookUrls: {},
        endpoints: localServers().endpoints,
        region: 'us-east-1',
        keysFile: join(stateDir, 'keys.json'),
      },
      stateDir,
    );
  }, 180_000);

  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('prints the estimate, reads in 4 segments with progress and read units, then lists what it found', async () => {
    const run = await ops(stateDir, [
      '--json',
      '--yes',
      '--segments',
      '4',
      '--confirm-above',
      '10000',
      'events',
      'list',
      '--provider',
      'apara',
      '--limit',
      '3',
    ]);

    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /reads every item: ~20,00\d items, [\d.]+ MB; ~[\d,]+ read units, ~\$[\d.]+ at the on-demand price/,
    );
    expect(run.stderr).toMatch(/4 segments in parallel/);
    const progress = run.stderr.split('\n').filter((line) => line.startsWith('scan '));
    expect(progress.length).toBeGreaterThan(0);
    for (const line of progress)
      expect(line).toMatch(
        /^scan \d+% · [\d,]+ of ~20,00\d items read · [\d,]+ found · 4 segments · [\d,.]+ read units · ETA /,
      );
    expect(run.stderr).toMatch(/scanned 20,00\d items in 4 segments: [\d,.]+ read units/);
    const listed = JSON.parse(run.stdout) as { id: string }[];
    expect(listed).toHaveLength(3);
    expect(listed.every((e) => /^EV-/.test(e.id))).toBe(true);
  }, 120_000);

  it('refuses a large scan from a script without --yes, in one line, reading nothing', async () => {
    const run = await ops(stateDir, ['--json', '--confirm-above', '10000', 'events', 'list']);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/reads every item: ~20,00\d items/);
    expect(run.stderr).toMatch(
      /^ops: this scan reads ~20,00\d items \(more than 10,000\): run it again with --yes/m,
    );
    expect(run.stderr).not.toMatch(/^scan /m);
    expect(run.stdout).toBe('');
  }, 60_000);

  it('stops cleanly on Ctrl-C (SIGINT) with what it found so far, exit code 130', async () => {
    const ctrlC = ctrlCAtFirstProgressLine();
    const run = await ops(
      stateDir,
      [
        '--json',
        '--yes',
        '--segments',
        '1',
        '--confirm-above',
        '10000',
        'events',
        'list',
        '--limit',
        '100000',
      ],
      ctrlC.atFirstProgressLine,
    );

    expect(ctrlC.sent()).toBe(true);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stderr).toMatch(
      /stopped \(Ctrl-C\) after [\d,]+ of ~20,00\d items read, [\d,.]+ read units in \d+s: what was found so far \([\d,]+\) is partial/,
    );
    expect(run.code).toBe(130);
    const found = JSON.parse(run.stdout) as unknown[];
    expect(found.length).toBeGreaterThan(0);
    expect(found.length).toBeLessThan(ITEMS);
  }, 120_000);

  it('a replay stopped by Ctrl-C during its scan publishes nothing, and says so', async () => {
    const ctrlC = ctrlCAtFirstProgressLine();
    const run = await ops(
      stateDir,
      [
        '--yes',
        '--segments',
        '1',
        '--confirm-above',
        '10000',
        'replay',
        '--provider',
        'apara',
        '--since',
        '1d',
      ],
      ctrlC.atFirstProgressLine,
    );

    expect(ctrlC.sent()).toBe(true);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stderr).toMatch(
      /^ops: stopped during the scan, after [\d,]+ of ~20,00\d items read, [\d,.]+ read units: nothing was done$/m,
    );
    expect(run.stdout).not.toMatch(/replayed/);
    expect(run.code).toBe(130);
    expect(await audit()).toEqual([]);
  }, 120_000);
});

describe('parallelScan', () => {
  it('reads every segment to its end and adds up the read units', async () => {
    const pages = new Map<number, number>();
    const result = await parallelScan(
      async (segment, total, start: ScanKey | undefined) => {
        expect(total).toBe(3);
        const n = Number(start?.n?.N ?? 0);
        pages.set(segment, (pages.get(segment) ?? 0) + 1);
        return {
          items: [`${segment}.${n}`],
          consumedRcu: 0.5,
          scannedCount: 10,
          ...(n < 2 ? { lastEvaluatedKey: { n: { N: String(n + 1) } } } : {}),
        };
      },
      { segments: 3, estimatedItems: 90 },
    );
    expect(result.complete).toBe(true);
    expect([...result.items].sort()).toEqual(['0.0', '0.1', '0.2', '1.0', '1.1', '1.2', '2.0', '2.1', '2.2']);
    expect(result).toMatchObject({ scanned: 90, found: 9, readUnits: 4.5, segments: 3 });
    expect([...pages.values()]).toEqual([3, 3, 3]);
  });

  it('throws the error of a failing page and stops the other segments', async () => {
    let calls = 0;
    await expect(
      parallelScan(
        async (segment) => {
          calls += 1;
          if (segment === 1) throw new Error('throttled');
          await new Promise((r) => setTimeout(r, 5));
          return { items: [], consumedRcu: 1, lastEvaluatedKey: { n: { N: '1' } } };
        },
        { segments: 2 },
      ),
    ).rejects.toThrow('throttled');
    expect(calls).toBeLessThan(5);
  });
});

describe('estimateScan', () => {
  it('half a read unit per 4 KB, at the on-demand price', () => {
    // 260 M items of 1 KB: 30 days at 100 webhooks a second.
    const estimate = estimateScan({ itemCount: 260_000_000, sizeBytes: 260_000_000 * 1024 });
    expect(estimate.readUnits).toBe(32_500_000);
    expect(estimate.costUsd).toBeCloseTo(4.0625, 4);
  });
});

describe('fitWidths', () => {
  it('cuts the first group of columns before the next, never below a few characters', () => {
    // 19 + 40 + 30 + 9 + 30 and four gaps of 2 = 136 columns, in 80.
    expect(fitWidths([19, 40, 30, 9, 30], [[2, 4], [1]], 80)).toEqual([19, 28, 8, 9, 8]);
    expect(fitWidths([19, 40, 30], [[2]], 200)).toEqual([19, 40, 30]);
  });
});

/**
 * Ctrl-C for an `ops` run, sent once at its first scan progress line: a tenth of the table read, nine
 * tenths left. `sent()` says whether it was.
 */
function ctrlCAtFirstProgressLine() {
  let sent = false;
  return {
    atFirstProgressLine(stderr: string, child: import('node:child_process').ChildProcess) {
      if (!sent && /^scan /m.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    },
    sent: () => sent,
  };
}
