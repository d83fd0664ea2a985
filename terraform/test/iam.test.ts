/**
 * Least privilege: one role per function and per schedule, named actions on named ARNs,
 * and a wildcard (`*` in an action or a resource) only where AWS requires it: every such
 * place is listed, with its reason, in WILDCARD_ALLOW_LIST.
 */
import { describe, expect, it } from '@jest/globals';
import {
  arn,
  asString,
  block,
  ENVIRONMENTS,
  FUNCTIONS,
  type FunctionKey,
  findOne,
  functionStatements,
  loadPlan,
  ofType,
  only,
  type Plan,
  parsePolicy,
  policyDocuments,
  resourceName,
  type Statement,
  siblings,
} from './plan.js';
import { type AllowedWildcard, WILDCARD_ALLOW_LIST } from './wildcard-allow-list.js';

type Grant = [actions: string[], resources: string[]];

/** What each function may do: the whole of its role policy, and nothing else. */
function expectedGrants(plan: Plan, key: FunctionKey): Grant[] {
  const table = (name: string) => arn(plan, 'dynamodb', `table/${resourceName(plan, name)}`);
  const queue = (name: string) => arn(plan, 'sqs', resourceName(plan, name));
  const ledger = table('ledger');
  const ledgerIndex = `${ledger}/index/byStartedAt`;
  const data = table('data');
  const bus = arn(plan, 'events', `event-bus/covid-etl-${plan.environment}`);
  const asyncDlq = queue('async-dlq');
  const base: Grant[] = [
    [
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      [`${arn(plan, 'logs', `log-group:/aws/lambda/${resourceName(plan, key)}`)}:*`],
    ],
    [['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], ['*']],
  ];
  const consume = (name: string): Grant => [
    ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
    [queue(name)],
  ];
  const grants: Record<FunctionKey, Grant[]> = {
    fetcher: [
      // the run, its chunk items (BatchWriteItem), month states, source baselines, a HELD run's
      // snapshot; recent runs (the start-time index)
      [
        ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
        [ledger, ledgerIndex],
      ],
      // the loaded series, for the data-quality gates (BatchGetItem: the revised days of states and counties)
      [['dynamodb:Query', 'dynamodb:BatchGetItem'], [data]],
      [['sqs:SendMessage'], [queue('transformer')]],
      [['events:PutEvents'], [bus]],
      [['sqs:SendMessage'], [asyncDlq]],
    ],
    transformer: [
      consume('transformer'),
      // GetItem: the chunk's run (chunks of an abandoned run are dropped)
      [['dynamodb:GetItem', 'dynamodb:UpdateItem'], [ledger]],
      [['sqs:SendMessage'], [queue('loader')]],
    ],
    loader: [
      consume('loader'),
      // days, versions, the catalogue and county summaries (BatchWriteItem); a geo part's stored days (BatchGetItem)
      [['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'], [data]],
      // the run's version items, for the revised days in its summary
      [['dynamodb:Query'], [`${data}/index/versionsByRun`]],
      [['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [ledger]],
      [['events:PutEvents'], [bus]],
    ],
    notifier: [
      consume('notifier'),
      [['dynamodb:GetItem', 'dynamodb:PutItem'], [ledger]],
      [['sns:Publish'], [arn(plan, 'sns', resourceName(plan, 'notifications'))]],
    ],
    'slack-forwarder': [
      [['ssm:GetParameter'], [arn(plan, 'ssm', `parameter/covid-etl/${plan.environment}/slack-webhook-url`)]],
      [['kms:Decrypt'], [arn(plan, 'kms', 'key/*')]],
      [['sqs:SendMessage'], [asyncDlq]],
    ],
    watchdog: [
      [
        // No PutItem: the watchdog finishes runs INCOMPLETE and re-publishes events (UpdateItem).
        ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
        [ledger, ledgerIndex],
      ],
      [['events:PutEvents'], [bus]],
      [['sqs:SendMessage'], [asyncDlq]],
    ],
    dashboard: [
      [['dynamodb:Query'], [data]],
      // the latest run's revised days, marked on the chart
      [['dynamodb:Query'], [`${data}/index/versionsByRun`]],
      [['dynamodb:Query'], [ledgerIndex]],
    ],
  };
  return [...base, ...grants[key]];
}

/** "action on resource" pairs of grants or statements, sorted and without duplicates. */
function pairs(grants: Grant[]): string[] {
  const all = grants.flatMap(([actions, resources]) => actions.flatMap((a) => resources.map((r) => `${a} on ${r}`)));
  return [...new Set(all)].sort();
}

const statementPairs = (statements: Statement[]): string[] =>
  pairs(statements.filter((s) => s.Effect === 'Allow').map((s) => [s.Action, s.Resource]));

describe.each(ENVIRONMENTS)('IAM of %s', (env) => {
  it('gives every function its own role, trusted by Lambda only, with one inline policy and no managed policy', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const functions = FUNCTIONS.map((key) =>
      findOne(plan, 'aws_lambda_function', 'function_name', resourceName(plan, key)),
    );
    const roleArns = functions.map((fn) => fn.values.role);

    // Assess
    expect(new Set(roleArns).size).toBe(FUNCTIONS.length);
    for (const fn of functions) {
      const name = asString(fn.values.function_name);
      expect(fn.values.role).toBe(arn(plan, 'iam', `role/${name}`));
      const role = only(siblings(plan, fn, 'aws_iam_role'));
      expect(role.values.name).toBe(name);
      expect(parsePolicy(asString(role.values.assume_role_policy))).toEqual([
        {
          Sid: 'LambdaAssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
          Action: ['sts:AssumeRole'],
          Resource: [],
        },
      ]);
      expect(siblings(plan, fn, 'aws_iam_role_policy')).toHaveLength(1);
    }
    expect(ofType(plan, 'aws_iam_role_policy_attachment')).toEqual([]);
    expect(ofType(plan, 'aws_iam_policy_attachment')).toEqual([]);
  });

  it.each(FUNCTIONS)('grants %s exactly the actions on the resources it needs', (key) => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const granted = statementPairs(functionStatements(plan, key));

    // Assess
    expect(granted).toEqual(pairs(expectedGrants(plan, key)));
  });

  it('lets the Slack forwarder decrypt only its webhook parameter, only through SSM', () => {
    // Prepare
    const plan = loadPlan(env);
    const parameterArn = arn(plan, 'ssm', `parameter/covid-etl/${env}/slack-webhook-url`);

    // Act
    const decrypt = functionStatements(plan, 'slack-forwarder').find((s) => s.Action.includes('kms:Decrypt'));

    // Assess
    expect(decrypt?.Condition).toEqual({
      StringEquals: {
        'kms:ViaService': [`ssm.${plan.region}.amazonaws.com`],
        'kms:EncryptionContext:PARAMETER_ARN': [parameterArn],
      },
    });
  });

  it('has no "*" in any action or resource except the justified allow-list', () => {
    // Prepare
    const plan = loadPlan(env);
    const used = new Set<AllowedWildcard>();
    const violations: string[] = [];

    // Act
    for (const document of policyDocuments(plan)) {
      for (const statement of document.statements.filter((s) => s.Effect === 'Allow')) {
        for (const field of ['Action', 'Resource'] as const) {
          for (const value of statement[field].filter((v) => v.includes('*'))) {
            const allowed = WILDCARD_ALLOW_LIST.find(
              (w) =>
                w.sid === statement.Sid &&
                w.field === field &&
                w.source.test(document.source) &&
                (typeof w.value === 'string' ? w.value === value : w.value.test(value)),
            );
            if (allowed) used.add(allowed);
            else violations.push(`${document.source} ${statement.Sid ?? '(no Sid)'} ${field} ${value}`);
          }
        }
      }
    }

    // Assess
    expect(violations).toEqual([]);
    // Every entry of the allow-list is still needed (no stale exception).
    expect(WILDCARD_ALLOW_LIST.filter((w) => !used.has(w)).map((w) => `${w.sid} ${w.field}`)).toEqual([]);
    for (const w of WILDCARD_ALLOW_LIST) expect(w.why.length).toBeGreaterThan(20);
  });

  it('lets no resource policy allow anyone ("*" principal)', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const open = policyDocuments(plan)
      .flatMap((d) => d.statements.map((s) => ({ source: d.source, s })))
      .filter(({ s }) => s.Effect === 'Allow' && JSON.stringify(s.Principal ?? null).match(/^"\*"$|"AWS":"\*"/));

    // Assess
    expect(open.map(({ source }) => source)).toEqual([]);
  });

  it('gives every schedule its own role that may invoke only its function and send only to its DLQ', () => {
    // Prepare
    const plan = loadPlan(env);
    const schedules = ofType(plan, 'aws_scheduler_schedule');

    for (const schedule of schedules) {
      // Act
      const name = asString(schedule.values.name);
      const target = block(schedule.values.target);
      const role = only(siblings(plan, schedule, 'aws_iam_role'));
      const policy = parsePolicy(asString(only(siblings(plan, schedule, 'aws_iam_role_policy')).values.policy));
      const trust = parsePolicy(asString(role.values.assume_role_policy));

      // Assess
      expect(target.role_arn).toBe(arn(plan, 'iam', `role/${name}-schedule`));
      expect(role.values.name).toBe(`${name}-schedule`);
      expect(trust).toEqual([
        {
          Sid: 'SchedulerAssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Action: ['sts:AssumeRole'],
          Resource: [],
          Condition: {
            StringEquals: { 'aws:SourceAccount': plan.accountId },
            ArnEquals: { 'aws:SourceArn': arn(plan, 'scheduler', `schedule-group/${schedule.values.group_name}`) },
          },
        },
      ]);
      expect(statementPairs(policy)).toEqual(
        pairs([
          [['lambda:InvokeFunction'], [asString(target.arn)]],
          [['sqs:SendMessage'], [asString(block(target.dead_letter_config).arn)]],
        ]),
      );
    }
    // fetcher, watchdog, and in prod the counties backfill (null in dev).
    expect(schedules).toHaveLength(env === 'prod' ? 3 : 2);
  });

  it('lets only the two topics invoke the Slack forwarder, and nobody but signed callers the other functions', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const permissions = ofType(plan, 'aws_lambda_permission').map((p) => ({
      action: p.values.action,
      principal: p.values.principal,
      source: p.values.source_arn ?? null,
      function: p.values.function_name,
      urlAuth: p.values.function_url_auth_type ?? null,
    }));

    // Assess
    const forwarder = arn(plan, 'lambda', `function:${resourceName(plan, 'slack-forwarder')}`);
    const sns = permissions.filter((p) => p.principal === 'sns.amazonaws.com');
    expect(sns.map((p) => p.source).sort()).toEqual(
      [arn(plan, 'sns', resourceName(plan, 'alerts')), arn(plan, 'sns', resourceName(plan, 'notifications'))].sort(),
    );
    for (const p of sns) expect(p).toMatchObject({ action: 'lambda:InvokeFunction', function: forwarder });
    const others = permissions.filter((p) => p.principal !== 'sns.amazonaws.com');
    const publicUrl = plan.variables.dashboard_public_url === true;
    expect(others).toEqual(
      publicUrl
        ? [
            {
              action: 'lambda:InvokeFunctionUrl',
              principal: '*',
              source: null,
              function: resourceName(plan, 'dashboard'),
              urlAuth: 'NONE',
            },
          ]
        : [],
    );
  });
});
