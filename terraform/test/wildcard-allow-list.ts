/**
 * The only places where the plan may hold a wildcard ("*") in an IAM action or resource,
 * each with the reason AWS needs it. test/iam.test.ts fails on any other wildcard, and on
 * an entry here that the plan no longer needs.
 */
export interface AllowedWildcard {
  /** Sid of the statement. */
  sid: string;
  /** Which policies may hold it (matched against `<resource address>.<attribute>`). */
  source: RegExp;
  field: 'Action' | 'Resource';
  value: string | RegExp;
  why: string;
}

/** The only wildcards the plan may contain, and why AWS needs each. */
export const WILDCARD_ALLOW_LIST: AllowedWildcard[] = [
  {
    sid: 'WriteXRayTraces',
    source: /aws_iam_role_policy\.this\.policy$/,
    field: 'Resource',
    value: '*',
    why: 'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions: AWS requires "*".',
  },
  {
    sid: 'WriteOwnLogs',
    source: /aws_iam_role_policy\.this\.policy$/,
    field: 'Resource',
    value: /^arn:aws:logs:[a-z0-9-]+:\d{12}:log-group:\/aws\/lambda\/covid-etl-[a-z0-9-]+:\*$/,
    why: "The log streams of the function's own log group: Lambda names the streams, so the ARN ends in :*.",
  },
  {
    sid: 'DecryptSlackWebhookParameter',
    source: /aws_iam_role_policy\.this\.policy$/,
    field: 'Resource',
    value: /^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/\*$/,
    why: 'The key the operator encrypts the webhook with is not known to Terraform; the conditions kms:ViaService (SSM) and kms:EncryptionContext:PARAMETER_ARN pin Decrypt to that one parameter.',
  },
  {
    sid: 'EnableIamPolicies',
    source: /aws_kms_key\.this\.policy$/,
    field: 'Action',
    value: 'kms:*',
    why: "AWS's default key policy: the account root may use the key, so IAM policies decide who does. Without it the key cannot be managed.",
  },
  {
    sid: 'EnableIamPolicies',
    source: /aws_kms_key\.this\.policy$/,
    field: 'Resource',
    value: '*',
    why: 'In a key policy, "*" means the key that carries the policy.',
  },
  {
    sid: 'AllowCloudWatchAlarmsToPublishToTheAlertsTopic',
    source: /aws_kms_key\.this\.policy$/,
    field: 'Resource',
    value: '*',
    why: 'In a key policy, "*" means the key that carries the policy.',
  },
];
