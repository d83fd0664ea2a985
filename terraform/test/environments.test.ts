/**
 * The environment roots: real S3 backends per environment, providers pinned to their
 * account, names that carry the environment, production safeguards, and the outputs and
 * SSM parameter that operator tools read (operator_config).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { QUEUES } from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import {
  arn,
  asArray,
  asObject,
  asString,
  block,
  ENVIRONMENTS,
  findOne,
  type Json,
  type JsonObject,
  loadPlan,
  ofType,
  TERRAFORM_DIR,
} from './plan.js';

const read = (env: string, file: string): string =>
  readFileSync(path.join(TERRAFORM_DIR, 'environments', env, file), 'utf8');

/** The planned value of a root output: known parts from `after`, unknown parts as "(known after apply)". */
function plannedOutput(plan: ReturnType<typeof loadPlan>, name: string): Json {
  const change = asObject(asObject(plan.json.output_changes)[name]);
  const merge = (after: Json | undefined, unknown: Json | undefined): Json => {
    if (unknown === true) return '(known after apply)';
    if (after && typeof after === 'object' && !Array.isArray(after)) {
      const u = (unknown && typeof unknown === 'object' && !Array.isArray(unknown) ? unknown : {}) as JsonObject;
      const keys = new Set([...Object.keys(after), ...Object.keys(u)]);
      return Object.fromEntries([...keys].map((k) => [k, merge(after[k], u[k])]));
    }
    return after ?? null;
  };
  return merge(change.after, change.after_unknown);
}

