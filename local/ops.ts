/**
 * `npm run ops -- <command>`: the operator's view of the event store, against the local stack
 * (`.local/stack.json`) or, with `--table` / `--topic-arn` / `--region` (or `--outputs`), a deployed
 * stack with the default AWS credentials. `--json` prints one JSON document for scripts.
 *
 * Lists print keys, statuses, times, reasons, ids and types only: a body can hold personal data, so
 * it is printed only by `events show <key>`, which the operator asks for one record at a time.
 */
import { pathToFileURL } from 'node:url';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { OUTCOMES, type Outcome } from '../shared/contract/eventContract.ts';
import type { EntityState } from '../shared/entityState.ts';
import type { StoredEvent, StoredItem } from '../shared/eventStore.ts';
import { PROVIDER_NAMES } from '../shared/providers/registry.ts';
import { exitQuietlyWhenOutputCloses, plural, reportFailure } from './cli.ts';
import { iamPolicyCommand } from './ops/iamPolicy.ts';
import { keysCommand } from './ops/keys.ts';
import {
  colorOutcome,
  colorStatus,
  itemJson,
  makeOutput,
  type Output,
  parseTime,
  shortTime,
  timeRange,
} from './ops/output.ts';
import { type ReingestOutcome, reingestMany } from './ops/reingest.ts';
import { replay } from './ops/replay.ts';
import {
  actOnlyOnCompleteScans,
  MAX_SEGMENTS,
  ScanSession,
  ScanStoppedError,
  useScanSession,
} from './ops/scanProgress.ts';
import { entityHistory, findStored, scanEvents, scanQuarantine } from './ops/storedEvents.ts';
import { type OpsTarget, resolveTarget, type TargetOptions } from './ops/target.ts';

interface GlobalOptions extends TargetOptions {
  json?: boolean;
  yes?: boolean;
  segments?: number;
  confirmAbove?: number;
}

/** A failure the user caused and can fix: printed as one line, exit code 1. */
class OpsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OpsError';
  }
}

function eventSummary({ pk, status, receivedAt, event }: StoredEvent) {
  return {
    pk,
    status,
    receivedAt: receivedAt.toISOString(),
    id: event.id,
    provider: event.provider,
    type: event.type,
    outcome: event.outcome,
    subject: event.subject,
    time: event.time,
    ...(event.conflict ? { conflict: true } : {}),
  };
}

/** An entity's state without the event's payload (`data` can hold personal data). */
function stateSummary({ lastEventId, event }: EntityState) {
  return { lastEventId, type: event.type, outcome: event.outcome, time: event.time };
}

/** A quarantine record without its body and headers (see `events show <key>` for those). */
function quarantineSummary({ pk, status, receivedAt, quarantine }: StoredItem) {
  return { pk, status, receivedAt: receivedAt.toISOString(), reason: quarantine?.reason ?? '' };
}

/** Events as table rows; the TYPE and SUBJECT columns are the ones cut to fit a terminal. */
function printEvents(out: Output, events: readonly StoredEvent[]): void {
  const { c } = out;
  out.table(
    [
      ['RECEIVED (UTC)', 'KEY', 'TYPE', 'OUTCOME', 'SUBJECT', 'STATUS'].map((h) => c.dim(h)),
      ...events.map((e) => [
        shortTime(e.receivedAt),
        e.pk,
        e.event.type + (e.event.conflict ? c.red(' conflict') : ''),
        colorOutcome(c, e.event.outcome),
        e.event.subject,
        colorStatus(c, e.status),
      ]),
    ],
    { shrink: [[2, 4], [1]] },
  );
}

/**
 * An entity's events in the order the handler applies them, with the two times that order is made of:
 * the event's own time, then (for equal times) the receive time. The applied one is marked ▸.
 */
function printEntityEvents(out: Output, events: readonly StoredEvent[], applied?: string): void {
  const { c } = out;
  out.table(
    [
      ['', 'EVENT TIME (UTC)', 'RECEIVED (UTC)', 'KEY', 'TYPE', 'OUTCOME', 'STATUS'].map((h) => c.dim(h)),
      ...events.map((e) => [
        e.event.id === applied ? c.bold('▸') : ' ',
        shortTime(e.event.time),
        shortTime(e.event.receivedat),
        e.pk,
        e.event.type + (e.event.conflict ? c.red(' conflict') : ''),
        colorOutcome(c, e.event.outcome),
        colorStatus(c, e.status),
      ]),
    ],
    { shrink: [[4], [3]] },
  );
}

