/**
 * Safety of a deployed environment: no queue or topic answers a request sent without TLS,
 * and every function has a reserved concurrency, so no burst on one function (the
 * dashboard, say) can take the account's concurrency and push the pipeline into its DLQs.
 */
import { QUEUES } from '@covid-etl/contracts';
import { describe, expect, it } from '@jest/globals';
import {
  arn,
  asString,
  ENVIRONMENTS,
  FUNCTIONS,
  findOne,
  loadPlan,
  ofType,
  type Plan,
  parsePolicy,
  resourceName,
} from './plan.js';

const tlsDeny = (service: 'sqs' | 'sns', resource: string) => ({
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: [`${service}:*`],
  Resource: [resource],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

/** The parsed policies of a resource type, keyed by every ARN their statements name. */
function policiesByResource(plan: Plan, type: string): Map<string, ReturnType<typeof parsePolicy>> {
  const byResource = new Map<string, ReturnType<typeof parsePolicy>>();
  for (const policy of ofType(plan, type)) {
    const statements = parsePolicy(asString(policy.values.policy));
    for (const resource of new Set(statements.flatMap((s) => s.Resource))) {
      if (byResource.has(resource)) throw new Error(`${plan.environment}: two ${type} name ${resource}`);
      byResource.set(resource, statements);
    }
  }
  return byResource;
}

describe.each(ENVIRONMENTS)('safety of %s', (env) => {
  it('denies every request not sent over TLS on every SQS queue', () => {
    // Prepare
    const plan = loadPlan(env);
    const queueArns = ofType(plan, 'aws_sqs_queue').map((q) => arn(plan, 'sqs', asString(q.values.name)));

    // Act
    const policies = policiesByResource(plan, 'aws_sqs_queue_policy');

    // Assess
    expect(queueArns.length).toBeGreaterThanOrEqual(10);
    for (const queueArn of queueArns) {
      expect({ queueArn, statements: policies.get(queueArn) ?? [] }).toEqual({
        queueArn,
        statements: expect.arrayContaining([tlsDeny('sqs', queueArn)]),
      });
    }
  });

  it('denies every request not sent over TLS on every SNS topic', () => {
    // Prepare
    const plan = loadPlan(env);
    const topicArns = ofType(plan, 'aws_sns_topic').map((t) => arn(plan, 'sns', asString(t.values.name)));

    // Act
    const policies = policiesByResource(plan, 'aws_sns_topic_policy');

    // Assess
    expect(topicArns).toHaveLength(2);
    for (const topicArn of topicArns) {
      expect({ topicArn, statements: policies.get(topicArn) ?? [] }).toEqual({
        topicArn,
        statements: expect.arrayContaining([tlsDeny('sns', topicArn)]),
      });
    }
  });

  it('reserves concurrency for every function, at least the maximum concurrency of an SQS consumer', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const reserved = Object.fromEntries(
      FUNCTIONS.map((key) => [
        key,
        findOne(plan, 'aws_lambda_function', 'function_name', resourceName(plan, key)).values
          .reserved_concurrent_executions,
      ]),
    );

    // Assess
    for (const key of FUNCTIONS) {
      expect({ key, reserved: reserved[key] }).toEqual({ key, reserved: expect.any(Number) });
      expect({ key, atLeastOne: (reserved[key] as number) >= 1 }).toEqual({ key, atLeastOne: true });
    }
    for (const queue of Object.values(QUEUES)) {
      expect(reserved[queue.consumer]).toBeGreaterThanOrEqual(queue.maximumConcurrency);
    }
  });
});
