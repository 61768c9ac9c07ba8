/**
 * `npm run bench`: bundle sizes, cold start, per-event CPU, write units, end-to-end latency,
 * throughput and dollars per million webhooks. Prints tables with PASS/MISS against the targets and
 * writes everything as JSON to `.bench/results-<time>.json` (and `.bench/latest.json`).
 *
 * Options: --only=bundles,cold,cpu,writes,latency,throughput,cost   --skip=…   --duration=10 (throughput s)
 *          --quick (fewer runs; for trying the bench, not for figures)
 */
import './benchEnv.ts';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { LocalEndpoints } from '../local/awsClients.ts';
import {
  type BundleResult,
  bundleLambda,
  LAMBDA_NODE_TARGET,
  LAMBDAS,
  REFERENCE_BUNDLES,
  ROOT,
} from './bundle.ts';
import { startReadyChild } from './childProcess.ts';
import { type ColdStartResult, measureColdStart } from './coldStart.ts';
import {
  DEFAULT_ASSUMPTIONS,
  handlerCost,
  ingestPathCost,
  type MeasuredInputs,
  sensitivity,
} from './cost.ts';
import { type CpuResult, measureCpuApart } from './cpu.ts';
import { type LatencyResult, measureLatency } from './latency.ts';
import { formatBytes, round, table, verdict } from './stats.ts';
import { measureThroughput, type ThroughputResult } from './throughput.ts';
import { measureWriteUnits, type PathCapacity, type WriteUnitsReport } from './writeUnits.ts';

const TARGETS = {
  cpuRatio: 2,
  coldStartAboveBareMs: 40,
  latencyRatioP50: 1.1,
  ingestDollarsPerMillion: 3,
};

/**
 * Outcomes the default handler raises an operator alert for: mirrors `ATTENTION` in
 * functions/event-handler/eventHandler.ts (not exported there); change both together.
 */
const ATTENTION_OUTCOMES = new Set(['action_required', 'failed']);

const STAGES = ['bundles', 'cold', 'cpu', 'writes', 'latency', 'throughput', 'cost'] as const;
type Stage = (typeof STAGES)[number];

function parseArgs(argv: readonly string[]) {
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const list = (name: string) => (value(name) ?? '').split(',').filter(Boolean) as Stage[];
  const only = list('only');
  const skip = list('skip');
  const stages = new Set<Stage>((only.length ? only : STAGES).filter((s) => !skip.includes(s)));
  return { stages, quick: argv.includes('--quick'), duration: Number(value('duration') ?? 10) };
}

interface Results {
  startedAt: string;
  machine: { cores: number; cpuModel: string; memoryGb: number; node: string; platform: string };
  bundles?: Record<string, Omit<BundleResult, 'packages'> & { topPackages: BundleResult['packages'] }>;
  coldStart?: ColdStartResult[];
  cpu?: CpuResult[];
  writeUnits?: WriteUnitsReport;
  latency?: LatencyResult;
  throughput?: ThroughputResult;
  cost?: unknown;
}

const print = (text = '') => process.stdout.write(`${text}\n`);
const heading = (text: string) => print(`\n== ${text} ${'='.repeat(Math.max(0, 96 - text.length))}`);

