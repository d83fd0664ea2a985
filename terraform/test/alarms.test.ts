/**
 * Every failure someone must act on raises a CloudWatch alarm that notifies the alerts
 * topic: a message in any DLQ, a stuck work queue, Lambda errors and throttles.
 */

import { QUEUES, type QueueKey, queueName } from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import {
  arn,
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

  it('alarms on the age of the oldest message of every work queue, at the tfvars threshold', () => {
    // Prepare
    const plan = loadPlan(env);
    const threshold = asObject(plan.variables.alarm_thresholds).queue_oldest_message_age_seconds;

    for (const key of Object.keys(QUEUES) as QueueKey[]) {
      // Act
      const alarms = alarmsOn(plan, 'ApproximateAgeOfOldestMessage', 'QueueName', queueName(env, key));

      // Assess
      expect(alarms).toHaveLength(1);
      expect(alarms[0]?.values.threshold).toBe(threshold);
      expect(alarms[0]?.values.comparison_operator).toBe('GreaterThanThreshold');
    }
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
