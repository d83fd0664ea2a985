/**
 * The embedded local stack runs with the queue settings that Terraform deploys: the settings
 * read from a live LocalPipeline's queues and event source mappings equal the planned queues,
 * DLQs, redrive policies and mappings of both environments.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dlqName, QUEUES, type QueueKey, queueName } from '@covid-etl/contracts';
import { LocalPipeline, type LocalQueueSettings } from '@covid-etl/local-pipeline';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { arn, asArray, asString, block, ENVIRONMENTS, findOne, loadPlan, ofType, only, siblings } from './plan.js';

let dir: string;
let local: Record<QueueKey, LocalQueueSettings>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tf-local-stack-'));
  const pipeline = await LocalPipeline.open({ dir });
  try {
    local = pipeline.queueSettings();
  } finally {
    await pipeline.close();
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.each(ENVIRONMENTS)('the local stack and the plan of %s', (env) => {
  it.each(Object.keys(QUEUES) as QueueKey[])('run the %s queue with the same settings', (key) => {
    // Prepare
    const plan = loadPlan(env);
    const queue = findOne(plan, 'aws_sqs_queue', 'name', queueName(env, key));
    const dlq = findOne(plan, 'aws_sqs_queue', 'name', dlqName(env, key));
    const redrive = JSON.parse(
      asString(only(siblings(plan, queue, 'aws_sqs_queue_redrive_policy')).values.redrive_policy),
    );
    const mapping = only(
      ofType(plan, 'aws_lambda_event_source_mapping').filter(
        (m) => m.values.event_source_arn === arn(plan, 'sqs', queueName(env, key)),
      ),
    );

    // Act
    const planned = {
      name: asString(queue.values.name).replace(`-${env}-`, '-local-'),
      deadLetterQueueName: asString(dlq.values.name).replace(`-${env}-`, '-local-'),
      visibilityTimeoutSeconds: queue.values.visibility_timeout_seconds,
      messageRetentionSeconds: queue.values.message_retention_seconds,
      dlqMessageRetentionSeconds: dlq.values.message_retention_seconds,
      maxReceiveCount: redrive.maxReceiveCount,
      batchSize: mapping.values.batch_size,
      maximumBatchingWindowSeconds: mapping.values.maximum_batching_window_in_seconds,
      maximumConcurrency: block(mapping.values.scaling_config).maximum_concurrency,
      reportBatchItemFailures: asArray(mapping.values.function_response_types).includes('ReportBatchItemFailures'),
    };

    // Assess
    expect(local[key]).toEqual(planned);
  });
});
