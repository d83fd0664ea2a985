/**
 * The geography settings of the pipeline module beyond what dev and prod set: a level list
 * without county (no backfill schedule, GEO_LEVELS as given) and the inputs the module must
 * refuse. Each case plans (offline, like scripts/ci/terraform-check.sh) a sandbox root that
 * calls the module with the case's arguments; one init serves every case.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EnvVar } from '@covid-etl/contracts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { asObject, block, type Json, resourcesOf, TERRAFORM_DIR } from './plan.js';

const REPO_DIR = path.resolve(TERRAFORM_DIR, '..');
const PLAN_TIMEOUT_MS = 240_000;

/** A temporary copy: <work>/terraform/{modules,sandbox} and <work>/packages/contracts/src/queues.json. */
let work = '';
let root = '';

/** Runs terraform in the sandbox root, offline (provider mirror, fake credentials). */
function terraform(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('terraform', [`-chdir=${root}`, ...args, '-no-color'], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TF_CLI_CONFIG_FILE: path.join(TERRAFORM_DIR, 'ci.tfrc'),
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      CHECKPOINT_DISABLE: '1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Writes the root's call of the module with these arguments (HCL lines) besides the required ones. */
function writeModuleCall(args: string): void {
  writeFileSync(
    path.join(root, 'pipeline.tf'),
    `module "pipeline" {
  source = "../modules/pipeline"

  environment   = "sandbox"
  account_id    = "123456789012"
  region        = "us-east-1"
  artifacts_dir = "${path.join(REPO_DIR, 'services')}"
  reserved_concurrency = {
    fetcher = 1, transformer = 2, loader = 2, notifier = 2, slack-forwarder = 1, watchdog = 1, dashboard = 1
  }
${args}
}
`,
  );
}

/** Plans the module with these arguments (HCL lines) besides the required ones. */
function plan(args: string): { status: number | null; stdout: string; stderr: string } {
  writeModuleCall(args);
  return terraform('plan', '-refresh=false', '-lock=false', '-out=plan.bin');
}

/** The planned resources of the last successful plan. */
function planned() {
  const shown = terraform('show', '-json', 'plan.bin');
  if (shown.status !== 0) throw new Error(`terraform show failed: ${shown.stderr}`);
  return resourcesOf(asObject(JSON.parse(shown.stdout) as Json));
}

beforeAll(() => {
  // Prepare: the modules, the queue settings they read, a root with a local backend.
  work = mkdtempSync(path.join(tmpdir(), 'terraform-geo-'));
  root = path.join(work, 'terraform', 'sandbox');
  mkdirSync(root, { recursive: true });
  cpSync(path.join(TERRAFORM_DIR, 'modules'), path.join(work, 'terraform', 'modules'), {
    recursive: true,
    filter: (source) => !source.includes(`${path.sep}.terraform`),
  });
  // The pipeline module reads ../../../packages/contracts/src/queues.json from its own folder.
  const contracts = path.join(work, 'packages', 'contracts', 'src');
  mkdirSync(contracts, { recursive: true });
  cpSync(path.join(REPO_DIR, 'packages', 'contracts', 'src', 'queues.json'), path.join(contracts, 'queues.json'));
  writeFileSync(
    path.join(root, 'versions.tf'),
    `terraform {
  required_version = ">= 1.11.0"
  backend "local" {}
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
`,
  );
  writeModuleCall('');
  const init = terraform('init');
  if (init.status !== 0) throw new Error(`terraform init failed: ${init.stdout}${init.stderr}`);
}, PLAN_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('pipeline module geography settings', () => {
  it(
    'plans no counties backfill, and passes the levels given, when geo_levels has no county',
    () => {
      // Act
      const result = plan(
        `  geo_levels = ["nation", "state"]\n  counties_backfill_schedule_expression = "cron(0 6 1 * ? *)"`,
      );
      const resources = result.status === 0 ? planned() : [];
      const schedules = resources
        .filter((r) => r.type === 'aws_scheduler_schedule')
        .map((r) => r.values.name)
        .sort();
      const variables = (name: string) =>
        block(
          resources.find((r) => r.type === 'aws_lambda_function' && r.values.function_name === name)?.values
            .environment,
        ).variables as Record<string, string>;

      // Assess
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
      expect(schedules).toEqual(['covid-etl-sandbox-fetcher', 'covid-etl-sandbox-watchdog']);
      expect(resources.filter((r) => String(r.values.name ?? '').includes('counties-backfill'))).toEqual([]);
      expect(variables('covid-etl-sandbox-fetcher')[EnvVar.GeoLevels]).toBe('nation,state');
      expect(variables('covid-etl-sandbox-dashboard')[EnvVar.GeoLevels]).toBe('nation,state');
    },
    PLAN_TIMEOUT_MS,
  );

  it.each([
    [
      'an unknown level',
      'geo_levels = ["nation", "town"]',
      /geo_levels must be a non-empty list of nation, state, county/,
    ],
    ['no level', 'geo_levels = []', /geo_levels must be a non-empty list of nation, state, county/],
    ['a repeated level', 'geo_levels = ["state", "county", "state"]', /geo_levels must not repeat a level/],
    [
      'a backfill schedule that is not a cron at a fixed time',
      'counties_backfill_schedule_expression = "rate(1 day)"',
      /counties_backfill_schedule_expression must be null or a cron with a fixed minute and hour/,
    ],
    ['a body cap under 1 MiB', 'max_source_bytes = 1000', /max_source_bytes must be an integer from 1048576/],
    [
      'a plain-http county URL',
      'source_urls = { counties = "http://example.com/us-counties.csv" }',
      /source_urls must be https URLs/,
    ],
  ])(
    'refuses %s',
    (_what, args, message) => {
      // Act
      const result = plan(`  ${args}`);

      // Assess
      expect(result.status).toBe(1);
      expect(result.stderr.replace(/[\s│]+/g, ' ')).toMatch(message);
    },
    PLAN_TIMEOUT_MS,
  );
});
