import { toJsonSchema } from '@valibot/to-json-schema';
import { CONTRACT_VERSION, NormalizedEventSchema } from './eventContract.ts';

/** Where the published JSON Schema of the event contract lives, relative to the repo root. */
export const CONTRACT_SCHEMA_FILE = `contract/normalized-event.v${CONTRACT_VERSION}.schema.json`;

/** The JSON Schema of the normalized event, generated from the valibot schema (the one source of truth). */
export function contractJsonSchema(): string {
  const schema = {
    ...toJsonSchema(NormalizedEventSchema, { errorMode: 'throw' }),
    $id: `https://webhook-intake/contract/normalized-event.v${CONTRACT_VERSION}.schema.json`,
    title: `Normalized webhook event v${CONTRACT_VERSION}`,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}
