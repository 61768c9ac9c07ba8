/**
 * Standard Webhooks keys events by a header (`webhook-id`), not by the body: a quarantined delivery must
 * keep it, or two messages with one body would collapse into one record and a re-ingest could not key
 * them. Runs the real ingest handler on DynamoDB Local and fauxqs.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import * as v from 'valibot';
import { reingest } from '../../../local/ops/reingest.ts';
import { answerOf, testStack, useLocalServers } from '../../../test/support/testStack.ts';
import { standardWebhooks } from './index.ts';
import { StandardWebhooksEventSchema } from './schemas.ts';
import { signMessage } from './sign.ts';

const localServers = useLocalServers();

/** A later schema that accepts events without a type (what an operator deploys before re-ingesting). */
const untypedAccepted = {
  ...standardWebhooks,
  schema: v.looseObject({ ...StandardWebhooksEventSchema.entries, type: v.optional(v.string(), 'untyped') }),
};

test('two messages with one unreadable body stay two quarantine records, re-ingested under their own ids', async () => {
  const t = await testStack(localServers());
  const body = Buffer.from('{"data":{"id":"c_1"}}'); // no `type`: quarantined
  const signingKey = t.keys['standard-webhooks']?.signingKey ?? '';
  const now = new Date();

  const answers = [];
  for (const id of ['msg_first', 'msg_second', 'msg_first']) {
    answers.push(await t.invoke('standard-webhooks', body, signMessage(body, signingKey, id, now)));
  }

  expect(answers.map((a) => [a.statusCode, answerOf(a).status])).toEqual([
    [200, 'quarantined'],
    [200, 'quarantined'],
    [200, 'quarantined'],
  ]);
  const { Items = [] } = await t.clients.dynamodb.send(new ScanCommand({ TableName: t.resources.table }));
  const keys = Items.filter((item) => item.s?.S === 'quarantined').map((item) => item.pk?.S ?? '');
  const records = await Promise.all(keys.map((pk) => t.stack.store.get(pk)));
  expect(records.map((r) => r?.quarantine?.headers['webhook-id']).sort()).toEqual([
    'msg_first',
    'msg_second',
  ]);

  const deps = {
    store: t.stack.store,
    publisher: t.stack.publisher,
    providerModule: async () => untypedAccepted,
  };
  const outcomes = [];
  for (const pk of keys) outcomes.push(await reingest(deps, pk));

  expect(outcomes.map((o) => ('eventId' in o ? o.eventId : o.result)).sort()).toEqual([
    'msg_first',
    'msg_second',
  ]);
});
