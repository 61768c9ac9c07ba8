import { DeleteMessageCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import * as v from 'valibot';
import { type NormalizedEvent, NormalizedEventSchema } from '../../shared/contract/eventContract.ts';
import { sample } from '../support/samples.ts';
import { answerOf, drain, publishedEvent, testStack, until, useLocalServers } from '../support/testStack.ts';

const localServers = useLocalServers();

describe('message attributes drive subscription filter policies', () => {
  it('a queue filtered on provider apara and outcome succeeded receives only the APARA completed event', async () => {
    const t = await testStack(localServers(), {
      provision: {
        subscribers: [
          { name: 'audit' },
          { name: 'apara-succeeded', filterPolicy: { provider: ['apara'], outcome: ['succeeded'] } },
        ],
      },
    });
    const filteredUrl = t.resources.subscriberQueues['apara-succeeded']?.url ?? '';
    expect(filteredUrl).not.toBe('');

    const answers = [
      await t.deliver('apara', sample('apara', 'order.completed')), // apara, succeeded
      await t.deliver('apara', sample('apara', 'order.fund_failed')), // apara, failed
      await t.deliver('coinme', sample('coinme', 'buy-order-completed')), // coinme, succeeded
    ];
    expect(answers.map((a) => answerOf(a).status)).toEqual(['accepted', 'accepted', 'accepted']);

    // The unfiltered queue sees all three, each with the attributes the policies match on. (FIFO: the
    // second message of the APARA order's group comes only once the first is deleted.)
    const auditUrl = t.resources.subscriberQueues.audit?.url ?? '';
    const audit: Message[] = [];
    await until('the three events on the audit queue', async () => {
      const { Messages = [] } = await t.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: auditUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
        }),
      );
      for (const m of Messages) {
        audit.push(m);
        await t.clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: auditUrl, ReceiptHandle: m.ReceiptHandle }),
        );
      }
      return audit.length >= 3;
    });
    expect(audit).toHaveLength(3);
    for (const message of audit) {
      const event = publishedEvent(message.Body ?? '');
      expect(message.MessageAttributes).toEqual({
        provider: { DataType: 'String', StringValue: event.provider },
        type: { DataType: 'String', StringValue: event.type },
        outcome: { DataType: 'String', StringValue: event.outcome },
      });
    }

    const filtered = (await drain(t.clients.sqs, filteredUrl)).map(publishedEvent);
    expect(filtered.map((e) => [e.type, e.outcome])).toEqual([['apara.order.completed', 'succeeded']]);
  });
});

describe('the FIFO deduplication id is derived from the event', () => {
  const event: NormalizedEvent = v.parse(NormalizedEventSchema, {
    specversion: '1.0',
    id: 'EV-DEDUPE-1',
    source: 'webhooks/apara',
    type: 'apara.order.completed',
    subject: 'order/OR-DEDUPE-1',
    time: '2026-01-01T00:00:00.000Z',
    datacontenttype: 'application/json',
    data: { eventId: 'EV-DEDUPE-1' },
    provider: 'apara',
    receivedat: '2026-01-01T00:00:01.000Z',
    outcome: 'succeeded',
    amounts: [],
  });
  const pk = 'apara#EV-DEDUPE-1';

  it('the same event published twice (even re-received later) is one message', async () => {
    const t = await testStack(localServers());

    await t.stack.publisher.publish(event, pk);
    await t.stack.publisher.publish(event, pk);
    await t.stack.publisher.publish({ ...event, receivedat: '2026-01-01T00:04:00.000Z' }, pk);

    const messages = await t.auditMessages();
    expect(messages.map((m) => publishedEvent(m).id)).toEqual(['EV-DEDUPE-1']);
  });

  it('a different dedupe salt (an operator replay) or a different event id is another message', async () => {
    const t = await testStack(localServers());

    await t.stack.publisher.publish(event, pk);
    await t.stack.publisher.publish(event, pk, { dedupeSalt: 'replay-1' });
    await t.stack.publisher.publish({ ...event, id: 'EV-DEDUPE-2' }, 'apara#EV-DEDUPE-2');

    const messages = await t.auditMessages();
    expect(messages.map((m) => publishedEvent(m).id)).toEqual(['EV-DEDUPE-1', 'EV-DEDUPE-1', 'EV-DEDUPE-2']);
  });
});