describe.each(ENVIRONMENTS)('environment root %s', (env) => {
  it('keeps its own encrypted S3 backend with a lock file, and a provider pinned to its account', () => {
    // Prepare
    const versions = read(env, 'versions.tf');
    const providers = read(env, 'providers.tf');

    // Act
    const backend = /backend "s3" \{([^}]*)\}/.exec(versions)?.[1] ?? '';

    // Assess
    expect(backend).toMatch(new RegExp(`key\\s*=\\s*"covid-etl/${env}/terraform.tfstate"`));
    expect(backend).toMatch(/encrypt\s*=\s*true/);
    expect(backend).toMatch(/use_lockfile\s*=\s*true/);
    expect(providers).toMatch(/allowed_account_ids\s*=\s*\[local\.account_id\]/);
    expect(providers).toMatch(/default_tags\s*\{/);
    expect(read(env, '.terraform.lock.hcl')).toMatch(/version\s*=\s*"5\.100\.0"/);
    expect(() => read(env, 'ci_override.tf')).toThrow();
  });

  it('is a thin root: its settings are written in its module "pipeline" block, with no variables or tfvars', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const rootVariables = Object.keys(asObject(plan.json.variables ?? {}));

    // Assess
    expect(rootVariables).toEqual([]);
    expect(() => read(env, 'variables.tf')).toThrow();
    expect(() => read(env, 'terraform.tfvars')).toThrow();
    expect(plan.variables).toMatchObject({ environment: env, deletion_protection_enabled: env === 'prod' });
  });

  it('names every resource after the environment', () => {
    // Prepare
    const plan = loadPlan(env);
    const carries = (value: string) => value.includes(`covid-etl-${env}`) || value.startsWith(`/covid-etl/${env}/`);

    // Act
    const unnamed = plan.resources
      .flatMap((r) =>
        ['name', 'function_name', 'alarm_name', 'configuration_name']
          .filter((attribute) => typeof r.values[attribute] === 'string')
          .map((attribute) => ({ address: r.address, value: asString(r.values[attribute]) })),
      )
      .filter(({ value }) => !carries(value));

    // Assess
    expect(unnamed).toEqual([]);
  });

  it('outputs operator_config with every resource an operator tool needs', () => {
    // Prepare
    const plan = loadPlan(env);
    const queue = (key: string) => ({
      url: `https://sqs.${plan.region}.amazonaws.com/${plan.accountId}/covid-etl-${env}-${key}`,
      arn: arn(plan, 'sqs', `covid-etl-${env}-${key}`),
      dlq_url: `https://sqs.${plan.region}.amazonaws.com/${plan.accountId}/covid-etl-${env}-${key}-dlq`,
      dlq_arn: arn(plan, 'sqs', `covid-etl-${env}-${key}-dlq`),
    });

    // Act
    const config = asObject(plannedOutput(plan, 'operator_config'));

    // Assess
    expect(config).toMatchObject({
      environment: env,
      region: plan.region,
      tables: { data: `covid-etl-${env}-data`, ledger: `covid-etl-${env}-ledger` },
      queues: Object.fromEntries(Object.keys(QUEUES).map((key) => [key, queue(key)])),
      event_bus_name: `covid-etl-${env}`,
      topic_arns: {
        notifications: arn(plan, 'sns', `covid-etl-${env}-notifications`),
        alerts: arn(plan, 'sns', `covid-etl-${env}-alerts`),
      },
      functions: {
        fetcher: `covid-etl-${env}-fetcher`,
        transformer: `covid-etl-${env}-transformer`,
        loader: `covid-etl-${env}-loader`,
        notifier: `covid-etl-${env}-notifier`,
        slack_forwarder: `covid-etl-${env}-slack-forwarder`,
        watchdog: `covid-etl-${env}-watchdog`,
        dashboard: `covid-etl-${env}-dashboard`,
      },
      dashboard_url: '(known after apply)',
    });
    expect(Object.keys(asObject(config.dead_letter_queues)).sort()).toEqual(
      [
        'async',
        'events',
        'fetcher_schedule',
        'watchdog_schedule',
        // Only where the counties backfill is scheduled (prod; null in dev).
        ...(env === 'prod' ? ['counties_backfill_schedule'] : []),
      ].sort(),
    );
    if (env === 'prod') {
      expect(asObject(config.dead_letter_queues).counties_backfill_schedule).toEqual({
        url: `https://sqs.${plan.region}.amazonaws.com/${plan.accountId}/covid-etl-${env}-counties-backfill-schedule-dlq`,
        arn: arn(plan, 'sqs', `covid-etl-${env}-counties-backfill-schedule-dlq`),
        replay_to: 'function:fetcher',
      });
    }
  });

  it('lists every queue of the plan in operator_config, each DLQ with where `etl dlq replay` sends it back', () => {
    // Prepare: the DLQs as the plan wires them, and where each one's messages came from
    const plan = loadPlan(env);
    const config = asObject(plannedOutput(plan, 'operator_config'));
    const queues = Object.entries(asObject(config.queues)).map(([key, q]) => ({
      key,
      arn: asString(asObject(q).arn),
      dlq_arn: asString(asObject(q).dlq_arn),
    }));
    const functions = Object.entries(asObject(config.functions));
    const keyOfFunction = (functionArn: string) =>
      functions.find(([, name]) => functionArn.endsWith(`:function:${asString(name)}`))?.[0] ?? `? ${functionArn}`;
    const keyOfQueue = (queueArn: string) => queues.find((q) => q.arn === queueArn)?.key ?? `? ${queueArn}`;
    const redriven = ofType(plan, 'aws_sqs_queue_redrive_policy').map(
      (r) => asObject(JSON.parse(asString(r.values.redrive_policy)) as Json).deadLetterTargetArn,
    );
    const expected: Record<string, string> = {};
    for (const s of ofType(plan, 'aws_scheduler_schedule')) {
      const target = asObject(asArray(s.values.target)[0]);
      expected[asString(block(target.dead_letter_config).arn)] = `function:${keyOfFunction(asString(target.arn))}`;
    }
    for (const t of ofType(plan, 'aws_cloudwatch_event_target')) {
      expected[asString(block(t.values.dead_letter_config).arn)] = `queue:${keyOfQueue(asString(t.values.arn))}`;
    }
    for (const c of ofType(plan, 'aws_lambda_function_event_invoke_config')) {
      expected[asString(block(block(c.values.destination_config).on_failure).destination)] = 'record';
    }

    // Act
    const listed = Object.values(asObject(config.dead_letter_queues)).map((q) => asObject(q));
    const known = new Set([...queues.flatMap((q) => [q.arn, q.dlq_arn]), ...listed.map((q) => q.arn)]);

    // Assess: no queue the CLI does not know; every work DLQ is a queue's redrive DLQ (move
    // task); every other DLQ replays to the function or queue that fed it.
    const planned = ofType(plan, 'aws_sqs_queue').map((q) => arn(plan, 'sqs', asString(q.values.name)));
    expect(planned.filter((a) => !known.has(a))).toEqual([]);
    expect(queues.map((q) => q.dlq_arn).sort()).toEqual([...redriven].sort());
    expect(Object.fromEntries(listed.map((q) => [asString(q.arn), q.replay_to]))).toEqual(expected);
    expect(Object.values(expected).filter((to) => to.includes('?'))).toEqual([]);
    expect(new Set(Object.keys(expected)).size).toBe(
      env === 'prod' ? 5 : 4, // events, fetcher / watchdog (/ counties backfill) schedules, async
    );
  });

  it('writes operator_config to the SSM String parameter /covid-etl/<env>/operator-config', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const parameter = findOne(plan, 'aws_ssm_parameter', 'name', `/covid-etl/${env}/operator-config`);

    // Assess
    expect(parameter.values).toMatchObject({ type: 'String', tier: 'Standard' });
    expect(parameter.address).toBe('module.pipeline.aws_ssm_parameter.operator_config');
  });

  it("outputs only what someone reads (operator_config and the deploy steps' values), each with a description", () => {
    // Prepare
    const plan = loadPlan(env);
    const read = [
      'operator_config', // pnpm etl --env, the runbooks
      'notifications_topic_arn', // terraform/README.md Deploy: the email subscriptions
      'slack_webhook_parameter_name', // README.md and terraform/README.md Deploy: the Slack webhook
      'notifications_kms_key_alias_name', // the same step's --key-id
      'dashboard_function_url', // terraform/README.md Deploy: the dashboard
    ];

    // Act
    const outputs = asObject(asObject(asObject(plan.json.configuration).root_module).outputs);

    // Assess
    expect(Object.keys(outputs).sort()).toEqual([...read].sort());
    for (const [name, output] of Object.entries(outputs)) {
      expect({ name, description: typeof asObject(output).description }).toEqual({ name, description: 'string' });
    }
  });

  if (env === 'prod') {
    it('protects production: deletion protection, signed dashboard, reserved consumer concurrency, long logs', () => {
      // Prepare
      const plan = loadPlan(env);

      // Act
      const tables = ofType(plan, 'aws_dynamodb_table').map((t) => t.values.deletion_protection_enabled);
      const url = ofType(plan, 'aws_lambda_function_url').map((u) => u.values.authorization_type);
      const reserved = Object.values(QUEUES).map(
        (q) =>
          findOne(plan, 'aws_lambda_function', 'function_name', `covid-etl-prod-${q.consumer}`).values
            .reserved_concurrent_executions as number,
      );

      // Assess
      expect(tables).toEqual([true, true]);
      expect(url).toEqual(['AWS_IAM']);
      Object.values(QUEUES).forEach((q, i) => {
        expect(reserved[i]).toBeGreaterThanOrEqual(q.maximumConcurrency);
      });
      expect(plan.variables.log_retention_in_days).toBeGreaterThanOrEqual(90);
      for (const group of ofType(plan, 'aws_cloudwatch_log_group')) {
        expect(group.values.retention_in_days).toBeGreaterThanOrEqual(90);
      }
      expect((plan.variables.email_addresses as string[]).length).toBeGreaterThan(0);
    });
  }
});
