import { readFileSync } from 'node:fs';
import { CONTRACT_SCHEMA_FILE, contractJsonSchema } from '../../shared/contract/jsonSchema.ts';

describe('the published JSON Schema of the event contract', () => {
  it('is exactly what the valibot schema generates (run `npx tsx scripts/gen-contract-schema.ts` after a change)', () => {
    const committed = readFileSync(new URL(`../../${CONTRACT_SCHEMA_FILE}`, import.meta.url), 'utf8');
    expect(committed).toBe(contractJsonSchema());
  });

  it('documents every field and requires the CloudEvents core attributes', () => {
    const schema = JSON.parse(contractJsonSchema()) as {
      required: string[];
      properties: Record<string, { description?: string }>;
    };
    expect(schema.required).toEqual(
      expect.arrayContaining([
        'specversion',
        'id',
        'source',
        'type',
        'subject',
        'time',
        'provider',
        'outcome',
        'amounts',
      ]),
    );
    const undocumented = Object.entries(schema.properties)
      .filter(([name, field]) => !field.description && name !== 'datacontenttype')
      .map(([name]) => name);
    expect(undocumented).toEqual([]);
  });
});
