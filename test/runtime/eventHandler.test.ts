import { pollOnce } from '../../local/queuePoller.ts';
import { parseJson } from '../../shared/core/losslessJson.ts';
import { MAX_RECEIVE_COUNT } from '../../shared/resources.ts';
import { sample } from '../support/samples.ts';
import { drain, testStack, useLocalServers } from '../support/testStack.ts';

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

    const deadline = Date.now() + 20_000;
    let deadLettered: string[] = [];
    while (Date.now() < deadline && !handled.includes('apara.order.asset_deposited')) {
      await pollOnce(t.clients.sqs, t.resources.handlerQueueUrl, t.stack.eventHandler);
      await new Promise((r) => setTimeout(r, 100));
    }
    await t.handleAll();
    deadLettered = await drain(t.clients.sqs, t.resources.handlerDlqUrl);

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

  it('alerts once per action_required or failed event, with no personal data', async () => {
    const t = await testStack(localServers());
    const { CreateQueueCommand, GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
    const { SubscribeCommand } = await import('@aws-sdk/client-sns');
    const { QueueUrl = '' } = await t.clients.sqs.send(
      new CreateQueueCommand({ QueueName: `alerts-${Date.now()}` }),
    );
    const { Attributes } = await t.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await t.clients.sns.send(
      new SubscribeCommand({
        TopicArn: t.resources.alertsTopicArn,
        Protocol: 'sqs',
        Endpoint: Attributes?.QueueArn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );

    await t.deliver('apara', sample('apara', 'order.fund_failed')); // failed
    await t.deliver('apara', sample('apara', 'order.completed')); // succeeded: no alert
    await t.handleAll();
    // The same event handled again (a redelivery) must not alert twice.
    const stored = await t.stack.store.get('apara#EV-241127050552618');
    if (stored?.event) await t.stack.publisher.publish(stored.event, stored.pk, 'redelivery');
    await t.handleAll();

    const alerts = await drain(t.clients.sqs, QueueUrl);
    expect(alerts).toHaveLength(1);
    expect(JSON.parse(alerts[0] ?? '{}')).toMatchObject({
      type: 'apara.order.fund_failed',
      outcome: 'failed',
    });
    expect(alerts[0]).not.toMatch(/Aryan|Dev"|firstName/);
  });
});
