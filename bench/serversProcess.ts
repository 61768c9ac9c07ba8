/**
 * DynamoDB Local and fauxqs in a process of their own, so the benchmark process holds only what a
 * Lambda would run (its CPU time is then the handler's, not the emulators'). Prints one JSON line with
 * the endpoints, then runs until stdin closes or a signal arrives.
 */
import { startLocalServers } from '../local/servers.ts';

const servers = await startLocalServers();
process.stdout.write(`${JSON.stringify({ ready: true, endpoints: servers.endpoints })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await servers.stop();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
