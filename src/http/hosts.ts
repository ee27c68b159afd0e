/**
 * Host and Origin policy (DNS-rebinding protection), portable. On Node the
 * server answers only to its own loopback names, plus names the operator
 * lists (--allowed-hosts, --allowed-origins). On Workers the request arrives
 * by the route's public name, where rebinding has nothing to reach: only a
 * browser Origin other than the Worker's own (or a listed one) is refused.
 */

export class HttpSettingsError extends Error {
  override readonly name = 'HttpSettingsError';
}

/** 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

export type HostPolicy =
  /** Node: Host must be one of `hosts` (exact host:port) or a name in `names` (any port). */
  | { kind: 'listed'; hosts: ReadonlySet<string>; names: ReadonlySet<string>; origins: ReadonlySet<string> }
  /** Workers: any Host; an Origin must be the request's own or listed. */
  | { kind: 'same-origin'; origins: ReadonlySet<string> };

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const WILDCARD_BINDS = ['0.0.0.0', '[::]', '::'];

/** `[::1]` for an IPv6 literal, as it appears in a Host header. */
function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * "mcp.example.com", "mcp.example.com:8443", "[::1]:8787" → normalized entries. A name without a port is
 * accepted on any port (behind a proxy the Host header often has none).
 */
export function parseAllowedHosts(raw: string | undefined): string[] {
  const entries = (raw ?? '').split(/[\s,]+/).filter(Boolean);
  return entries.map((entry) => {
    const value = entry.toLowerCase();
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/.test(value)) {
      throw new HttpSettingsError(`--allowed-hosts: ${JSON.stringify(entry)} is not a host name or host:port (IPv6 in brackets).`);
    }
    return value;
  });
}

/** "https://mcp.example.com" → its origin; anything that is not an http(s) origin is refused. */
export function parseAllowedOrigins(raw: string | undefined): string[] {
  const entries = (raw ?? '').split(/[\s,]+/).filter(Boolean);
  return entries.map((entry) => {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new HttpSettingsError(`--allowed-origins: ${JSON.stringify(entry)} is not an origin such as https://mcp.example.com.`);
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== entry.replace(/\/$/, '').toLowerCase()) {
      throw new HttpSettingsError(`--allowed-origins: ${JSON.stringify(entry)} must be scheme://host[:port], nothing else.`);
    }
    return url.origin;
  });
}

/** The Node policy: this server's loopback names on its port, plus the operator's. */
export function listedHostPolicy(bindHost: string, port: number, extra: { hosts?: readonly string[]; origins?: readonly string[] } = {}): HostPolicy {
  const names = new Set(LOOPBACK_NAMES);
  const bound = bracketed(bindHost.toLowerCase());
  if (!WILDCARD_BINDS.includes(bindHost)) names.add(bound);
  const hosts = new Set([...names].map((name) => `${name}:${port}`));
  const anyPort = new Set<string>();
  for (const entry of extra.hosts ?? []) {
    if (/:\d+$/.test(entry)) hosts.add(entry);
    else anyPort.add(entry);
  }
  return { kind: 'listed', hosts, names: anyPort, origins: new Set(extra.origins ?? []) };
}

export function sameOriginPolicy(origins: readonly string[] = []): HostPolicy {
  return { kind: 'same-origin', origins: new Set(origins) };
}

function hostAllowed(policy: Extract<HostPolicy, { kind: 'listed' }>, host: string): boolean {
  const value = host.toLowerCase();
  return policy.hosts.has(value) || policy.names.has(value.replace(/:\d+$/, ''));
}

/**
 * A page on another site can reach a loopback server by rebinding its own name to 127.0.0.1; the Host (and,
 * from browsers, Origin) header still names that site. An absent Origin is a non-browser client.
 */
export function isAllowedHostAndOrigin(headers: Headers, requestUrl: string, policy: HostPolicy): boolean {
  const origin = headers.get('origin');
  if (policy.kind === 'same-origin') return origin === null || policy.origins.has(origin) || origin === new URL(requestUrl).origin;
  if (!hostAllowed(policy, headers.get('host') ?? '')) return false;
  if (origin === null || policy.origins.has(origin)) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && hostAllowed(policy, url.host || url.hostname);
  } catch {
    return false;
  }
}
