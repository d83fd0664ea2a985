/**
 * The tables and topics: on-demand tables with point-in-time recovery, encryption and
 * deletion protection as the environment says; every topic encrypted.
 */
import { describe, expect, it } from '@jest/globals';
import { asString, block, ENVIRONMENTS, findOne, loadPlan, ofType, resourceName } from './plan.js';

describe.each(ENVIRONMENTS)('data and topics of %s', (env) => {
  it('creates the data table (pk, sk, GSI versionsByRun) and the ledger table (pk, sk, GSI byStartedAt) on demand', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const data = findOne(plan, 'aws_dynamodb_table', 'name', resourceName(plan, 'data'));
    const ledger = findOne(plan, 'aws_dynamodb_table', 'name', resourceName(plan, 'ledger'));

    // Assess
    expect(data.values).toMatchObject({ billing_mode: 'PAY_PER_REQUEST', hash_key: 'pk', range_key: 'sk' });
    expect(data.values.attribute).toEqual(
      expect.arrayContaining([
        { name: 'pk', type: 'S' },
        { name: 'sk', type: 'S' },
        { name: 'vrun', type: 'S' },
        { name: 'vdate', type: 'S' },
      ]),
    );
    // The version items of one run are one Query (see dataTableDefinition in packages/platform).
    expect(data.values.global_secondary_index).toEqual([
      expect.objectContaining({ name: 'versionsByRun', hash_key: 'vrun', range_key: 'vdate', projection_type: 'ALL' }),
    ]);
    expect(ledger.values).toMatchObject({ billing_mode: 'PAY_PER_REQUEST', hash_key: 'pk', range_key: 'sk' });
    expect(ledger.values.global_secondary_index).toEqual([
      expect.objectContaining({ name: 'byStartedAt', hash_key: 'gsi1pk', range_key: 'gsi1sk', projection_type: 'ALL' }),
    ]);
    expect(ofType(plan, 'aws_dynamodb_table')).toHaveLength(2);
  });

  it('encrypts every table and keeps point-in-time recovery on', () => {
    // Prepare
    const plan = loadPlan(env);

    for (const table of ofType(plan, 'aws_dynamodb_table')) {
      // Act
      const sse = block(table.values.server_side_encryption);
      const pitr = block(table.values.point_in_time_recovery);

      // Assess
      expect({ table: table.values.name, sse: sse.enabled, pitr: pitr.enabled }).toEqual({
        table: table.values.name,
        sse: true,
        pitr: true,
      });
    }
  });

  it('switches deletion protection as the environment says (on in prod)', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const protections = ofType(plan, 'aws_dynamodb_table').map((t) => t.values.deletion_protection_enabled);

    // Assess
    expect(protections).toEqual([
      plan.variables.deletion_protection_enabled,
      plan.variables.deletion_protection_enabled,
    ]);
    if (env === 'prod') expect(protections).toEqual([true, true]);
  });

  it('encrypts every topic: notifications with alias/aws/sns, alerts with a customer managed key', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const topics = Object.fromEntries(
      ofType(plan, 'aws_sns_topic').map((t) => [asString(t.values.name), t.values.kms_master_key_id]),
    );

    // Assess
    expect(topics).toEqual({
      [resourceName(plan, 'notifications')]: 'alias/aws/sns',
      [resourceName(plan, 'alerts')]: `alias/${resourceName(plan, 'notifications')}`,
    });
    const key = ofType(plan, 'aws_kms_key');
    expect(key).toHaveLength(1);
    expect(key[0]?.values.enable_key_rotation).toBe(true);
  });

  it('subscribes the email list of the tfvars, and the Slack forwarder to both topics', () => {
    // Prepare
    const plan = loadPlan(env);
    const emails = plan.variables.email_addresses as string[];
    const alertEmails = (plan.variables.alert_email_addresses as string[] | null) ?? emails;

    // Act
    const subscriptions = ofType(plan, 'aws_sns_topic_subscription').map((s) => ({
      protocol: s.values.protocol,
      endpoint: s.values.endpoint,
      module: s.module,
      name: s.name,
    }));

    // Assess
    expect(
      subscriptions
        .filter((s) => s.name === 'notifications_email')
        .map((s) => s.endpoint)
        .sort(),
    ).toEqual([...emails].sort());
    expect(
      subscriptions
        .filter((s) => s.name === 'alerts_email')
        .map((s) => s.endpoint)
        .sort(),
    ).toEqual([...alertEmails].sort());
    const lambda = subscriptions.filter((s) => s.protocol === 'lambda');
    expect(lambda).toHaveLength(2);
    for (const s of lambda)
      expect(s.endpoint).toMatch(new RegExp(`:function:${resourceName(plan, 'slack-forwarder')}$`));
  });
});
