/**
 * The seven functions run the `pnpm build` zips on Node.js 22 with JSON logs, source maps,
 * and exactly the environment variables their code reads (EnvVar / FUNCTION_ENV).
 */

import {
  DEFAULT_QUALITY_GATES,
  DEFAULT_SOURCE_URLS,
  EnvVar,
  FUNCTION_ENV,
  QualityGates,
  queueName,
} from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import {
  arn,
  asNumber,
  asString,
  block,
  ENVIRONMENTS,
  FUNCTIONS,
  findOne,
  loadPlan,
  ofType,
  only,
  type Plan,
  type PlannedResource,
  resourceName,
  siblings,
} from './plan.js';

const fn = (plan: Plan, key: string): PlannedResource =>
  findOne(plan, 'aws_lambda_function', 'function_name', resourceName(plan, key));
const env = (resource: PlannedResource): Record<string, string> =>
  block(resource.values.environment).variables as Record<string, string>;

describe.each(ENVIRONMENTS)('functions of %s', (environment) => {
  it.each(FUNCTIONS)('deploys %s from its zip on nodejs22.x with JSON logs in its own log group', (key) => {
    // Prepare
    const plan = loadPlan(environment);

    // Act
    const lambda = fn(plan, key);
    const logging = block(lambda.values.logging_config);
    const logGroup = only(siblings(plan, lambda, 'aws_cloudwatch_log_group'));

    // Assess
    expect(lambda.values).toMatchObject({ runtime: 'nodejs22.x', handler: 'index.handler', package_type: 'Zip' });
    expect(asString(lambda.values.filename)).toMatch(new RegExp(`/services/${key}/dist/${key}\\.zip$`));
    expect(asString(lambda.values.source_code_hash)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(env(lambda).NODE_OPTIONS).toBe('--enable-source-maps');
    expect(logging).toMatchObject({ log_format: 'JSON', log_group: `/aws/lambda/${resourceName(plan, key)}` });
    expect(logGroup.values).toMatchObject({
      name: `/aws/lambda/${resourceName(plan, key)}`,
      retention_in_days: plan.variables.log_retention_in_days,
    });
  });

  it('sets the variables of FUNCTION_ENV, and only names of EnvVar (plus NODE_OPTIONS)', () => {
    // Prepare
    const plan = loadPlan(environment);
    const known = new Set<string>([...Object.values(EnvVar), 'NODE_OPTIONS']);

    for (const key of FUNCTIONS) {
      // Act
      const names = Object.keys(env(fn(plan, key)));

      // Assess
      expect({ key, unknown: names.filter((n) => !known.has(n)) }).toEqual({ key, unknown: [] });
      expect(names).toEqual(expect.arrayContaining([EnvVar.Environment, EnvVar.LogLevel]));
      const needed = (FUNCTION_ENV as Record<string, readonly string[]>)[key];
      if (needed) expect(names).toEqual(expect.arrayContaining([...needed]));
    }
  });

  it('gives the fetcher valid quality-gate thresholds (the defaults) and the host allow-list of the environment', () => {
    // Prepare
    const plan = loadPlan(environment);

    // Act
    const vars = env(fn(plan, 'fetcher'));

    // Assess
    expect(vars[EnvVar.DataTable]).toBe(resourceName(plan, 'data'));
    expect(QualityGates.parse(JSON.parse(vars[EnvVar.QualityGates] ?? ''))).toEqual(DEFAULT_QUALITY_GATES);
    expect(vars[EnvVar.SourceAllowedHosts]).toBe(environment === 'prod' ? 'raw.githubusercontent.com' : '');
  });

  it('points the variables at the resources of this environment', () => {
    // Prepare
    const plan = loadPlan(environment);

    // Act
    const vars = Object.fromEntries(FUNCTIONS.map((key) => [key, env(fn(plan, key))]));

    // Assess
    for (const key of FUNCTIONS) expect(vars[key]?.[EnvVar.Environment]).toBe(environment);
    expect(vars.fetcher).toMatchObject({
      [EnvVar.LedgerTable]: resourceName(plan, 'ledger'),
      [EnvVar.EventBusName]: `covid-etl-${environment}`,
      [EnvVar.NytUrl]: DEFAULT_SOURCE_URLS.nyt,
      [EnvVar.JhuUrl]: DEFAULT_SOURCE_URLS.jhu,
    });
    expect(vars.loader).toMatchObject({
      [EnvVar.DataTable]: resourceName(plan, 'data'),
      [EnvVar.LedgerTable]: resourceName(plan, 'ledger'),
    });
    expect(vars.notifier).toMatchObject({ [EnvVar.TopicArn]: arn(plan, 'sns', resourceName(plan, 'notifications')) });
    expect(vars['slack-forwarder']).toMatchObject({
      [EnvVar.SlackWebhookParameter]: `/covid-etl/${environment}/slack-webhook-url`,
    });
    expect(vars.dashboard).toMatchObject({
      [EnvVar.DataTable]: resourceName(plan, 'data'),
      [EnvVar.LedgerTable]: resourceName(plan, 'ledger'),
    });
    const queueUrl = (name: string) => `https://sqs.${plan.region}.amazonaws.com/${plan.accountId}/${name}`;
    expect(vars.fetcher).toMatchObject({
      [EnvVar.TransformerQueueUrl]: queueUrl(queueName(environment, 'transformer')),
    });
    expect(vars.transformer).toMatchObject({ [EnvVar.LoaderQueueUrl]: queueUrl(queueName(environment, 'loader')) });
  });

  it('sizes the fetcher for the full county file: one vCPU of memory, 900 s, a 256 MiB body cap, 1 GB of /tmp', () => {
    // Prepare
    const plan = loadPlan(environment);

    // Act
    const fetcher = fn(plan, 'fetcher');
    const maxSourceBytes = Number(env(fetcher)[EnvVar.MaxSourceBytes]);

    // Assess
    // 334 MB peak RSS for parse + plan of 3.58 M rows, beside a body of up to ~100 MB (real) / 160 MB (synthetic).
    expect(fetcher.values).toMatchObject({ timeout: 900, memory_size: 1769 });
    expect(maxSourceBytes).toBe(256 * 1024 * 1024);
    expect(maxSourceBytes).toBe(plan.variables.max_source_bytes);
    // The parse + plan peak (334 MB) fits with room; /tmp holds two bodies at the cap (one left by a killed run).
    expect(asNumber(fetcher.values.memory_size)).toBeGreaterThanOrEqual(3 * 334);
    expect(asNumber(block(fetcher.values.ephemeral_storage).size)).toBe(1024);
    expect(2 * (maxSourceBytes / 2 ** 20)).toBeLessThanOrEqual(asNumber(block(fetcher.values.ephemeral_storage).size));
    // The other functions keep Lambda's free 512 MB of /tmp.
    for (const key of FUNCTIONS.filter((k) => k !== 'fetcher')) {
      expect({ key, size: block(fn(plan, key).values.ephemeral_storage).size }).toEqual({ key, size: 512 });
    }
  });

  it('gives the fetcher the states and county URLs, and the fetcher and the dashboard the levels loaded', () => {
    // Prepare
    const plan = loadPlan(environment);
    const nyt = 'https://raw.githubusercontent.com/nytimes/covid-19-data/master';

    // Act
    const fetcher = env(fn(plan, 'fetcher'));
    const dashboard = env(fn(plan, 'dashboard'));

    // Assess
    expect(fetcher).toMatchObject({
      [EnvVar.StatesUrl]: `${nyt}/us-states.csv`,
      [EnvVar.CountiesUrl]: `${nyt}/us-counties.csv`,
      [EnvVar.CountiesRecentUrl]: `${nyt}/us-counties-recent.csv`,
      [EnvVar.GeoLevels]: 'nation,state,county',
    });
    expect(dashboard[EnvVar.GeoLevels]).toBe('nation,state,county');
    expect(fetcher[EnvVar.GeoLevels]).toBe((plan.variables.geo_levels as string[]).join(','));
    for (const key of ['transformer', 'loader', 'notifier'] as const) {
      expect({ key, levels: env(fn(plan, key))[EnvVar.GeoLevels] }).toEqual({ key, levels: undefined });
    }
    // Every source host passes the environment's allow-list (empty: any public host).
    const allowed = asString(fetcher[EnvVar.SourceAllowedHosts]).split(',').filter(Boolean);
    for (const name of ['NYT_URL', 'JHU_URL', 'STATES_URL', 'COUNTIES_URL', 'COUNTIES_RECENT_URL']) {
      const url = new URL(asString(fetcher[name]));
      expect(url.protocol).toBe('https:');
      if (allowed.length > 0) expect(allowed).toContain(url.hostname);
    }
  });

  it('sends events that async invocations (schedules, SNS) still fail after retries to the async DLQ', () => {
    // Prepare
    const plan = loadPlan(environment);
    const asyncDlq = arn(plan, 'sqs', resourceName(plan, 'async-dlq'));

    for (const key of ['fetcher', 'watchdog', 'slack-forwarder']) {
      // Act
      const config = only(siblings(plan, fn(plan, key), 'aws_lambda_function_event_invoke_config'));

      // Assess
      expect(block(block(config.values.destination_config).on_failure).destination).toBe(asyncDlq);
      expect(config.values.maximum_retry_attempts).toBeLessThanOrEqual(2);
    }
    expect(ofType(plan, 'aws_lambda_function_event_invoke_config')).toHaveLength(3);
  });

  it('serves the dashboard through a signed (AWS_IAM) function URL: a public one is an opt-in, off in every environment', () => {
    // Prepare
    const plan = loadPlan(environment);

    // Act
    const url = only(ofType(plan, 'aws_lambda_function_url'));

    // Assess
    expect(url.values).toMatchObject({
      function_name: resourceName(plan, 'dashboard'),
      authorization_type: 'AWS_IAM',
    });
    expect(plan.variables.dashboard_public_url).toBe(false);
    expect(ofType(plan, 'aws_lambda_permission').filter((p) => p.values.principal === '*')).toEqual([]);
  });
});
