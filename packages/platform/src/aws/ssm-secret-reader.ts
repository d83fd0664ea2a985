import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { ConfigurationError } from '../errors.js';
import type { SecretReader } from '../ports.js';

/**
 * Reads SecureString parameters (decrypted) from SSM Parameter Store at run time, caching
 * each for `ttlMs` so a warm Lambda does not call SSM on every message.
 */
export class SsmSecretReader implements SecretReader {
  private readonly cache = new Map<string, { value: string; expires: number }>();

  constructor(
    private readonly client: SSMClient,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  async read(name: string): Promise<string> {
    const cached = this.cache.get(name);
    if (cached && cached.expires > Date.now()) return cached.value;
    const response = await this.client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    const value = response.Parameter?.Value?.trim();
    if (!value) throw new ConfigurationError(`SSM parameter ${name} is empty: set it with aws ssm put-parameter`);
    this.cache.set(name, { value, expires: Date.now() + this.ttlMs });
    return value;
  }
}
