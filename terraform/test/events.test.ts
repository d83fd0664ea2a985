/**
 * The run-outcome rule matches exactly what the code puts on the bus (the contracts'
 * constants), delivers to the notifier queue with retries and a DLQ, and only that rule
 * may send to the queue.
 */

import { EVENT_SOURCE, EventDetailType, queueName, RUN_OUTCOME_EVENT_PATTERN } from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import {
  arn,
  asNumber,
  asString,
  block,
  ENVIRONMENTS,
  findOne,
  loadPlan,
  ofType,
  only,
  parsePolicy,
  resourceName,
} from './plan.js';

describe.each(ENVIRONMENTS)('events of %s', (env) => {
  it('routes exactly the source and detail types the code puts (RUN_OUTCOME_EVENT_PATTERN)', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const rule = findOne(plan, 'aws_cloudwatch_event_rule', 'name', resourceName(plan, 'run-outcome'));
    const pattern = JSON.parse(asString(rule.values.event_pattern));

    // Assess
    expect(pattern).toEqual(RUN_OUTCOME_EVENT_PATTERN);
    expect(pattern.source).toEqual([EVENT_SOURCE]);
    expect([...pattern['detail-type']].sort()).toEqual(Object.values(EventDetailType).sort());
    expect(rule.values.event_bus_name).toBe(`covid-etl-${env}`);
    expect(rule.values.state ?? 'ENABLED').toBe('ENABLED');
  });

  it('delivers to the notifier queue with an explicit retry policy and a dead-letter queue', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const target = only(ofType(plan, 'aws_cloudwatch_event_target'));
    const retry = block(target.values.retry_policy);

    // Assess
    expect(target.values.rule).toBe(resourceName(plan, 'run-outcome'));
    expect(target.values.event_bus_name).toBe(`covid-etl-${env}`);
    expect(target.values.arn).toBe(arn(plan, 'sqs', queueName(env, 'notifier')));
    expect(asNumber(retry.maximum_retry_attempts)).toBeGreaterThan(0);
    expect(asNumber(retry.maximum_retry_attempts)).toBeLessThan(185);
    expect(asNumber(retry.maximum_event_age_in_seconds)).toBeLessThan(86_400);
    expect(block(target.values.dead_letter_config).arn).toBe(arn(plan, 'sqs', resourceName(plan, 'events-dlq')));
  });

  it('lets only the rule send to the notifier queue and to its DLQ (aws:SourceArn)', () => {
    // Prepare
    const plan = loadPlan(env);
    const ruleArn = arn(plan, 'events', `rule/covid-etl-${env}/${resourceName(plan, 'run-outcome')}`);
    const queues = [arn(plan, 'sqs', queueName(env, 'notifier')), arn(plan, 'sqs', resourceName(plan, 'events-dlq'))];

    // Act
    const policies = ofType(plan, 'aws_sqs_queue_policy')
      .map((p) => parsePolicy(asString(p.values.policy)).filter((s) => s.Effect === 'Allow'))
      .filter((allows) => allows.length > 0);

    // Assess
    expect(policies).toHaveLength(2);
    expect(policies.flatMap((statements) => statements.flatMap((s) => s.Resource)).sort()).toEqual(queues.sort());
    for (const statements of policies) {
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatchObject({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['sqs:SendMessage'],
        Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
      });
    }
  });

  it('archives the bus for replay, and the functions that put events name that bus', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const archive = only(ofType(plan, 'aws_cloudwatch_event_archive'));
    const publishers = ['fetcher', 'loader', 'watchdog'].map((key) =>
      findOne(plan, 'aws_lambda_function', 'function_name', resourceName(plan, key)),
    );

    // Assess
    expect(() => findOne(plan, 'aws_cloudwatch_event_bus', 'name', `covid-etl-${env}`)).not.toThrow();
    expect(archive.values.retention_days).toBe(plan.variables.event_archive_retention_days);
    for (const fn of publishers) {
      expect(block(fn.values.environment).variables).toMatchObject({ EVENT_BUS_NAME: `covid-etl-${env}` });
    }
  });
});
