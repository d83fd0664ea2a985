/**
 * Every failure someone must act on raises a CloudWatch alarm that notifies the alerts
 * topic: a message in any DLQ, a stuck work queue, Lambda errors and throttles.
 */

import { QUEUES, type QueueKey, queueName } from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import {
  arn,
  asArray,
  asNumber,
  asObject,
  asString,
  block,
  ENVIRONMENTS,
  FUNCTIONS,
  findOne,
  loadPlan,
  ofType,
  type Plan,
  type PlannedResource,
  resourceName,
} from './plan.js';

const alertsTopicArn = (plan: Plan): string => arn(plan, 'sns', resourceName(plan, 'alerts'));

/**
 * The alarm's metric math (the query with return_data) as a function of its metrics, for
 * the functions it uses: IF(cond, a, b) and FILL(metric, value) (a missing datapoint is
 * undefined). Anything else in the expression makes this throw.
 */
function expressionOf(alarm: PlannedResource): (values: Record<string, number | undefined>) => number {
  const query = asArray(alarm.values.metric_query)
    .map((q) => asObject(q))
    .find((q) => q.return_data === true);
  const expression = asString(query?.expression);
  const js = expression.replace(/\bIF\(/g, 'iff(').replace(/\bFILL\(/g, 'fill(');
  if (/[^\w\s().,*+<>=!-]/.test(js) || /\b(?!iff|fill|age|deleted)[a-z_]\w*\b/i.test(js)) {
    throw new Error(`unexpected metric math: ${expression}`);
  }
  const iff = (condition: boolean, yes: number, no: number) => (condition ? yes : no);
  const fill = (value: number | undefined, by: number) => value ?? by;
  return ({ age, deleted }) =>
    new Function('iff', 'fill', 'age', 'deleted', `return ${js};`)(iff, fill, age, deleted) as number;
}

/** The alarms of a metric whose dimension `name` equals `value`. */
function alarmsOn(plan: Plan, metric: string, name: string, value: string): PlannedResource[] {
  return ofType(plan, 'aws_cloudwatch_metric_alarm').filter(
    (a) => a.values.metric_name === metric && asObject(a.values.dimensions ?? {})[name] === value,
  );
}

describe.each(ENVIRONMENTS)('alarms of %s', (env) => {
  it('has one alerts topic, and every alarm notifies it (ALARM and OK)', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const alarms = ofType(plan, 'aws_cloudwatch_metric_alarm');

    // Assess
    expect(() => findOne(plan, 'aws_sns_topic', 'name', resourceName(plan, 'alerts'))).not.toThrow();
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect({ alarm: alarm.values.alarm_name, actions: alarm.values.alarm_actions }).toEqual({
        alarm: alarm.values.alarm_name,
        actions: [alertsTopicArn(plan)],
      });
      expect(alarm.values.ok_actions).toEqual([alertsTopicArn(plan)]);
      expect(alarm.values.actions_enabled).toBe(true);
    }
  });

  it('has a depth alarm (ApproximateNumberOfMessagesVisible > 0) on every DLQ, the rule and schedule DLQs included', () => {
    // Prepare
    const plan = loadPlan(env);
    const dlqs = ofType(plan, 'aws_sqs_queue')
      .map((q) => asString(q.values.name))
      .filter((name) => name.endsWith('-dlq'));
    const ruleDlqs = ofType(plan, 'aws_cloudwatch_event_target').map((t) => block(t.values.dead_letter_config).arn);
    const scheduleDlqs = ofType(plan, 'aws_scheduler_schedule').map(
      (s) => block(block(s.values.target).dead_letter_config).arn,
    );

    // Act
    const alarmed = dlqs.filter((name) => {
      const alarms = alarmsOn(plan, 'ApproximateNumberOfMessagesVisible', 'QueueName', name);
      return alarms.some(
        (a) =>
          a.values.namespace === 'AWS/SQS' &&
          a.values.comparison_operator === 'GreaterThanThreshold' &&
          a.values.threshold === 0 &&
          a.values.statistic === 'Maximum' &&
          asNumber(a.values.period) <= 300 &&
          a.values.evaluation_periods === 1,
      );
    });

    // Assess
    expect(alarmed.sort()).toEqual(dlqs.sort());
    expect(dlqs).toEqual(
      expect.arrayContaining([
        ...(Object.keys(QUEUES) as QueueKey[]).map((k) => `${queueName(env, k)}-dlq`),
        resourceName(plan, 'events-dlq'),
        resourceName(plan, 'fetcher-schedule-dlq'),
        resourceName(plan, 'watchdog-schedule-dlq'),
        resourceName(plan, 'async-dlq'),
        ...(env === 'prod' ? [resourceName(plan, 'counties-backfill-schedule-dlq')] : []),
      ]),
    );
    const dlqArns = dlqs.map((name) => arn(plan, 'sqs', name));
    expect(ruleDlqs.length).toBeGreaterThan(0);
    expect(scheduleDlqs.length).toBeGreaterThan(0);
    for (const dlq of [...ruleDlqs, ...scheduleDlqs]) expect(dlqArns).toContain(dlq);
  });

  it('alarms on the age of the oldest message of every work queue when nothing is consumed, or past the cap', () => {
    // Prepare
    const plan = loadPlan(env);
    const thresholds = asObject(plan.variables.alarm_thresholds);
    const [threshold, cap] = [
      asNumber(thresholds.queue_oldest_message_age_seconds),
      asNumber(thresholds.queue_oldest_message_age_max_seconds),
    ];

    for (const key of Object.keys(QUEUES) as QueueKey[]) {
      // Act
      const alarm = findOne(
        plan,
        'aws_cloudwatch_metric_alarm',
        'alarm_name',
        `${queueName(env, key)}-oldest-message-age`,
      );
      const queries = asArray(alarm.values.metric_query).map((q) => asObject(q));
      const metric = (id: string) => block(queries.find((q) => q.id === id)?.metric);

      // Assess
      expect(alarm.values).toMatchObject({ comparison_operator: 'GreaterThanOrEqualToThreshold', threshold: 1 });
      for (const [id, name, stat] of [
        ['age', 'ApproximateAgeOfOldestMessage', 'Maximum'],
        ['deleted', 'NumberOfMessagesDeleted', 'Sum'],
      ] as const) {
        expect(metric(id)).toMatchObject({
          namespace: 'AWS/SQS',
          metric_name: name,
          dimensions: { QueueName: queueName(env, key) },
          stat,
          period: 300,
        });
      }
      expect(queries.filter((q) => q.return_data === true).map((q) => q.id)).toEqual(['stuck']);
      const stuck = expressionOf(alarm);
      // A drain that consumes (a backfill): no alarm below the cap, however old its oldest message.
      expect(stuck({ age: threshold + 1, deleted: 200 })).toBe(0);
      expect(stuck({ age: cap, deleted: 1 })).toBe(0);
      // Nothing consumed for a period while a message waits: the consumer is stuck.
      expect(stuck({ age: threshold + 1, deleted: 0 })).toBeGreaterThanOrEqual(1);
      expect(stuck({ age: threshold + 1, deleted: undefined })).toBeGreaterThanOrEqual(1);
      expect(stuck({ age: threshold, deleted: 0 })).toBe(0);
      // Past the cap even a consuming queue alarms.
      expect(stuck({ age: cap + 1, deleted: 500 })).toBeGreaterThanOrEqual(1);
    }
  });

  it('keeps a full counties backfill under the cap: its longest healthy drain is shorter', () => {
    // Prepare: a full county file makes 3,123 parts (docs/performance.md, States and counties).
    // A healthy drain sends them all within the fetcher's timeout; each loader batch (batchSize
    // parts, processed together) ends within the loader's timeout, maximumConcurrency at a time.
    const plan = loadPlan(env);
    const parts = 3123;
    const fn = (key: string) => findOne(plan, 'aws_lambda_function', 'function_name', resourceName(plan, key));
    const mapping = findOne(
      plan,
      'aws_lambda_event_source_mapping',
      'event_source_arn',
      arn(plan, 'sqs', queueName(env, 'loader')),
    );
    const batchSize = asNumber(mapping.values.batch_size);
    const concurrency = asNumber(block(mapping.values.scaling_config).maximum_concurrency);
    const batchSeconds =
      asNumber(fn('loader').values.timeout) + asNumber(mapping.values.maximum_batching_window_in_seconds);

    // Act
    const longestDrain =
      asNumber(fn('fetcher').values.timeout) + Math.ceil(parts / (batchSize * concurrency)) * batchSeconds;

    // Assess: 900 s + ceil(3123 / 20) x 62 s = 10,634 s (~3 h) at worst, under the 4 h cap.
    expect(longestDrain).toBeLessThan(
      asNumber(asObject(plan.variables.alarm_thresholds).queue_oldest_message_age_max_seconds),
    );
    // The watchdog's stall time exceeds the longest wait for the next load of a run that
    // progresses: a whole fetch, then one transformer and one loader batch.
    const stallSeconds = asNumber(plan.variables.stall_after_minutes) * 60;
    const transformer = findOne(
      plan,
      'aws_lambda_event_source_mapping',
      'event_source_arn',
      arn(plan, 'sqs', queueName(env, 'transformer')),
    );
    expect(stallSeconds).toBeGreaterThan(
      asNumber(fn('fetcher').values.timeout) +
        asNumber(fn('transformer').values.timeout) +
        asNumber(transformer.values.maximum_batching_window_in_seconds) +
        batchSeconds,
    );
  });

  it('alarms on Errors and Throttles of every function, at the tfvars thresholds', () => {
    // Prepare
    const plan = loadPlan(env);
    const thresholds = asObject(plan.variables.alarm_thresholds);

    for (const key of FUNCTIONS) {
      // Act
      const errors = alarmsOn(plan, 'Errors', 'FunctionName', resourceName(plan, key));
      const throttles = alarmsOn(plan, 'Throttles', 'FunctionName', resourceName(plan, key));

      // Assess
      expect({ key, errors: errors.length, throttles: throttles.length }).toEqual({ key, errors: 1, throttles: 1 });
      expect(errors[0]?.values).toMatchObject({
        namespace: 'AWS/Lambda',
        statistic: 'Sum',
        comparison_operator: 'GreaterThanThreshold',
        threshold: thresholds.lambda_errors,
      });
      expect(throttles[0]?.values).toMatchObject({
        namespace: 'AWS/Lambda',
        statistic: 'Sum',
        comparison_operator: 'GreaterThanThreshold',
        threshold: thresholds.lambda_throttles,
      });
    }
  });

  it('lets CloudWatch publish to the alerts topic: topic policy and a customer managed key that allows it', () => {
    // Prepare
    const plan = loadPlan(env);
    const topic = findOne(plan, 'aws_sns_topic', 'name', resourceName(plan, 'alerts'));

    // Act
    const topicPolicy = ofType(plan, 'aws_sns_topic_policy').map((p) => JSON.parse(asString(p.values.policy)));
    const keyPolicies = ofType(plan, 'aws_kms_key').map((k) => JSON.parse(asString(k.values.policy)));

    // Assess
    expect(asString(topic.values.kms_master_key_id)).not.toMatch(/^alias\/aws\//);
    expect(() => findOne(plan, 'aws_kms_alias', 'name', asString(topic.values.kms_master_key_id))).not.toThrow();
    const alertsPolicy = topicPolicy.filter((p) =>
      p.Statement.some((s: { Resource: string }) => s.Resource === alertsTopicArn(plan)),
    );
    expect(alertsPolicy).toHaveLength(1);
    expect(alertsPolicy[0].Statement).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: alertsTopicArn(plan),
      }),
    );
    expect(keyPolicies).toHaveLength(1);
    expect(keyPolicies[0].Statement).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey']),
        // Only this account's alarms of this environment may use the key (confused deputy).
        Condition: {
          StringEquals: { 'aws:SourceAccount': plan.accountId },
          ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:${plan.region}:${plan.accountId}:alarm:covid-etl-${env}-*` },
        },
      }),
    );
  });
});
