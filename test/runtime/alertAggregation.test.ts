import { TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { AlertMessage } from '../../functions/event-handler/operatorAlerts.ts';
import { localClients } from '../../local/awsClients.ts';
import { AlertWindows } from '../../shared/alertWindows.ts';
import type { NormalizedEvent } from '../../shared/contract/eventContract.ts';
import { sample } from '../support/samples.ts';
import {
  answerOf,
  drain,
  manualClock,
  subscribeAlerts,
  testStack,
  useLocalServers,
} from '../support/testStack.ts';

const localServers = useLocalServers();

const MINUTE = 60_000;
const WINDOW_MS = 5 * MINUTE;

/** APARA's failed-payment sample as another order's failure: its own event id and order id. */
function failedOrder(n: number): Buffer {
  const order = `OR-BURST-${String(n).padStart(4, '0')}`;
  return Buffer.from(
    sample('apara', 'order.fund_failed')
      .toString('utf8')
      .replace(/"eventId":\s*"[^"]*"/, `"eventId": "EV-BURST-${n}"`)
      .replaceAll('OR-241127050200660', order),
  );
}

describe('operator alerts are aggregated per provider, type, outcome and window', () => {
  it('200 failed events in a burst make a handful of alerts that together count all 200, each once, also across retries and a failed send', async () => {
    // Prepare: the handler's clock starts one minute into a window.
    const clock = manualClock(Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS + MINUTE);
    const t = await testStack(localServers(), { handlerClock: clock.now, alertWindowMs: WINDOW_MS });
    const alertsQueue = await subscribeAlerts(t);
    const ids: string[] = [];
    const deliverFailures = async (from: number, to: number) => {
      for (let n = from; n < to; n += 20) {
        const answers = await Promise.all(
          Array.from({ length: Math.min(20, to - n) }, (_, i) => t.deliver('apara', failedOrder(n + i))),
        );
        for (const answer of answers) {
          expect(answer.statusCode).toBe(200);
          ids.push(answerOf(answer).id ?? '');
        }
      }
    };

    // Act: 160 failures in the first window, in two bursts; then 40 in the next window.
    await deliverFailures(0, 120);
    await t.handleAll();
    clock.advance(3 * MINUTE);
    await deliverFailures(120, 160);
    await t.handleAll();
    // Handler retries: 10 of the first window's events delivered to the handler again.
    for (const id of ids.slice(0, 10)) {
      const pk = `apara#${id}`;
      const stored = await t.stack.store.get(pk);
      if (!stored?.event) throw new Error(`no stored event under ${pk}`);
      await t.stack.publisher.publish(stored.event, pk, { dedupeSalt: 'retry' });
    }
    await t.handleAll();
    const openingAlerts = await drain(t.clients.sqs, alertsQueue);

    clock.advance(2 * MINUTE); // the first window has ended
    await deliverFailures(160, 200);
    await t.handleAll();
    // The first flush meets SNS down: nothing is lost, the next flush sends it.
    const send = t.clients.sns.send.bind(t.clients.sns) as (command: unknown) => Promise<unknown>;
    t.clients.sns.send = (async (command: unknown) => {
      if (command instanceof PublishCommand && command.input.TopicArn === t.resources.alertsTopicArn) {
        throw new Error('injected: SNS unavailable');
      }
      return send(command);
    }) as typeof t.clients.sns.send;
    await expect(t.stack.eventHandler.flushAlerts()).rejects.toThrow('1 alert windows could not be flushed');
    t.clients.sns.send = send as typeof t.clients.sns.send;
    clock.advance(MINUTE);
    expect(await t.stack.eventHandler.flushAlerts()).toEqual({ sent: 1, failed: 0 });
    expect(await t.stack.eventHandler.flushAlerts()).toEqual({ sent: 0, failed: 0 });
    clock.advance(WINDOW_MS); // the second window has ended too
    expect(await t.stack.eventHandler.flushAlerts()).toEqual({ sent: 1, failed: 0 });
    expect(await t.stack.eventHandler.flushAlerts()).toEqual({ sent: 0, failed: 0 });

    // Assess
    const alerts = [...openingAlerts, ...(await drain(t.clients.sqs, alertsQueue))].map(
      (body) => JSON.parse(body) as AlertMessage,
    );
    expect(alerts).toHaveLength(4);
    expect(alerts.reduce((sum, alert) => sum + alert.count, 0)).toBe(200);
    const byWindow = new Map<string, AlertMessage[]>();
    for (const alert of alerts)
      byWindow.set(alert.windowStart, [...(byWindow.get(alert.windowStart) ?? []), alert]);
    expect([...byWindow.values()].map((w) => w.reduce((sum, a) => sum + a.count, 0))).toEqual([160, 40]);
    for (const windowAlerts of byWindow.values()) {
      // One opening alert sent at once, one closing alert with the rest, its total the window's.
      expect(windowAlerts.map((a) => a.kind)).toEqual(['opening', 'closing']);
      const closing = windowAlerts[1];
      expect(closing?.countInWindow).toBe(windowAlerts.reduce((sum, a) => sum + a.count, 0));
    }
    for (const alert of alerts) {
      expect(alert).toMatchObject({ provider: 'apara', type: 'apara.order.fund_failed', outcome: 'failed' });
      expect(alert.exampleEventIds.length).toBeGreaterThan(0);
      expect(alert.exampleEventIds.length).toBeLessThanOrEqual(5);
      for (const id of alert.exampleEventIds) expect(ids).toContain(id);
      // Ids, types and counts only: nothing from the payloads.
      expect(JSON.stringify(alert)).not.toMatch(/Aryan|Dev"|PAYMENT_NOT_COMPLETED|OR-BURST/);
    }
  });

  it('counts 60 events handled at the same moment by concurrent handlers into one window, each exactly once, through transaction conflicts', async () => {
    const t = await testStack(localServers());
    // DynamoDB cancels transactions that meet on an item (DynamoDB Local serializes them instead):
    // every third transaction of this client is cancelled as a conflict before it reaches the table.
    const conflicting = localClients(localServers().endpoints).dynamodb;
    const send = conflicting.send.bind(conflicting) as (command: unknown) => Promise<unknown>;
    let transactions = 0;
    conflicting.send = (async (command: unknown) => {
      if (command instanceof TransactWriteItemsCommand) transactions += 1;
      if (command instanceof TransactWriteItemsCommand && transactions % 3 === 0) {
        throw new TransactionCanceledException({
          message: 'injected: Transaction cancelled',
          $metadata: {},
          CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
        });
      }
      return send(command);
    }) as typeof conflicting.send;
    const containers = [conflicting, t.clients.dynamodb, t.clients.dynamodb].map(
      (client) => new AlertWindows(client, t.resources.table, WINDOW_MS, 3600),
    );
    const windows = () => new AlertWindows(t.clients.dynamodb, t.resources.table, WINDOW_MS, 3600);
    const now = new Date();
    const event = (n: number) =>
      ({
        id: `EV-CONCURRENT-${n}`,
        provider: 'coinme',
        type: 'coinme.CAAS.BUY',
        outcome: 'failed',
      }) as NormalizedEvent;
    // Three "containers", each counting all 60 (as if every message were delivered to each of them).
    const results = await Promise.all(
      containers.flatMap((w) => Array.from({ length: 60 }, (_, n) => w.count(event(n), now))),
    );
    expect(results.filter((r) => r.counted)).toHaveLength(60);
    const [key] = new Set(results.flatMap((r) => (r.counted ? [r.key] : [])));
    const report = await windows().claim(key ?? '', now, false);
    expect(report).toMatchObject({ total: 60, count: 60 });
    expect(transactions).toBeGreaterThanOrEqual(3);
    conflicting.destroy();
  });
});
