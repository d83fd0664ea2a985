import { DEFAULT_QUALITY_GATES, EnvVar, QualityGates } from '@covid-etl/contracts';
import { ConfigurationError, getOptionalStringFromEnv } from '@covid-etl/platform';

type Env = Record<string, string | undefined>;

/**
 * The data-quality gate thresholds: DEFAULT_QUALITY_GATES, overridden by the JSON object in
 * `QUALITY_GATES` (Terraform's `quality_gates` variable). Read once at start; a malformed value
 * or an unknown key fails the cold start with one line.
 */
export function qualityGatesFromEnv(env: Env = process.env): QualityGates {
  const raw = env[EnvVar.QualityGates]?.trim();
  if (!raw) return DEFAULT_QUALITY_GATES;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigurationError(`Environment variable ${EnvVar.QualityGates} is not JSON: ${raw.slice(0, 200)}`);
  }
  const parsed = QualityGates.safeParse({ ...DEFAULT_QUALITY_GATES, ...(json as object) });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'value'}: ${issue.message}`);
    throw new ConfigurationError(`Environment variable ${EnvVar.QualityGates} is invalid: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** The optional source host allow-list (`SOURCE_ALLOWED_HOSTS`, comma-separated); empty: any public host. */
export function allowedHostsFromEnv(env: Env = process.env): string[] {
  return getOptionalStringFromEnv({ key: EnvVar.SourceAllowedHosts, defaultValue: '', env })
    .split(',')
    .map((host) => host.trim())
    .filter(Boolean);
}
