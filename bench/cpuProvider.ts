/**
 * One provider's per-event CPU (`measureCpu`) in a process of its own, as its ingest function runs it:
 * `tsx bench/cpuProvider.ts <provider>` prints the result as one JSON line.
 */
import { measureCpu } from './cpu.ts';

const provider = process.argv[2];
if (!provider) throw new Error('usage: tsx bench/cpuProvider.ts <provider>');
const [result] = await measureCpu([provider]);
process.stdout.write(`${JSON.stringify(result)}\n`);
