/**
 * The planned queues and event source mappings equal QUEUES of @covid-etl/contracts (the
 * settings the local stack runs with), and follow the SQS/Lambda rules of PITFALLS.md.
 */

import { dlqName, QUEUES, type QueueKey, queueName } from '@covid-etl/contracts';
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
  resourceName,
  siblings,
} from './plan.js';

const QUEUE_KEYS = Object.keys(QUEUES) as QueueKey[];

describe.each(ENVIRONMENTS)('queues of %s', (env) => {
  it('equal QUEUES of the contracts package (queue, DLQ, redrive, mapping, function timeout)', () => {
    // Prepare
    const plan = loadPlan(env);

    for (const key of QUEUE_KEYS) {
      const expected = QUEUES[key];
      // Act
      const queue = findOne(plan, 'aws_sqs_queue', 'name', queueName(env, key));
      const dlq = findOne(plan, 'aws_sqs_queue', 'name', dlqName(env, key));
      const redrive = JSON.parse(
        asString(only(siblings(plan, queue, 'aws_sqs_queue_redrive_policy')).values.redrive_policy),
      );
      const queueArn = arn(plan, 'sqs', queueName(env, key));
      const mapping = only(
        ofType(plan, 'aws_lambda_event_source_mapping').filter((m) => m.values.event_source_arn === queueArn),
      );
      const consumer = only(siblings(plan, mapping, 'aws_lambda_function'));

      // Assess
      expect({
        name: queue.values.name,
        visibilityTimeoutSeconds: queue.values.visibility_timeout_seconds,
        messageRetentionSeconds: queue.values.message_retention_seconds,
        dlq: dlq.values.name,
        dlqMessageRetentionSeconds: dlq.values.message_retention_seconds,
        deadLetterTargetArn: redrive.deadLetterTargetArn,
        maxReceiveCount: redrive.maxReceiveCount,
        consumer: consumer.values.function_name,
        batchSize: mapping.values.batch_size,
        maximumBatchingWindowSeconds: mapping.values.maximum_batching_window_in_seconds,
        maximumConcurrency: block(mapping.values.scaling_config).maximum_concurrency,
        functionTimeoutSeconds: consumer.values.timeout,
      }).toEqual({
        name: `covid-etl-${env}-${expected.suffix}`,
        visibilityTimeoutSeconds: expected.visibilityTimeoutSeconds,
        messageRetentionSeconds: expected.messageRetentionSeconds,
        dlq: `covid-etl-${env}-${expected.suffix}-dlq`,
        dlqMessageRetentionSeconds: expected.dlqMessageRetentionSeconds,
        deadLetterTargetArn: arn(plan, 'sqs', dlqName(env, key)),
        maxReceiveCount: expected.maxReceiveCount,
        consumer: resourceName(plan, expected.consumer),
        batchSize: expected.batchSize,
        maximumBatchingWindowSeconds: expected.maximumBatchingWindowSeconds,
        maximumConcurrency: expected.maximumConcurrency,
        functionTimeoutSeconds: expected.functionTimeoutSeconds,
      });
    }
  });

  it('gives every non-DLQ queue a redrive policy to a DLQ with maxReceiveCount >= 5, and each DLQ allows only its source', () => {
    // Prepare
    const plan = loadPlan(env);
    const queues = ofType(plan, 'aws_sqs_queue');
    const dlqArns = new Set(
      queues
        .filter((q) => asString(q.values.name).endsWith('-dlq'))
        .map((q) => arn(plan, 'sqs', asString(q.values.name))),
    );

    // Act
    const workQueues = queues.filter((q) => !asString(q.values.name).endsWith('-dlq'));

    // Assess
    expect(workQueues.map((q) => q.values.name).sort()).toEqual(QUEUE_KEYS.map((k) => queueName(env, k)).sort());
    for (const queue of workQueues) {
      const policies = siblings(plan, queue, 'aws_sqs_queue_redrive_policy');
      expect(policies).toHaveLength(1);
      const redrive = JSON.parse(asString(only(policies).values.redrive_policy));
      expect(dlqArns.has(redrive.deadLetterTargetArn)).toBe(true);
      expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
      // No inline redrive policy on the queue itself (PITFALLS: cycle, silent removal).
      expect(queue.values.redrive_policy ?? undefined).toBeUndefined();

      const allow = JSON.parse(
        asString(only(siblings(plan, queue, 'aws_sqs_queue_redrive_allow_policy')).values.redrive_allow_policy),
      );
      expect(allow).toEqual({
        redrivePermission: 'byQueue',
        sourceQueueArns: [arn(plan, 'sqs', asString(queue.values.name))],
      });
    }
  });

  it('keeps messages in every DLQ 14 days, longer than in its source queue', () => {
    // Prepare
    const plan = loadPlan(env);

    for (const key of QUEUE_KEYS) {
      // Act
      const queue = findOne(plan, 'aws_sqs_queue', 'name', queueName(env, key));
      const dlq = findOne(plan, 'aws_sqs_queue', 'name', dlqName(env, key));

      // Assess
      expect(dlq.values.message_retention_seconds).toBe(14 * 86_400);
      expect(asNumber(dlq.values.message_retention_seconds)).toBeGreaterThan(
        asNumber(queue.values.message_retention_seconds),
      );
    }
    for (const dlq of ofType(plan, 'aws_sqs_queue').filter((q) => asString(q.values.name).endsWith('-dlq'))) {
      expect(dlq.values.message_retention_seconds).toBe(14 * 86_400);
    }
  });

  it('makes every SQS event source mapping report batch item failures with a maximum concurrency', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const mappings = ofType(plan, 'aws_lambda_event_source_mapping');

    // Assess
    expect(mappings).toHaveLength(QUEUE_KEYS.length);
    for (const mapping of mappings) {
      expect(mapping.values.function_response_types).toEqual(['ReportBatchItemFailures']);
      const concurrency = asNumber(block(mapping.values.scaling_config).maximum_concurrency);
      expect(concurrency).toBeGreaterThanOrEqual(2);
      expect(concurrency).toBeLessThanOrEqual(1000);
      expect(mapping.values.enabled).toBe(true);
    }
  });

  it('sets every queue visibility timeout to at least 6 x the consumer timeout + the batching window', () => {
    // Prepare
    const plan = loadPlan(env);

    for (const mapping of ofType(plan, 'aws_lambda_event_source_mapping')) {
      // Act
      const queue = ofType(plan, 'aws_sqs_queue').find(
        (q) => arn(plan, 'sqs', asString(q.values.name)) === mapping.values.event_source_arn,
      );
      const fn = only(siblings(plan, mapping, 'aws_lambda_function'));
      const minimum = 6 * asNumber(fn.values.timeout) + asNumber(mapping.values.maximum_batching_window_in_seconds);

      // Assess
      expect(queue).toBeDefined();
      expect(asNumber(queue?.values.visibility_timeout_seconds)).toBeGreaterThanOrEqual(minimum);
    }
  });

  it('reserves, where it reserves concurrency for an SQS consumer, at least the maximum concurrency', () => {
    // Prepare
    const plan = loadPlan(env);

    for (const mapping of ofType(plan, 'aws_lambda_event_source_mapping')) {
      // Act
      const fn = only(siblings(plan, mapping, 'aws_lambda_function'));
      const reserved = asNumber(fn.values.reserved_concurrent_executions);

      // Assess
      if (reserved !== -1) {
        expect(reserved).toBeGreaterThanOrEqual(asNumber(block(mapping.values.scaling_config).maximum_concurrency));
      }
    }
  });

  it('encrypts every queue (SSE-SQS or KMS)', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const queues = ofType(plan, 'aws_sqs_queue');

    // Assess
    expect(queues.length).toBeGreaterThanOrEqual(2 * QUEUE_KEYS.length);
    for (const queue of queues) {
      const encrypted =
        queue.values.sqs_managed_sse_enabled === true || typeof queue.values.kms_master_key_id === 'string';
      expect({ queue: queue.values.name, encrypted }).toEqual({ queue: queue.values.name, encrypted: true });
    }
  });
});
