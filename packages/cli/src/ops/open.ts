import { LOCAL_ENVIRONMENT, REPO_ROOT } from '@covid-etl/local-pipeline';
import type { OperatorBackend } from './backend.js';
import { assertKnownEnvironment, resolveOperatorConfig } from './environments.js';

/** Opens the backend of `--env`: the local stack, or a deployed environment found by `resolveOperatorConfig`. */
export async function openBackend(
  environment: string,
  env: Record<string, string | undefined> = process.env,
): Promise<OperatorBackend> {
  assertKnownEnvironment(environment, REPO_ROOT);
  // Each backend's code (the local stack, the AWS SDK clients) is loaded only when it is used.
  if (environment === LOCAL_ENVIRONMENT) return (await import('./local-backend.js')).LocalOperatorBackend.open(env);
  const { config, source } = await resolveOperatorConfig(environment, { repoRoot: REPO_ROOT, env });
  const { AwsOperatorBackend, createAwsClients } = await import('./aws-backend.js');
  return new AwsOperatorBackend(config, createAwsClients(config.region), source);
}

/**
 * Runs `fn` with the environment's backend and closes it afterwards. Tests pass `open` to
 * run a command against a backend of their own.
 */
export async function withBackend<T>(
  environment: string,
  fn: (backend: OperatorBackend) => Promise<T>,
  open: (environment: string) => Promise<OperatorBackend> = openBackend,
): Promise<T> {
  const backend = await open(environment);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}