async function main(): Promise<void> {
  const { stages, quick, duration } = parseArgs(process.argv.slice(2));
  const results: Results = {
    startedAt: new Date().toISOString(),
    machine: {
      cores: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGb: round(totalmem() / 1024 ** 3, 1),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
  };
  print(
    `webhook-intake bench — ${results.machine.cpuModel}, ${results.machine.cores} cores, Node ${process.version}${quick ? ' (--quick: not for figures)' : ''}`,
  );

  // Bundles are needed by the cold-start stage too.
  const bundleDir = join(ROOT, '.bench/bundles');
  let bundleFiles: Record<string, string> = {};
  if (stages.has('bundles') || stages.has('cold')) {
    const bundles: NonNullable<Results['bundles']> = {};
    for (const [name, entry] of Object.entries(LAMBDAS)) {
      const { packages, ...rest } = await bundleLambda(entry, join(bundleDir, name));
      bundles[name] = { ...rest, topPackages: packages.slice(0, 8) };
    }
    bundleFiles = Object.fromEntries(Object.entries(bundles).map(([name, b]) => [name, b.file]));
    const references: Record<string, BundleResult> = {};
    for (const [name, entry] of Object.entries(REFERENCE_BUNDLES)) {
      const reference = await bundleLambda(entry, join(bundleDir, name.replace(/\W+/g, '-')));
      references[`${name} (reference)`] = reference;
      bundleFiles[`${name} (reference)`] = reference.file;
    }
    results.bundles = bundles;
    heading(
      `1. Bundle size (esbuild as NodejsFunction: ESM, ${LAMBDA_NODE_TARGET}, minified, AWS SDK bundled)`,
    );
    const budgets = JSON.parse(readFileSync(join(ROOT, 'bench/budgets.json'), 'utf8')) as Record<
      string,
      { gzipBudgetBytes: number } | string
    >;
    print(
      table(
        [
          'lambda',
          'raw',
          'gzip',
          'gzip budget',
          '',
          'signing code',
          'heaviest packages (raw bytes in bundle)',
        ],
        Object.entries(bundles)
          .map(([name, b]) => {
            const budget = budgets[name];
            const limit = typeof budget === 'object' ? budget.gzipBudgetBytes : Number.NaN;
            return [
              name,
              formatBytes(b.rawBytes),
              formatBytes(b.gzipBytes),
              formatBytes(limit),
              verdict(b.gzipBytes <= limit),
              b.signingFiles.length === 0 ? 'none' : b.signingFiles.join(', '),
              b.topPackages
                .slice(0, 4)
                .map((p) => `${p.name} ${formatBytes(p.bytes)}`)
                .join(', '),
            ];
          })
          .concat(
            Object.entries(references).map(([name, b]) => [
              name,
              formatBytes(b.rawBytes),
              formatBytes(b.gzipBytes),
              '-',
              '',
              '',
              '',
            ]),
          ),
      ),
    );
  }

  if (stages.has('cold')) {
    heading('2. Cold start (fresh node process importing the bundle, no NODE_OPTIONS as in Lambda; median)');
    const cold = measureColdStart(bundleFiles, quick ? 5 : 15);
    results.coldStart = cold;
    print(
      table(
        [
          'process',
          'spawn→exit ms',
          'import() ms',
          'above bare node',
          `≤ ${TARGETS.coldStartAboveBareMs} ms`,
        ],
        cold.map((c) => [
          c.name,
          c.spawnMs,
          c.name.startsWith('bare node') ? '-' : c.importMs,
          c.name.startsWith('bare node') ? '-' : c.aboveBareMs,
          LAMBDAS[c.name as keyof typeof LAMBDAS]
            ? verdict(c.aboveBareMs <= TARGETS.coldStartAboveBareMs)
            : '',
        ]),
      ),
    );
    print(`runs: ${cold[0]?.runs} per process, interleaved; env: dummy table/topic/secret values`);
  }

  if (stages.has('cpu')) {
    heading(
      '3. Per-event CPU of intake() (no AWS calls), warm, largest sample, each provider in its own process',
    );
    const cpu = measureCpuApart();
    results.cpu = cpu;
    print(
      table(
        [
          'provider',
          'sample',
          'bytes',
          'intake µs',
          'floor µs',
          'ratio',
          `≤ ${TARGETS.cpuRatio}×`,
          'deflate µs (events > 1 KB)',
          'event → packed',
        ],
        cpu.map((c) => [
          c.provider,
          c.sample,
          c.bodyBytes,
          c.intakeMicros,
          c.floorMicros,
          `${c.ratio}×`,
          verdict(c.ratio <= TARGETS.cpuRatio),
          c.packMicros,
          `${c.eventJsonBytes} → ${c.packedBytes} B`,
        ]),
      ),
    );
    print(
      'floor = JSON.parse + the signature check alone (HMAC-SHA256 + compare, or one Ed25519 verify); each provider is\n' +
        'measured in a Node process of its own, as its ingest function runs it (see measureCpuApart)',
    );
    print(
      table(
        [
          'where intake time goes (µs)',
          'verify',
          'lossless parse',
          '(JSON.parse)',
          'validate',
          'key+normalize',
        ],
        cpu.map((c) => [
          c.provider,
          c.stages.verify,
          c.stages.losslessParse,
          c.stages.jsonParse,
          c.stages.validate,
          c.stages.normalize,
        ]),
      ),
    );
  }

  const needsServers = ['writes', 'latency', 'cost'].some((s) => stages.has(s as Stage));
  if (needsServers) {
    const servers = await startReadyChild<{ endpoints: LocalEndpoints }>('bench/serversProcess.ts');
    try {
      if (stages.has('writes') || stages.has('cost')) {
        heading('4. DynamoDB capacity per path (DynamoDB Local, ReturnConsumedCapacity=INDEXES)');
        const writes = await measureWriteUnits(servers.info.endpoints);
        results.writeUnits = writes;
        const cell = (c: PathCapacity) =>
          `${c.writeUnits}${c.indexWrites ? ` (idx ${c.indexWrites})` : ''}${c.failedConditionalWriteUnits ? ` (cc ${c.failedConditionalWriteUnits})` : ''}${c.reads ? ` +${c.reads}R` : ''}`;
        print(
          table(
            [
              'sample',
              'item B (stored/as JSON)',
              'accepted',
              'duplicate',
              'conflict',
              'publish failed',
              'handler',
            ],
            writes.samples.map((s) => [
              `${s.provider}/${s.sample}`,
              `${s.itemBytes} / ${s.itemBytesUnpacked}`,
              cell(s.accepted),
              cell(s.duplicate),
              cell(s.conflict),
              cell(s.publishFailed),
              `${cell(s.handler)} ${ATTENTION_OUTCOMES.has(s.handlerOutcome) ? '(alert)' : ''}`,
            ]),
          ),
        );
        print(
          'write units per event, table + index; idx = of which index writes; cc = failed conditional writes (not reported by\n' +
            'DynamoDB, billed per the item size: estimated); +R = read units. The stream publisher reads the table stream\n' +
            '(no charge for Lambda triggers) and touches no table item: 0 units on every path.',
        );
        const median = writes.samples[0];
        if (median) {
          const floorUnits = Math.ceil(median.itemBytes / 1024);
          print(
            `accepted event (median sample): ${median.accepted.writeUnits} WRU (${median.accepted.calls.PutItemCommand ?? 0} conditional put, ` +
              `item ${median.itemBytes} B); duplicate ${median.duplicate.writeUnits} WRU; target 1 and 1 → ` +
              verdict(median.accepted.writeUnits <= floorUnits && median.duplicate.writeUnits <= floorUnits),
          );
        }
      }
      if (stages.has('latency') || stages.has('cost')) {
        heading(
          '5. End-to-end latency (in-process ingest handler vs PutItem + Publish floor; local servers)',
        );
        const latency = await measureLatency(servers.info.endpoints, quick ? 100 : 400);
        results.latency = latency;
        print(
          table(
            ['path', 'p50 ms', 'p99 ms', 'mean ms', 'CPU ms/call'],
            [
              [
                `ingest handler (${latency.provider}/${latency.sample})`,
                latency.ingest.p50,
                latency.ingest.p99,
                latency.ingest.mean,
                latency.ingestCpuMs,
              ],
              [
                'floor: conditional PutItem + SNS Publish',
                latency.floor.p50,
                latency.floor.p99,
                latency.floor.mean,
                latency.floorCpuMs,
              ],
            ],
          ),
        );
        print(
          `ratio p50 ${latency.ratioP50}× (target ≤ ${TARGETS.latencyRatioP50}×) → ${verdict(latency.ratioP50 <= TARGETS.latencyRatioP50)}; ` +
            `${latency.runs} runs each, interleaved; logs ${latency.logBytesPerEvent} B/event in ${latency.logLinesPerEvent} lines`,
        );
        print(
          `event handler: ${latency.handler.events} events in ${latency.handler.batches} batches, ${latency.handler.wallMsPerEvent} ms wall and ` +
            `${latency.handler.cpuMsPerEvent} ms CPU per event, ${latency.handlerLogBytesPerEvent} B logs per event`,
        );
      }
    } finally {
      await servers.stop();
    }
  }

  if (stages.has('throughput')) {
    heading(`6. Throughput (npm start stack, autocannon, ${duration} s, unique signed events)`);
    const tp = await measureThroughput({ durationSeconds: quick ? Math.min(duration, 5) : duration });
    results.throughput = tp;
    print(
      table(
        [
          'provider/sample',
          'conns',
          'req/s',
          'accepted/s',
          'p50 ms',
          'p99 ms',
          'accepted',
          'lost',
          'doubled',
          'cores',
        ],
        [
          [
            `${tp.provider}/${tp.sample}`,
            tp.connections,
            tp.requestsPerSecond,
            tp.acceptedPerSecond,
            tp.latencyMs.p50,
            tp.latencyMs.p99,
            tp.accepted,
            `${tp.lostPublished} published, ${tp.lostHandled} handled`,
            tp.doubledPublished,
            tp.cores,
          ],
        ],
      ),
    );
    print(
      `answers: ${Object.entries(tp.statuses)
        .map(([k, v]) => `${k} ×${v}`)
        .join(', ')}; errors ${tp.errors}; drained in ${tp.drainSeconds} s; ` +
        `${tp.publishedNotAccepted} published but answered after the load stopped` +
        (tp.cpuMsPerEvent
          ? `\nCPU per accepted event: stack Node ${tp.cpuMsPerEvent.stackNode} ms, DynamoDB Local ${tp.cpuMsPerEvent.dynamoDbLocal} ms, load generator ${tp.cpuMsPerEvent.loadGenerator} ms`
          : ''),
    );
  }

  if (stages.has('cost') && results.writeUnits && results.latency) {
    heading('7. Dollars per million webhooks (us-east-1 list prices; see docs/COST.md)');
    const inputs = costInputs(results);
    const ingest = ingestPathCost(inputs);
    const handler = handlerCost(inputs);
    const ordinary = results.writeUnits.samples.find((w) => !ATTENTION_OUTCOMES.has(w.handlerOutcome));
    const ordinaryHandler = ordinary
      ? handlerCost({
          ...inputs,
          handlerWriteUnits: ordinary.handler.writeUnits,
          handlerReadUnits: ordinary.handler.reads,
          handlerAlerts: 0,
        })
      : undefined;
    const money = (d: number) => `$${d.toFixed(3)}`;
    print(
      table(
        ['ingest path, median sample', '$ / million', 'basis'],
        [
          ...ingest.core.map((l) => [l.item, money(l.perMillion), l.basis]),
          [
            '= stored and published',
            money(ingest.coreTotal),
            `target ≤ $${TARGETS.ingestDollarsPerMillion} → ${verdict(ingest.coreTotal <= TARGETS.ingestDollarsPerMillion)}`,
          ],
          ...ingest.extras.map((l) => [`+ ${l.item}`, money(l.perMillion), l.basis]),
          [
            '= everything the ingest path bills',
            money(ingest.fullTotal),
            verdict(ingest.fullTotal <= TARGETS.ingestDollarsPerMillion),
          ],
        ],
      ),
    );
    print(
      table(
        ['default handler, per event', '$ / million', 'basis'],
        [
          ...handler.lines.map((l) => [l.item, money(l.perMillion), l.basis]),
          [
            `= handler, ${results.writeUnits.samples[0]?.handlerOutcome} event`,
            money(handler.total),
            'median sample',
          ],
          ...(ordinaryHandler && ordinary
            ? [
                [
                  `= handler, ${ordinary.handlerOutcome} event`,
                  money(ordinaryHandler.total),
                  `${ordinary.handler.writeUnits} WRU, no alert (${ordinary.provider}/${ordinary.sample})`,
                ],
              ]
            : []),
        ],
      ),
    );
    const rows = sensitivity(inputs);
    print(
      table(
        [
          'sensitivity: memory MB',
          'round trips ms',
          'core speed vs here',
          'billed ms',
          'stored+published',
          'everything',
        ],
        rows
          .filter((r) => r.memoryMb === 512 || (r.roundTripsMs === 30 && r.relativeCore === 1))
          .map((r) => [
            r.memoryMb,
            r.roundTripsMs,
            `${round(1 / r.relativeCore, 2)}×`,
            r.billedMs,
            money(r.coreTotal),
            money(r.fullTotal),
          ]),
      ),
    );
    results.cost = {
      inputs,
      assumptions: DEFAULT_ASSUMPTIONS,
      ingest,
      handler,
      ordinaryHandler,
      sensitivity: rows,
    };
  }

  mkdirSync(join(ROOT, '.bench'), { recursive: true });
  const file = join(ROOT, '.bench', `results-${results.startedAt.replace(/[:.]/g, '-')}.json`);
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(file, json);
  writeFileSync(join(ROOT, '.bench', 'latest.json'), json);
  print(`\nresults: ${file}`);
}

/** The cost model's inputs from this run's measurements (median sample). */
function costInputs(results: Results): MeasuredInputs {
  const writes = results.writeUnits?.samples[0];
  const latency = results.latency;
  if (!writes || !latency) throw new Error('cost needs the write-unit and latency stages');
  const ingestBundle = results.coldStart?.find((c) => c.name === 'ingest');
  return {
    ingestCpuMs: latency.ingestCpuMs,
    ingestInitMs: ingestBundle ? Math.max(0, ingestBundle.aboveBareMs) : 100,
    ingestWriteUnits: writes.accepted.writeUnits,
    ingestReadUnits: writes.accepted.reads,
    itemBytes: writes.itemBytes,
    messageBytes: writes.messageBytes,
    bodyBytes: writes.bodyBytes,
    ingestLogBytes: latency.logBytesPerEvent,
    handlerCpuMs: latency.handler.cpuMsPerEvent,
    handlerWriteUnits: writes.handler.writeUnits,
    handlerReadUnits: writes.handler.reads,
    handlerAlerts: ATTENTION_OUTCOMES.has(writes.handlerOutcome) ? 1 : 0,
    handlerLogBytes: latency.handlerLogBytesPerEvent,
  };
}

await main();
