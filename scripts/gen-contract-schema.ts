/**
 * Writes the event contract's JSON Schema file from the valibot schema.
 * Run: npx tsx scripts/gen-contract-schema.ts   (test/contract/jsonSchema.test.ts fails when it drifts)
 */
import { writeFileSync } from 'node:fs';
import { CONTRACT_SCHEMA_FILE, contractJsonSchema } from '../shared/contract/jsonSchema.ts';

writeFileSync(new URL(`../${CONTRACT_SCHEMA_FILE}`, import.meta.url), contractJsonSchema());
