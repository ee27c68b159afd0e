/**
 * Endpoint auth, checked before any MCP processing (the body is not even
 * read): a shared bearer (MCP_HTTP_BEARER / --bearer-file) and/or Cloudflare
 * Access (src/http/access.ts). Each configured check must pass. The bearer is
 * ours alone: the Cloudflare client builds its own headers, so it is never
 * forwarded upstream.
 */
import type { Logger } from '../log.js';
import { ACCESS_JWT_HEADER, createAccessVerifier, type AccessSettings, type AccessVerifier, type AccessVerifierOptions } from './access.js';
import { jsonRpcError, SERVER_ERROR } from './body.js';

export interface EndpointAuthSettings {
  /** Every request must carry `Authorization: Bearer <bearer>`. */
  bearer?: string | undefined;
  access?: AccessSettings | undefined;
}

export type AuthOutcome = { ok: true; actor: string | undefined } | { ok: false; response: Response };

/**
 * Compares without an early exit, so the time taken does not tell how much of a guess was right. Only the
 * expected value's length shows.
 */
export function constantTimeEqual(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i % Math.max(1, a.length)] ?? 0) ^ b[i]!;
  return diff === 0;
}


const BEARER_CHALLENGE = 'Bearer realm="cloudflare-users-mcp"';

function refuse(status: number, message: string, challenge?: string): AuthOutcome {
  return { ok: false, response: jsonRpcError(status, SERVER_ERROR, message, challenge ? { 'www-authenticate': challenge } : {}) };
}

export class EndpointAuth {
  private readonly access: AccessVerifier | undefined;
  private readonly accessChallenge: string;

  constructor(
    private readonly settings: EndpointAuthSettings,
    private readonly logger: Logger,
    accessOptions: AccessVerifierOptions = {},
  ) {
    this.access = settings.access ? createAccessVerifier(settings.access, accessOptions) : undefined;
    this.accessChallenge = `CloudflareAccess realm="${settings.access?.teamDomain ?? ''}"`;
  }

  /** Whether anything is checked: binding beyond loopback requires it. */
  get configured(): boolean {
    return Boolean(this.settings.bearer) || this.access !== undefined;
  }

  async check(headers: Headers, path: string): Promise<AuthOutcome> {
    const { bearer } = this.settings;
    if (bearer) {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(headers.get('authorization') ?? '');
      if (!match || !constantTimeEqual(match[1]!, bearer)) {
        this.logger.warn('endpoint auth refused', { path, reason: match ? 'wrong bearer' : 'no bearer' });
        return refuse(401, 'Unauthorized: send Authorization: Bearer <the token set in MCP_HTTP_BEARER or --bearer-file>', BEARER_CHALLENGE);
      }
    }
    if (!this.access) return { ok: true, actor: undefined };
    const verdict = await this.access(headers.get(ACCESS_JWT_HEADER));
    if (verdict.ok) return { ok: true, actor: verdict.actor };
    this.logger.warn('endpoint auth refused', { path, reason: verdict.reason });
    const message = `${verdict.status === 503 ? 'Service unavailable' : verdict.status === 401 ? 'Unauthorized' : 'Forbidden'}: ${verdict.reason}`;
    return refuse(verdict.status, message, verdict.status === 401 ? this.accessChallenge : undefined);
  }
}
