import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { redactUrl, type SourceId } from '@covid-etl/contracts';
import { PermanentError } from '@covid-etl/platform';

/** A source URL (or a redirect hop) that this environment does not accept. */
export class SourceUrlRefusedError extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = 'SourceUrlRefusedError';
  }
}

/** Resolves a host name to its addresses (injectable in tests). */
export type HostResolver = (hostname: string) => Promise<string[]>;

export interface UrlPolicyOptions {
  /** `local` accepts `file://` and `http://` to loopback too; every other environment https only. */
  environment: string;
  /** When set, the only host names a URL may use (every redirect hop included). */
  allowedHosts?: readonly string[];
  resolve?: HostResolver;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Addresses a deployed fetcher must never reach: loopback, private, link-local and other special ranges. */
const INTERNAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv6');
}

/** Whether an IP address is loopback, private, link-local or otherwise not a public address. */
export function isInternalAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return INTERNAL.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return INTERNAL.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const defaultResolve: HostResolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * The rules every source URL and every redirect hop must pass before a byte is requested:
 * https only outside `local` (locally also `file://` and `http://` to loopback), the optional
 * host allow-list, and, outside `local`, a host whose resolved addresses are all public (no
 * loopback, private or link-local address). Messages show URLs redacted.
 */
export class UrlPolicy {
  private readonly local: boolean;
  private readonly allowedHosts: Set<string> | undefined;
  private readonly resolve: HostResolver;

  constructor(private readonly options: UrlPolicyOptions) {
    this.local = options.environment === 'local';
    const hosts = options.allowedHosts?.map((host) => host.trim().toLowerCase()).filter(Boolean) ?? [];
    this.allowedHosts = hosts.length > 0 ? new Set(hosts) : undefined;
    this.resolve = options.resolve ?? defaultResolve;
  }

  /** Checks the syntax-level rules (scheme, host allow-list); throws {@link SourceUrlRefusedError}. */
  checkSyntax(id: SourceId, url: string, hop?: string): URL {
    const where = hop ? ` (${hop})` : '';
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new SourceUrlRefusedError(
        `${id} URL "${redactUrl(url)}"${where} is not a URL (expected https://…${this.local ? ', or file:// locally' : ''})`,
      );
    }
    const shown = redactUrl(parsed.href);
    const loopbackHttp = parsed.protocol === 'http:' && LOOPBACK_NAMES.has(parsed.hostname);
    // A redirect never leads to a local file.
    const allowed =
      parsed.protocol === 'https:' || (this.local && ((parsed.protocol === 'file:' && !hop) || loopbackHttp));
    if (!allowed) {
      throw new SourceUrlRefusedError(
        `${id} URL "${shown}"${where} is refused in the ${this.options.environment} environment: only https:// URLs${
          this.local ? ', http://127.0.0.1 and file://' : ''
        } are accepted`,
      );
    }
    if (parsed.protocol !== 'file:' && this.allowedHosts && !this.allowedHosts.has(parsed.hostname.toLowerCase())) {
      throw new SourceUrlRefusedError(
        `${id} URL "${shown}"${where} is refused: host ${parsed.hostname} is not in the allowed hosts (${[
          ...this.allowedHosts,
        ].join(', ')})`,
      );
    }
    return parsed;
  }

  /**
   * Checks one URL about to be requested: the syntax rules, then (outside `local`) the
   * addresses its host resolves to. Throws {@link SourceUrlRefusedError}.
   */
  async check(id: SourceId, url: string, hop?: string): Promise<URL> {
    const parsed = this.checkSyntax(id, url, hop);
    if (this.local || parsed.protocol === 'file:') return parsed;
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : await this.resolve(host);
    } catch (error) {
      throw new SourceUrlRefusedError(
        `${id} URL "${redactUrl(parsed.href)}"${hop ? ` (${hop})` : ''}: host ${host} does not resolve (${
          (error as Error).message
        })`,
      );
    }
    const internal = addresses.find(isInternalAddress);
    if (internal !== undefined || addresses.length === 0) {
      throw new SourceUrlRefusedError(
        `${id} URL "${redactUrl(parsed.href)}"${hop ? ` (${hop})` : ''} is refused: host ${host} resolves to ${
          internal ?? 'no address'
        }, a loopback, private or link-local address`,
      );
    }
    return parsed;
  }
}
