/**
 * The Slack webhook URL never enters Terraform: the SSM SecureString is created through a
 * write-only argument with a placeholder, and the operator sets the real URL.
 */
import { describe, expect, it } from '@jest/globals';
import { asObject, asString, ENVIRONMENTS, findOne, type Json, loadPlan } from './plan.js';

/** Every resource block of the configuration (root and module calls, recursively). */
function configResources(module: Json | undefined): { address: string; expressions: Record<string, Json> }[] {
  const m = asObject(module);
  const own = ((m.resources as Json[] | undefined) ?? []).map((r) => ({
    address: asString(asObject(r).address),
    expressions: asObject(asObject(r).expressions ?? {}),
  }));
  const calls = Object.values(asObject(m.module_calls ?? {})).flatMap((call) => configResources(asObject(call).module));
  return [...own, ...calls];
}

describe.each(ENVIRONMENTS)('secrets of %s', (env) => {
  it('creates the webhook parameter as a SecureString with no value in the plan', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const parameter = findOne(plan, 'aws_ssm_parameter', 'name', `/covid-etl/${env}/slack-webhook-url`);

    // Assess
    expect(parameter.values.type).toBe('SecureString');
    expect(asString(parameter.values.key_id)).toMatch(/^alias\//);
    expect(parameter.values.value ?? null).toBeNull();
    expect(parameter.values.insecure_value ?? null).toBeNull();
    expect(parameter.values.value_wo).toBeNull();
    expect(parameter.values.value_wo_version).toEqual(expect.any(Number));
  });

  it('writes the parameter only through the write-only argument', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const block = configResources(asObject(plan.json.configuration).root_module).find((r) =>
      r.address.endsWith('aws_ssm_parameter.slack_webhook'),
    );

    // Assess
    expect(block).toBeDefined();
    expect(Object.keys(block?.expressions ?? {})).not.toContain('value');
    expect(Object.keys(block?.expressions ?? {})).not.toContain('insecure_value');
    expect(Object.keys(block?.expressions ?? {})).toContain('value_wo');
  });

  it('has no Slack webhook URL anywhere in the plan, and no variable that could carry one', () => {
    // Prepare
    const plan = loadPlan(env);

    // Act
    const webhookUrls = plan.text.match(/https?:\/\/hooks\.slack\.com[^"]*/g) ?? [];
    const webhookVariables = Object.keys(plan.variables).filter((name) => /webhook|slack_url|secret/i.test(name));

    // Assess
    expect(webhookUrls).toEqual([]);
    expect(webhookVariables).toEqual([]);
    expect(plan.text).not.toMatch(/hooks\.slack\.com/);
  });
});
