/**
 * The fetcher runs daily at a fixed time zone, with no flexible window, an explicit retry
 * policy, a DLQ and the scheduled time in its input; the watchdog every five minutes.
 */

import { FetcherInput } from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import {
  arn,
  asNumber,
  asString,
  block,
  ENVIRONMENTS,
  findOne,
  type JsonObject,
  loadPlan,
  ofType,
  only,
  resourceName,
} from './plan.js';

/** A daily EventBridge Scheduler cron: fixed minute and hour, every day of every month. */
const DAILY_CRON = /^cron\((\d{1,2}) (\d{1,2}) [*?] \* [*?] \*\)$/;

describe.each(ENVIRONMENTS)('schedules of %s', (env) => {
  it('starts the fetcher daily (tfvars cron, explicit time zone, no flexible window) with the scheduled time', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const schedule = findOne(plan, 'aws_scheduler_schedule', 'name', resourceName(plan, 'fetcher'));
    const target = block(schedule.values.target);
    const rawInput = asString(target.input);
    const input = JSON.parse(rawInput);

    // Assess
    const match = DAILY_CRON.exec(asString(schedule.values.schedule_expression));
    expect(match).not.toBeNull();
    expect(Number(match?.[1])).toBeLessThan(60);
    expect(Number(match?.[2])).toBeLessThan(24);
    expect(schedule.values.schedule_expression).toBe(plan.variables.fetcher_schedule_expression);
    expect(schedule.values.schedule_expression_timezone).toBe('UTC');
    expect(schedule.values.state).toBe('ENABLED');
    expect(block(schedule.values.flexible_time_window)).toMatchObject({ mode: 'OFF' });
    expect(target.arn).toBe(arn(plan, 'lambda', `function:${resourceName(plan, 'fetcher')}`));
    expect(input).toEqual({ trigger: 'schedule', scheduledTime: '<aws.scheduler.scheduled-time>' });
    // Scheduler replaces the placeholder as written: an escaped \u003c…\u003e would reach the fetcher unreplaced.
    expect(rawInput).toContain('"<aws.scheduler.scheduled-time>"');
    // The code accepts it once Scheduler has put a real time in place of the placeholder.
    expect(FetcherInput.safeParse({ ...input, scheduledTime: '2026-11-25T00:00:00Z' }).success).toBe(true);
  });

  it('gives every schedule an explicit retry policy, a DLQ, a time zone and no flexible window', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const schedules = ofType(plan, 'aws_scheduler_schedule');

    // Assess
    expect(schedules.map((s) => s.values.name).sort()).toEqual(
      [
        resourceName(plan, 'fetcher'),
        resourceName(plan, 'watchdog'),
        ...(env === 'prod' ? [resourceName(plan, 'counties-backfill')] : []),
      ].sort(),
    );
    for (const schedule of schedules) {
      const target = block(schedule.values.target);
      const retry: JsonObject = block(target.retry_policy);
      // Not the defaults (185 attempts, 24 hours): chosen on purpose.
      expect(asNumber(retry.maximum_retry_attempts)).toBeLessThan(185);
      expect(asNumber(retry.maximum_event_age_in_seconds)).toBeLessThan(86_400);
      expect(asString(block(target.dead_letter_config).arn)).toMatch(/^arn:aws:sqs:.*-schedule-dlq$/);
      expect(asString(schedule.values.schedule_expression_timezone).length).toBeGreaterThan(0);
      expect(block(schedule.values.flexible_time_window)).toMatchObject({ mode: 'OFF' });
      expect(schedule.values.group_name).toBe(`covid-etl-${env}`);
    }
  });

  it("reads the full county file on the environment's backfill schedule (monthly in prod, none in dev)", () => {
    // Prepare
    const plan = loadPlan(env);
    const name = resourceName(plan, 'counties-backfill');

    // Act
    const schedules = ofType(plan, 'aws_scheduler_schedule').filter((s) => s.values.name === name);
    const dlqs = ofType(plan, 'aws_sqs_queue').filter(
      (q) => q.values.name === resourceName(plan, 'counties-backfill-schedule-dlq'),
    );

    // Assess
    expect(plan.variables.geo_levels).toContain('county');
    if (env === 'dev') {
      // null in dev: a backfill there is an operator's explicit run.
      expect(plan.variables.counties_backfill_schedule_expression).toBeNull();
      expect(schedules).toEqual([]);
      expect(dlqs).toEqual([]);
      return;
    }
    const schedule = only(schedules);
    const target = block(schedule.values.target);
    const rawInput = asString(target.input);
    expect(schedule.values).toMatchObject({
      schedule_expression: 'cron(0 6 1 * ? *)',
      schedule_expression_timezone: 'UTC',
      state: 'ENABLED',
      group_name: `covid-etl-${env}`,
    });
    expect(schedule.values.schedule_expression).toBe(plan.variables.counties_backfill_schedule_expression);
    expect(target.arn).toBe(arn(plan, 'lambda', `function:${resourceName(plan, 'fetcher')}`));
    expect(JSON.parse(rawInput)).toEqual({
      trigger: 'schedule',
      backfill: 'counties',
      scheduledTime: '<aws.scheduler.scheduled-time>',
    });
    expect(rawInput).toContain('"<aws.scheduler.scheduled-time>"');
    expect(asString(block(target.dead_letter_config).arn)).toBe(
      arn(plan, 'sqs', resourceName(plan, 'counties-backfill-schedule-dlq')),
    );
    expect(dlqs).toHaveLength(1);
  });

  it('runs the watchdog every five minutes with the stall time of the tfvars', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const schedule = findOne(plan, 'aws_scheduler_schedule', 'name', resourceName(plan, 'watchdog'));
    const watchdog = findOne(plan, 'aws_lambda_function', 'function_name', resourceName(plan, 'watchdog'));

    // Assess
    expect(schedule.values.schedule_expression).toBe('rate(5 minutes)');
    expect(block(schedule.values.target).arn).toBe(arn(plan, 'lambda', `function:${resourceName(plan, 'watchdog')}`));
    expect(block(watchdog.values.environment).variables).toMatchObject({
      STALL_AFTER_MINUTES: String(plan.variables.stall_after_minutes),
    });
  });
});
