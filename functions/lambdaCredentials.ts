/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (an esbuild alias, see
 * infra/lambdaBundling.ts). Lambda always hands a function its role's credentials in environment
 * variables, so the SDK's default chain (SSO, STS web identity, ini files, processes, instance metadata,
 * with the STS and SSO clients it carries: about 110 KB and 8–18 ms of cold start) is never needed
 * there. Local runs and tests do not use the bundles and keep the full chain.
 */
export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';
