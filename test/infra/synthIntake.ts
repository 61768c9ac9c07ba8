import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { createIntakeApp } from '../../infra/intakeApp.ts';

/** cdk.json's context (feature flags), so tests synthesize with the flags `cdk synth` uses. */
const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/** Stands in for the bundles: the tests look at the template, never run the code, and skip esbuild. */
const TEST_CODE = lambda.Code.fromInline('exports.handler = async () => ({});');

export interface Finding {
  ruleName: string;
  constructPaths: string[];
}

/**
 * Synthesizes the app as `cdk synth` does (same builder, same feature flags, cdk-nag registered)
 * with extra context, and returns the stack's template and every validation finding left after the
 * acknowledgements (the CLI fails on them; here they are returned for the test to name).
 */
export function synthIntake(
  context: Record<string, unknown> = {},
  /** Adds constructs to the stack before synthesis. */
  extend?: (stack: Stack) => void,
) {
  const { app, stack } = createIntakeApp({
    // Report findings instead of throwing at the first one, so the cdk-nag test names them all.
    context: { ...CDK_JSON_CONTEXT, '@aws-cdk/core:failSynthOnValidationErrors': false, ...context },
    functionCode: TEST_CODE,
  });
  extend?.(stack);
  const template = Template.fromStack(stack);
  const assembly = app.synth(); // already synthesized by Template.fromStack: this returns it
  return { app, stack, template, findings: findingsIn(assembly.directory) };
}

export function findingsIn(assemblyDirectory: string): Finding[] {
  const report = JSON.parse(readFileSync(join(assemblyDirectory, 'validation-report.json'), 'utf8')) as {
    pluginReports: {
      violations: { ruleName: string; violatingConstructs?: { constructPath: string }[] }[];
    }[];
  };
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((violation) => ({
      ruleName: violation.ruleName,
      constructPaths: (violation.violatingConstructs ?? []).map((c) => c.constructPath),
    })),
  );
}
