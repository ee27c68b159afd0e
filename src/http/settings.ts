/**
 * HTTP settings that configuration parses: the limits' defaults and the Cloudflare Access settings. Kept
 * apart from the app (hono) and the verifier (jose) so that reading the configuration, which every start
 * does, stdio included, loads neither.
 */
import { HttpSettingsError, isLoopbackHost } from './hosts.js';

export interface HttpLimits {
  /** POST /mcp and POST /messages bodies above this get 413 (JSON-RPC messages are small). */
  maxBodyBytes: number;
  /** Sessions (either transport) with nothing in flight unused this long are closed by sweep(). */
  sessionIdleMs: number;
  /** Streamable HTTP and SSE sessions together; beyond it the least recently used idle one is closed. */
  maxSessions: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { maxBodyBytes: 1_048_576, sessionIdleMs: 1_800_000, maxSessions: 1_000 };

export interface AccessSettings {
  /** The team domain as an origin, e.g. https://acme.cloudflareaccess.com; also the expected issuer. */
  teamDomain: string;
  /** The Access application's AUD tag. */
  audience: string;
}

/**
 * Both or neither. The team domain may be given without a scheme; it must be https, except a loopback
 * address (a test key server): the keys decide who gets in, so they must not travel in the clear.
 */
export function parseAccessSettings(teamDomain: string | undefined, audience: string | undefined): AccessSettings | undefined {
  const domain = teamDomain?.trim() || undefined;
  const aud = audience?.trim() || undefined;
  if (domain === undefined && aud === undefined) return undefined;
  if (domain === undefined || aud === undefined) {
    throw new HttpSettingsError('Cloudflare Access needs both --access-team-domain (CLOUDFLARE_ACCESS_TEAM_DOMAIN) and --access-aud (CLOUDFLARE_ACCESS_AUD).');
  }
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(domain) ? domain : `https://${domain}`);
  } catch {
    throw new HttpSettingsError('--access-team-domain must be your team domain, such as https://<team>.cloudflareaccess.com.');
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new HttpSettingsError('--access-team-domain must be the team domain alone (https://<team>.cloudflareaccess.com), without a path.');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new HttpSettingsError('--access-team-domain must use https (plain http only for a loopback address).');
  }
  if (/\s/.test(aud)) throw new HttpSettingsError('--access-aud must be the Access application\'s AUD tag (no spaces).');
  return { teamDomain: url.origin, audience: aud };
}

/** A bearer worth the name: at least 16 printable characters, no spaces (it travels in a header). Empty: none. */
export function parseBearer(raw: string | undefined, from: string): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^[\x21-\x7e]{16,}$/.test(raw)) {
    throw new HttpSettingsError(`${from}: the bearer must be at least 16 printable characters, without spaces (e.g. openssl rand -hex 32).`);
  }
  return raw;
}

/**
 * CLOUDFLARE_READ_ONLY, the same on the CLI and Workers: true/1/yes/on or false/0/no/off (empty: unset).
 * Anything else is an error, not "false": a typo must not quietly serve the write tools.
 */
export function parseReadOnly(raw: string | undefined): boolean {
  const value = raw?.trim().toLowerCase() ?? '';
  if (/^(1|true|yes|on)$/.test(value)) return true;
  if (/^(0|false|no|off|)$/.test(value)) return false;
  throw new HttpSettingsError(`CLOUDFLARE_READ_ONLY must be true or false (1 or 0) (got ${JSON.stringify(raw)}).`);
}
