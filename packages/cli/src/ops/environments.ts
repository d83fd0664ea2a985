import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { LOCAL_ENVIRONMENT } from '@covid-etl/local-pipeline';
import { callAws } from './aws-call.js';
import { type OperatorConfig, operatorConfigParameterName, parseOperatorConfig } from './config.js';
import { OperatorConfigError, UnknownEnvironmentError } from './errors.js';

/** The deployed environments: the folders under `terraform/environments`. */
export function deployedEnvironments(repoRoot: string): string[] {
  const dir = path.join(repoRoot, 'terraform', 'environments');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => statSync(path.join(dir, name)).isDirectory())
    .sort();
}

/** Throws UnknownEnvironmentError unless `environment` is `local` or a deployed one. */
export function assertKnownEnvironment(environment: string, repoRoot: string): void {
  const deployed = deployedEnvironments(repoRoot);
  if (environment !== LOCAL_ENVIRONMENT && !deployed.includes(environment)) {
    throw new UnknownEnvironmentError(environment, [LOCAL_ENVIRONMENT, ...deployed]);
  }
}

export type TerraformOutput = { ok: true; stdout: string } | { ok: false; reason: string };

/** Runs `terraform -chdir=<dir> output -json operator_config` (60 s at most). */
export function runTerraformOutput(dir: string): Promise<TerraformOutput> {
  return new Promise((resolve) => {
    execFile(
      'terraform',
      [`-chdir=${dir}`, 'output', '-no-color', '-json', 'operator_config'],
      { timeout: 60_000, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve({ ok: true, stdout });
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return resolve({ ok: false, reason: 'terraform is not installed' });
        const line = `${stderr}`
          .split('\n')
          .map((l) => l.replace(/^[│╷╵\s]+/, '').trim())
          .find((l) => l.length > 0);
        resolve({ ok: false, reason: line ?? error.message });
      },
    );
  });
}

export interface ResolveDeps {
  repoRoot: string;
  env: Record<string, string | undefined>;
  terraformOutput?: (dir: string) => Promise<TerraformOutput>;
  /** The SSM client for a region (`undefined`: the SDK's own region resolution). */
  ssmClient?: (region: string | undefined) => Pick<SSMClient, 'send'>;
}

export interface ResolvedConfig {
  config: OperatorConfig;
  /** Where it came from, for messages: `terraform output` or `SSM <name> (<region>)`. */
  source: string;
}

/**
 * Finds a deployed environment's resources: first from the environment root's
 * `terraform output -json operator_config` (skipped when the root is not initialised), else
 * from the SSM String parameter `/covid-etl/<env>/operator-config`, read with the standard
 * credential chain in AWS_REGION (or AWS_DEFAULT_REGION, or the profile's region, or at last
 * the `region` written in the root's main.tf). Errors say which way failed and why.
 */
export async function resolveOperatorConfig(environment: string, deps: ResolveDeps): Promise<ResolvedConfig> {
  assertKnownEnvironment(environment, deps.repoRoot);
  const root = path.join(deps.repoRoot, 'terraform', 'environments', environment);
  let terraformReason: string;
  if (existsSync(path.join(root, '.terraform'))) {
    const output = await (deps.terraformOutput ?? runTerraformOutput)(root);
    if (output.ok) {
      try {
        const config = parseOperatorConfig(
          JSON.parse(output.stdout),
          `terraform output operator_config of ${environment}`,
        );
        return { config: checkEnvironment(config, environment), source: 'terraform output' };
      } catch (error) {
        terraformReason = error instanceof Error ? error.message : String(error);
      }
    } else {
      terraformReason = output.reason;
    }
  } else {
    terraformReason = `${path.relative(deps.repoRoot, root)} is not initialised (no .terraform folder)`;
  }

  const name = operatorConfigParameterName(environment);
  const explicitRegion = deps.env.AWS_REGION?.trim() || deps.env.AWS_DEFAULT_REGION?.trim() || undefined;
  const ssm = await import('@aws-sdk/client-ssm');
  const clientFor = deps.ssmClient ?? ((region) => new ssm.SSMClient({ region }));
  const read = (region: string | undefined) =>
    callAws('ssm:GetParameter', name, () => clientFor(region).send(new ssm.GetParameterCommand({ Name: name })));
  let region = explicitRegion;
  let response: Awaited<ReturnType<typeof read>>;
  try {
    try {
      response = await read(region);
    } catch (error) {
      const fallback = rootRegion(root);
      if (region || !fallback || !/region is missing/i.test(String((error as Error).message))) throw error;
      region = fallback;
      response = await read(region);
    }
  } catch (error) {
    const message = String((error as Error).message);
    if (/ParameterNotFound/.test(message)) {
      throw new OperatorConfigError(
        `No resources found for environment ${environment}: terraform output failed (${terraformReason}) and the SSM parameter ${name} does not exist in ${region ?? 'the default region'}. ` +
          'Deploy the environment (terraform apply), or set AWS_REGION to its region.',
        { cause: error },
      );
    }
    if (/region is missing/i.test(message)) {
      throw new OperatorConfigError(
        `No AWS region: set AWS_REGION (or a region in your AWS_PROFILE) to read ${name}; terraform output failed too (${terraformReason})`,
        { cause: error },
      );
    }
    throw error;
  }
  const text = response.Parameter?.Value;
  if (!text) throw new OperatorConfigError(`The SSM parameter ${name} is empty`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new OperatorConfigError(`The SSM parameter ${name} does not hold JSON`, { cause: error });
  }
  const config = parseOperatorConfig(json, `The SSM parameter ${name}`);
  return { config: checkEnvironment(config, environment), source: `SSM ${name} (${region ?? config.region})` };
}

function checkEnvironment(config: OperatorConfig, environment: string): OperatorConfig {
  if (config.environment !== environment) {
    throw new OperatorConfigError(
      `The operator configuration found for ${environment} describes environment ${config.environment}`,
    );
  }
  return config;
}

/** The `region = "…"` written in an environment root's main.tf (its locals), if any. */
function rootRegion(root: string): string | undefined {
  try {
    return /^\s*region\s*=\s*"([^"]+)"/m.exec(readFileSync(path.join(root, 'main.tf'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}