function knownProvider(name: string): string {
  if (!PROVIDER_NAMES.includes(name))
    throw new InvalidArgumentError(`known providers: ${PROVIDER_NAMES.join(', ')}`);
  return name;
}

function segmentCount(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > MAX_SEGMENTS)
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_SEGMENTS}`);
  return value;
}

function wholeNumber(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError('expected a whole number');
  return value;
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError('expected a positive whole number');
  return value;
}

/** Exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it. */
const STOPPED_EXIT_CODE = 130;

/**
 * Runs one command against the resolved target and closes its clients afterwards. Its table scans
 * show progress on stderr, ask before a large one, and stop on Ctrl-C: with what was found so far
 * (exit 130), or, for a command that acts on what it found (`actOnlyOnCompleteScans`), doing nothing.
 */
async function withTarget(
  command: Command,
  run: (target: OpsTarget, out: Output) => Promise<number | undefined>,
) {
  const options = command.optsWithGlobals<GlobalOptions>();
  const out = makeOutput(options.json === true);
  const target = resolveTarget(options);
  const session = new ScanSession({
    stream: process.stderr,
    interactive: process.stdin.isTTY === true,
    ...(options.yes ? { yes: true } : {}),
    ...(options.segments ? { segments: options.segments } : {}),
    ...(options.confirmAbove !== undefined ? { confirmAbove: options.confirmAbove } : {}),
  });
  const endSession = useScanSession(session);
  try {
    if (!out.json) out.line(out.c.dim(`▸ ${target.label}`));
    const code = (await run(target, out)) ?? 0;
    process.exitCode = session.stopped ? STOPPED_EXIT_CODE : code;
  } finally {
    endSession();
    target.close();
  }
}

function showItem(out: Output, item: StoredItem): void {
  const { c } = out;
  out.table([
    [c.dim('key'), c.bold(item.pk)],
    [c.dim('status'), colorStatus(c, item.status)],
    [c.dim('received'), item.receivedAt.toISOString()],
    [c.dim('expires'), item.expiresAt.toISOString()],
  ]);
  if (item.event) {
    out.line(c.dim('event:'));
    out.data(item.event);
  }
  if (item.quarantine) {
    out.line(`${c.dim('reason:')} ${item.quarantine.reason}`);
    out.line(`${c.dim('headers:')} ${JSON.stringify(item.quarantine.headers)}`);
    const json = itemJson(item).quarantine as { rawBody?: string; rawBodyBase64?: string };
    out.line(
      json.rawBody !== undefined
        ? `${c.dim('body:')}\n${json.rawBody}`
        : `${c.dim('body (base64):')} ${json.rawBodyBase64}`,
    );
  }
}

function printReingest(out: Output, outcome: ReingestOutcome): void {
  const { c } = out;
  switch (outcome.result) {
    case 'published':
    case 'duplicate':
      out.line(
        `${c.green(outcome.result.padEnd(17))} ${outcome.pk} → ${outcome.eventPk} ${c.dim(outcome.type)}`,
      );
      return;
    case 'stored':
      out.line(
        `${c.yellow(outcome.result.padEnd(17))} ${outcome.pk} → ${outcome.eventPk} ${c.dim(outcome.reason)}`,
      );
      return;
    case 'failed':
      out.line(`${c.red(outcome.result.padEnd(17))} ${outcome.pk} ${c.dim(outcome.reason)}`);
      return;
    default:
      out.line(`${c.yellow(outcome.result.padEnd(17))} ${outcome.pk} ${c.dim(outcome.reason)}`);
  }
}

export function opsProgram(): Command {
  const program = new Command('ops')
    .description('Operate the webhook intake: stored events, entities, quarantine, replay')
    .option('--json', 'print JSON for scripts')
    .option('--table <name>', 'event table of a deployed stack (AWS, default credentials)')
    .option('--topic-arn <arn>', 'events topic of a deployed stack (for reingest and replay)')
    .option('--region <region>', 'AWS region (default: from the topic ARN or the AWS configuration)')
    .option('--outputs <file>', 'read the table and topic from `cdk deploy --outputs-file <file>`')
    .option('--stack <name>', 'with --outputs: the stack to use (required when the file holds several)')
    .option('--yes', 'scan a large table without asking (needed when stdin is not a terminal)')
    .option(
      '--segments <n>',
      `scan in this many parallel segments (1 to ${MAX_SEGMENTS}; default: one per GiB, at least 4)`,
      segmentCount,
    )
    .option(
      '--confirm-above <items>',
      'show the cost and ask before scanning a table of more items than this (default 1,000,000)',
      wholeNumber,
    )
    .showHelpAfterError()
    // Times are read and checked before anything is printed or read: one line, and nothing else.
    .hook('preAction', (_program, action) => {
      const { since, until } = action.opts<{ since?: string; until?: string }>();
      if (since !== undefined || until !== undefined) timeRange(since, until);
    });

  const events = program.command('events').description('stored events');
  events
    .command('list')
    .description('recent stored events, newest first (scans the table)')
    .option('--provider <name>', 'only this provider', knownProvider)
    .option('--type <type>', 'only this type: apara.order.completed, or order.completed')
    .addOption(new Option('--outcome <outcome>', 'only this outcome').choices(OUTCOMES))
    .option('--since <time>', 'received at or after (ISO 8601, or an age such as 2h)')
    .option('--until <time>', 'received before (ISO 8601, or an age)')
    .option('--limit <n>', 'at most this many', positiveInteger, 50)
    .action(async (options, command: Command) =>
      withTarget(command, async (target, out) => {
        const found = await scanEvents(target.store, {
          provider: options.provider,
          type: options.type,
          outcome: options.outcome as Outcome | undefined,
          ...(options.since ? { since: parseTime(options.since) } : {}),
          ...(options.until ? { until: parseTime(options.until) } : {}),
        });
        const recent = found.slice(-options.limit).reverse();
        if (out.json) {
          out.data(recent.map(eventSummary));
          return 0;
        }
        if (recent.length > 0) printEvents(out, recent);
        out.line(out.c.dim(`${recent.length} of ${plural(found.length, 'matching event')}`));
        return 0;
      }),
    );
  events
    .command('show')
    .description('one stored event (or quarantine record) in full')
    .argument('<pk-or-id>', 'its key (apara#EV-…) or its event id')
    .action(async (pkOrId: string, _options, command: Command) =>
      withTarget(command, async (target, out) => {
        const items = await findStored(target.store, pkOrId);
        if (items.length === 0)
          throw new OpsError(`nothing stored under "${pkOrId}" (as a key, or as an event id)`);
        if (out.json) out.data(items.map(itemJson));
        else
          items.forEach((item, i) => {
            if (i > 0) out.line();
            showItem(out, item);
          });
        return 0;
      }),
    );

  program
    .command('entity')
    .description("an entity's current state and its event history")
    .argument('<provider>', PROVIDER_NAMES.join(', '), knownProvider)
    .argument('<subject>', 'the entity, as in the events: order/OR-…, user/…')
    .action(async (provider: string, subject: string, _options, command: Command) =>
      withTarget(command, async (target, out) => {
        const [state, history] = await Promise.all([
          target.states.get(provider, subject),
          entityHistory(target.store, provider, subject),
        ]);
        if (out.json) {
          out.data({
            provider,
            subject,
            state: state ? stateSummary(state) : null,
            history: history.map(eventSummary),
          });
          return state || history.length > 0 ? 0 : 1;
        }
        const { c } = out;
        if (!state && history.length === 0)
          throw new OpsError(`no state and no stored events for ${provider} ${subject}`);
        out.line(`${c.bold(`${provider} ${subject}`)}`);
        if (state) {
          const e = state.event;
          out.line(
            `  state: ${c.bold(e.type)} ${colorOutcome(c, e.outcome)}  ${c.dim(`event ${state.lastEventId}, ${e.time}`)}`,
          );
        } else {
          out.line(
            `  state: ${c.yellow('none yet')} ${c.dim('(the handler has not applied an event of this entity)')}`,
          );
        }
        out.line(
          c.dim(
            `  history: ${plural(history.length, 'stored event')}, in the order the handler applies them (event time, then receive time)`,
          ),
        );
        if (history.length > 0) printEntityEvents(out, history, state?.lastEventId);
        return 0;
      }),
    );

  const quarantine = program.command('quarantine').description('authentic deliveries that failed validation');
  quarantine
    .command('list')
    .description('quarantined deliveries with their reasons, newest first (bodies: `events show <key>`)')
    .option('--provider <name>', 'only this provider', knownProvider)
    .option('--all', 'include records already re-ingested')
    .action(async (options, command: Command) =>
      withTarget(command, async (target, out) => {
        const items = (
          await scanQuarantine(target.store, {
            provider: options.provider,
            includeResolved: options.all === true,
          })
        ).reverse();
        if (out.json) {
          out.data(items.map(quarantineSummary));
          return 0;
        }
        const { c } = out;
        if (items.length > 0) {
          out.table(
            [
              ['RECEIVED (UTC)', 'KEY', 'STATUS', 'REASON'].map((h) => c.dim(h)),
              ...items.map((i) => [
                shortTime(i.receivedAt),
                i.pk,
                colorStatus(c, i.status),
                i.quarantine?.reason ?? '',
              ]),
            ],
            { shrink: [[3], [1]] },
          );
        }
        out.line(c.dim(plural(items.length, 'quarantine record')));
        return 0;
      }),
    );
  quarantine
    .command('reingest')
    .description(
      'run quarantined bodies through the current schema (no signature check: it was checked at receipt)',
    )
    .argument('[pk...]', 'quarantine keys (apara#q#…)')
    .option('--all', 'every record still quarantined')
    .option('--provider <name>', 'with --all: only this provider', knownProvider)
    .option(
      '--retention-days <days>',
      "days re-ingested events are kept (at least the provider's retry span)",
      positiveInteger,
      30,
    )
    .action(async (pks: string[], options, command: Command) =>
      withTarget(command, async (target, out) => {
        actOnlyOnCompleteScans();
        if (pks.length > 0 && options.all) throw new OpsError('give quarantine keys or --all, not both');
        const keys =
          options.all === true
            ? (await scanQuarantine(target.store, { provider: options.provider })).map((i) => i.pk)
            : pks;
        if (keys.length === 0) {
          if (!options.all) throw new OpsError('give quarantine keys (see `ops quarantine list`) or --all');
          if (out.json) out.data([]);
          else out.line(out.c.dim('nothing is quarantined'));
          return 0;
        }
        const outcomes = await reingestMany(
          {
            store: target.store,
            publisher: target.publisher(),
            retentionSeconds: options.retentionDays * 86_400,
          },
          keys,
          (outcome) => !out.json && printReingest(out, outcome),
        );
        if (out.json) out.data(outcomes);
        const ok = outcomes.every(
          (o) => o.result === 'published' || o.result === 'duplicate' || o.result === 'stored',
        );
        return ok ? 0 : 1;
      }),
    );

  program
    .command('replay')
    .description("publish a provider's stored events of a time range again, flagged replayed")
    .requiredOption('--provider <name>', PROVIDER_NAMES.join(', '), knownProvider)
    .requiredOption('--since <time>', 'received at or after (ISO 8601, or an age such as 2h)')
    .option('--until <time>', 'received before (ISO 8601, or an age)', 'now')
    .option('--dry-run', 'list what would be sent; send nothing')
    .action(async (options, command: Command) =>
      withTarget(command, async (target, out) => {
        actOnlyOnCompleteScans();
        const since = parseTime(options.since);
        const until = parseTime(options.until);
        const dryRun = options.dryRun === true;
        const publisher = target.publisher();
        const bar =
          !out.json && !dryRun && process.stderr.isTTY
            ? new SingleBar({
                format: 'replaying {bar} {value}/{total}',
                stream: process.stderr,
                hideCursor: true,
              })
            : undefined;
        const report = await replay(
          { store: target.store, publisher },
          { provider: options.provider, since, until, dryRun },
          (done, total) => (done === 0 ? bar?.start(total, 0) : bar?.update(done)),
        );
        bar?.stop();
        const range = `${since.toISOString()} ≤ received < ${until.toISOString()}`;
        if (out.json) {
          out.data({
            provider: options.provider,
            since: since.toISOString(),
            until: until.toISOString(),
            dryRun,
            events: report.events.map(eventSummary),
            published: report.published,
            failed: report.failed,
          });
        } else {
          const { c } = out;
          if (dryRun && report.events.length > 0) printEvents(out, report.events);
          out.line(
            dryRun
              ? `${c.bold('dry run:')} would replay ${report.events.length} ${options.provider} events (${range})`
              : `replayed ${c.green(String(report.published))} of ${report.events.length} ${options.provider} events (${range})`,
          );
          for (const failure of report.failed)
            out.line(`${c.red('failed')} ${failure.pk} ${c.dim(failure.error)}`);
        }
        return report.failed.length > 0 ? 1 : 0;
      }),
    );
  program.addCommand(keysCommand());
  program.addCommand(iamPolicyCommand());
  return program;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  exitQuietlyWhenOutputCloses();
  opsProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      reportFailure('ops', error);
      if (error instanceof ScanStoppedError) process.exitCode = STOPPED_EXIT_CODE;
    });
}
