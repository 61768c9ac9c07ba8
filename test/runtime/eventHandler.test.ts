import { pollOnce } from '../../local/queuePoller.ts';
import { DEFAULT_ALERT_WINDOW_MINUTES } from '../../shared/config.ts';
import { parseJson } from '../../shared/core/losslessJson.ts';
import { MAX_RECEIVE_COUNT } from '../../shared/resources.ts';
import { sample } from '../support/samples.ts';
import {
  answerOf,
  drain,
  manualClock,
  subscribeAlerts,
  testStack,
  until,
  useLocalServers,
} from '../support/testStack.ts';

const localServers = useLocalServers();

describe('the default event handler', () => {
  it('dead-letters a poison message after the configured receives; other groups run once, its group keeps order', async () => {
    const handled: string[] = [];
    const t = await testStack(localServers(), {
      routes: {
        '*': async (event) => {
          handled.push(event.type);
          if (event.type === 'apara.order.initiated') throw new Error('injected: handler bug for this event');
        },
      },
    });
    // Group apara:order/OR-…: the poison first, then the next event of the same order.
    await t.deliver('apara', sample('apara', 'order.initiated'));
    await t.deliver('apara', sample('apara', 'order.asset_deposited'));
    // Another group.
    await t.deliver('coinme', sample('coinme', 'buy-order-completed'));

    await until(
      'the event after the poison to be handled',
      async () => {
        await pollOnce(t.clients.sqs, t.resources.handlerQueueUrl, t.stack.eventHandler);
        return handled.includes('apara.order.asset_deposited');
      },
      20_000,
      100,
    );
    await t.handleAll();
    const deadLettered = await drain(t.clients.sqs, t.resources.handlerDlqUrl);

    expect(deadLettered).toHaveLength(1);
    expect((parseJson(deadLettered[0] ?? '{}') as { type: string }).type).toBe('apara.order.initiated');
    expect(handled.filter((type) => type === 'apara.order.initiated')).toHaveLength(MAX_RECEIVE_COUNT);
    expect(handled.filter((type) => type === 'coinme.CAAS.BUY' || type.startsWith('coinme.'))).toHaveLength(
      1,
    );
    expect(handled.filter((type) => type === 'apara.order.asset_deposited')).toHaveLength(1);
    // FIFO within the group: the later event ran only after the poison had left the queue.
    expect(handled.lastIndexOf('apara.order.initiated')).toBeLessThan(
      handled.indexOf('apara.order.asset_deposited'),
    );
  });

  it('alerts once per action_required or failed event, with no personal data, also when redelivered and after the windows close', async () => {
    const handled: string[] = [];
    const clock = manualClock();
    const t = await testStack(localServers(), {
      handlerClock: clock.now,
      routes: {
        '*': async (event) => {
          handled.push(event.type);
        },
      },
    });
    const alertsQueue = await subscribeAlerts(t);

    const failed = await t.deliver('apara', sample('apara', 'order.fund_failed')); // failed
    await t.deliver('apara', sample('apara', 'order.completed')); // succeeded: no alert
    const actionRequired = await t.deliver('openpoly', sample('openpoly', 'mini_app.payout.pending'));
    await t.handleAll();
    // The same events handled again (a redelivery) must not alert twice.
    const attention = [`apara#${answerOf(failed).id}`, `openpoly#${answerOf(actionRequired).id}`];
    for (const pk of attention) {
      const stored = await t.stack.store.get(pk);
      expect(stored?.event).toBeDefined();
      if (!stored?.event) throw new Error(`no stored event under ${pk}`);
      await t.stack.publisher.publish(stored.event, pk, { dedupeSalt: 'redelivery' });
    }
    await t.handleAll();
    expect(handled.filter((type) => type === 'apara.order.fund_failed')).toHaveLength(2);
    expect(handled.filter((type) => type === 'openpoly.mini_app.payout.pending')).toHaveLength(2);
    // The windows end: each reported everything in its opening alert, so nothing more is sent.
    clock.advance(DEFAULT_ALERT_WINDOW_MINUTES * 60_000);
    expect(await t.stack.eventHandler.flushAlerts()).toEqual({ sent: 0, failed: 0 });

    const alerts = await drain(t.clients.sqs, alertsQueue);
    expect(alerts).toHaveLength(2);
    const byType = new Map(alerts.map((a) => [(JSON.parse(a) as { type: string }).type, a]));
    expect(JSON.parse(byType.get('apara.order.fund_failed') ?? '{}')).toMatchObject({
      exampleEventIds: ['EV-241127050552618'],
      count: 1,
      type: 'apara.order.fund_failed',
      outcome: 'failed',
    });
    expect(JSON.parse(byType.get('openpoly.mini_app.payout.pending') ?? '{}')).toMatchObject({
      exampleEventIds: ['evt_sample_payout_pending'],
      count: 1,
      type: 'openpoly.mini_app.payout.pending',
      outcome: 'action_required',
    });
    for (const alert of alerts) expect(alert).not.toMatch(/Aryan|Dev"|firstName|operator-user-123/);
  });
});
