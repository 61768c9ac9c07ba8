import { type ChildProcess, spawn } from 'node:child_process';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ENV } from '../../shared/config.ts';

/**
 * How a test runs the production ingest bundle in a child process, as Lambda would: the node
 * arguments that import it and call its handler once with the event in `EVENT`, printing
 * `ANSWER <json>`, and the environment the function gets in AWS (endpoints pointed at local servers).
 */
export function bundledIngest(
  bundleFile: string,
  options: {
    event: APIGatewayProxyEventV2;
    dynamodb: string;
    sns: string;
    table: string;
    topicArn: string;
    verifyKeys: readonly string[];
  },
): { args: string[]; env: NodeJS.ProcessEnv } {
  return {
    args: [
      '--input-type=module',
      '-e',
      `const { handler } = await import(${JSON.stringify(bundleFile)});
       const answer = await handler(JSON.parse(process.env.EVENT), { awsRequestId: 'r', getRemainingTimeInMillis: () => 9000 });
       process.stdout.write('ANSWER ' + JSON.stringify(answer));`,
    ],
    env: {
      PATH: process.env.PATH,
      EVENT: JSON.stringify(options.event),
      AWS_ENDPOINT_URL: options.dynamodb,
      AWS_ENDPOINT_URL_SNS: options.sns,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      LOG_FORMAT: 'json',
      [ENV.provider]: 'apara',
      [ENV.table]: options.table,
      [ENV.topicArn]: options.topicArn,
      [ENV.keys]: JSON.stringify({ keys: options.verifyKeys }),
    },
  };
}

/** The bundle started as `bundledIngest` describes: the child, its exit, and what it printed so far. */
export function startBundledIngest(
  bundleFile: string,
  options: Parameters<typeof bundledIngest>[1],
): { child: ChildProcess; exited: Promise<unknown>; output: () => string } {
  const run = bundledIngest(bundleFile, options);
  const child = spawn(process.execPath, run.args, { env: run.env, stdio: ['ignore', 'pipe', 'ignore'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, exited, output: () => output };
}
