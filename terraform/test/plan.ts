/**
 * Reads the offline plans that `scripts/ci/terraform-check.sh` writes to
 * `terraform/.plan/<env>.json` (`terraform show -json`) and gives the tests typed access to
 * the planned resources, their policies and the environment's variables.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TERRAFORM_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PLAN_DIR = path.join(TERRAFORM_DIR, '.plan');

/** The environments planned by the check script, each with its own root and tfvars. */
export const ENVIRONMENTS = ['dev', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The seven Lambda functions, by their service folder name. */
export const FUNCTIONS = [
  'fetcher',
  'transformer',
  'loader',
  'notifier',
  'slack-forwarder',
  'watchdog',
  'dashboard',
] as const;
export type FunctionKey = (typeof FUNCTIONS)[number];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface PlannedResource {
  /** Full address, e.g. `module.pipeline.module.queues["loader"].aws_sqs_queue.this`. */
  address: string;
  /** Address of the module instance that holds it, e.g. `module.pipeline.module.loader`. */
  module: string;
  type: string;
  name: string;
  /** Planned attribute values; unknown (known after apply) attributes are absent. */
  values: JsonObject;
  /** The attributes that are unknown until apply. */
  afterUnknown: JsonObject;
}

export interface Plan {
  environment: Environment;
  /** The whole `terraform show -json` text. */
  text: string;
  json: JsonObject;
  resources: PlannedResource[];
  /**
   * The inputs of the environment's `module "pipeline"` block: the values written there
   * (literals), else the module's defaults. Inputs given by reference (account_id, region:
   * root locals shared with the provider) are absent; see `region` and `accountId`.
   */
  variables: Record<string, Json>;
  region: string;
  accountId: string;
}

const cache = new Map<Environment, Plan>();

/** Loads (once) the plan of an environment. */
export function loadPlan(environment: Environment): Plan {
  const cached = cache.get(environment);
  if (cached) return cached;
  const text = readFileSync(path.join(PLAN_DIR, `${environment}.json`), 'utf8');
  const json = asObject(JSON.parse(text) as Json, 'plan');
  const resources = resourcesOf(json);
  const pipeline = asObject(asObject(asObject(asObject(json.configuration).root_module).module_calls).pipeline);
  const variables: Record<string, Json> = {};
  for (const [name, v] of Object.entries(asObject(asObject(pipeline.module).variables))) {
    variables[name] = asObject(v).default ?? null;
  }
  for (const [name, e] of Object.entries(asObject(pipeline.expressions))) {
    const expression = asObject(e);
    if ('constant_value' in expression) variables[name] = expression.constant_value ?? null;
    else delete variables[name];
  }
  // The region and the account as the plan resolved them: operator_config's region, and the
  // account of a queue ARN (arn:aws:sqs:<region>:<account>:<name>).
  const config = asObject(asObject(asObject(json.output_changes).operator_config).after);
  const queueArn = asString(asObject(asObject(config.queues).transformer).arn);
  const plan: Plan = {
    environment,
    text,
    json,
    resources,
    variables,
    region: asString(config.region),
    accountId: asString(queueArn.split(':')[4]),
  };
  cache.set(environment, plan);
  return plan;
}

/** Every managed resource of a `terraform show -json` plan, with its planned values. */
export function resourcesOf(json: JsonObject): PlannedResource[] {
  const unknownByAddress = new Map<string, JsonObject>();
  for (const change of asArray(json.resource_changes)) {
    const c = asObject(change, 'resource change');
    unknownByAddress.set(asString(c.address), asObject(asObject(c.change).after_unknown ?? {}));
  }
  const resources: PlannedResource[] = [];
  const walk = (module: JsonObject): void => {
    for (const r of asArray(module.resources ?? [])) {
      const resource = asObject(r);
      if (resource.mode !== 'managed') continue;
      const address = asString(resource.address);
      const type = asString(resource.type);
      const marker = address.lastIndexOf(`${type}.`);
      resources.push({
        address,
        module: marker > 0 ? address.slice(0, marker - 1) : '',
        type,
        name: asString(resource.name),
        values: asObject(resource.values ?? {}),
        afterUnknown: unknownByAddress.get(address) ?? {},
      });
    }
    for (const child of asArray(module.child_modules ?? [])) walk(asObject(child));
  };
  walk(asObject(asObject(json.planned_values).root_module));
  return resources;
}

/** Every planned resource of a type. */
export function ofType(plan: Plan, type: string): PlannedResource[] {
  return plan.resources.filter((r) => r.type === type);
}

/** The one resource of a type whose `attribute` equals `value`; throws when there is not exactly one. */
export function findOne(plan: Plan, type: string, attribute: string, value: Json): PlannedResource {
  const found = ofType(plan, type).filter((r) => r.values[attribute] === value);
  if (found.length !== 1) {
    throw new Error(
      `${plan.environment}: expected one ${type} with ${attribute} = ${String(value)}, found ${found.length}`,
    );
  }
  return found[0] as PlannedResource;
}

/** The single element of a list of resources; throws when there is not exactly one. */
export function only(resources: PlannedResource[]): PlannedResource {
  if (resources.length !== 1) {
    throw new Error(`expected exactly one resource, found ${resources.map((r) => r.address).join(', ') || 'none'}`);
  }
  return resources[0] as PlannedResource;
}

/** The resources of a type in the same module instance as `resource`. */
export function siblings(plan: Plan, resource: PlannedResource, type: string): PlannedResource[] {
  return plan.resources.filter((r) => r.module === resource.module && r.type === type);
}

/** `covid-etl-<env>-<suffix>`: how every resource of the environment is named. */
export function resourceName(plan: Plan, suffix: string): string {
  return `covid-etl-${plan.environment}-${suffix}`;
}

/** ARN of a resource of the environment's account and region. */
export function arn(plan: Plan, service: string, resource: string): string {
  const region = service === 'iam' ? '' : plan.region;
  const account = plan.accountId;
  return `arn:aws:${service}:${region}:${account}:${resource}`;
}

// ---------------------------------------------------------------------------------------
// IAM policy documents
// ---------------------------------------------------------------------------------------

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Json;
  Action: string[];
  Resource: string[];
  Condition?: JsonObject;
}

export interface PolicyDocument {
  /** Where it comes from: `<resource address>.<attribute>`. */
  source: string;
  statements: Statement[];
}

/** Every policy document of the plan: role and trust policies, queue, topic and key policies. */
export function policyDocuments(plan: Plan): PolicyDocument[] {
  const attributes: Record<string, string> = {
    aws_iam_role_policy: 'policy',
    aws_iam_role: 'assume_role_policy',
    aws_iam_policy: 'policy',
    aws_sqs_queue_policy: 'policy',
    aws_sns_topic_policy: 'policy',
    aws_kms_key: 'policy',
    aws_s3_bucket_policy: 'policy',
  };
  const documents: PolicyDocument[] = [];
  for (const r of plan.resources) {
    const attribute = attributes[r.type];
    if (!attribute) continue;
    const source = `${r.address}.${attribute}`;
    const text = r.values[attribute];
    if (typeof text !== 'string') {
      throw new Error(`${source} is not known at plan time: build its ARNs from names so the plan shows it`);
    }
    documents.push({ source, statements: parsePolicy(text) });
  }
  return documents;
}

/** Parses a policy JSON string into statements with Action and Resource always as arrays. */
export function parsePolicy(text: string): Statement[] {
  const document = asObject(JSON.parse(text) as Json, 'policy');
  const raw = Array.isArray(document.Statement) ? document.Statement : [document.Statement ?? null];
  return raw.map((s) => {
    const statement = asObject(s, 'statement');
    return {
      ...(typeof statement.Sid === 'string' ? { Sid: statement.Sid } : {}),
      Effect: statement.Effect === 'Deny' ? 'Deny' : 'Allow',
      ...(statement.Principal !== undefined ? { Principal: statement.Principal } : {}),
      Action: toStrings(statement.Action),
      Resource: toStrings(statement.Resource),
      ...(statement.Condition !== undefined ? { Condition: asObject(statement.Condition) } : {}),
    };
  });
}

/** The statements of a Lambda function's own role policy (the lambda-function module's). */
export function functionStatements(plan: Plan, key: FunctionKey): Statement[] {
  const fn = findOne(plan, 'aws_lambda_function', 'function_name', resourceName(plan, key));
  const policies = siblings(plan, fn, 'aws_iam_role_policy');
  if (policies.length !== 1) throw new Error(`${fn.address}: expected one role policy, found ${policies.length}`);
  return parsePolicy(asString((policies[0] as PlannedResource).values.policy));
}

// ---------------------------------------------------------------------------------------
// JSON access
// ---------------------------------------------------------------------------------------

export function asObject(value: Json | undefined, what = 'value'): JsonObject {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`expected ${what} to be an object, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function asArray(value: Json | undefined): Json[] {
  if (!Array.isArray(value)) throw new Error(`expected an array, got ${JSON.stringify(value)}`);
  return value;
}

export function asString(value: Json | undefined): string {
  if (typeof value !== 'string') throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
}

export function asNumber(value: Json | undefined): number {
  if (typeof value !== 'number') throw new Error(`expected a number, got ${JSON.stringify(value)}`);
  return value;
}

/** The first element of a nested block (Terraform plans show blocks as one-element arrays). */
export function block(value: Json | undefined): JsonObject {
  return asObject(asArray(value)[0]);
}

function toStrings(value: Json | undefined): string[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map((v) => asString(v)) : [asString(value)];
}
