/**
 * Per-session Cloudflare credentials from request headers:
 *   X-Cloudflare-Api-Token, or X-Auth-Email + X-Auth-Key (the token wins, as in env);
 *   X-Cloudflare-Account-Id: the session's default account.
 * Stateful sessions are bound to what their initialize carried (SessionBinding); stateless requests use
 * their own. Without headers the server's own credentials apply. The values are never logged or echoed:
 * errors name the header, never its content.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { fixedCredentials, type CredentialInput, type CredentialSource } from '../cloudflare/auth.js';
import { constantTimeEqual } from './auth.js';

export const TOKEN_HEADER = 'x-cloudflare-api-token';
export const EMAIL_HEADER = 'x-auth-email';
export const KEY_HEADER = 'x-auth-key';
export const ACCOUNT_HEADER = 'x-cloudflare-account-id';

const ACCOUNT_ID_PATTERN = /^[0-9a-f]{32}$/;

/** What one request says about whose Cloudflare credentials to use. */
export interface RequestCredentials {
  /** From headers; undefined: the server's own (env, Worker secrets). */
  readonly input: CredentialInput | undefined;
  readonly accountId: string | undefined;
  /** Whether any of the four headers was sent. */
  readonly present: boolean;
  /** The effective credentials and account as one string, to compare requests; never logged. */
  readonly fingerprint: string;
  /** Values a Redactor must scrub (token, key). */
  readonly secrets: readonly string[];
}

export type CredentialsResult = { ok: true; value: RequestCredentials } | { ok: false; message: string };

function header(headers: Headers, name: string): string | undefined {
  const value = headers.get(name)?.trim();
  return value ? value : undefined;
}

export function readRequestCredentials(headers: Headers): CredentialsResult {
  const token = header(headers, TOKEN_HEADER);
  const email = header(headers, EMAIL_HEADER);
  const key = header(headers, KEY_HEADER);
  const accountId = header(headers, ACCOUNT_HEADER);
  if (accountId !== undefined && !ACCOUNT_ID_PATTERN.test(accountId)) {
    return { ok: false, message: 'X-Cloudflare-Account-Id must be 32 lowercase hex characters (the Account ID from the Cloudflare dashboard).' };
  }
  if (token === undefined && (email === undefined) !== (key === undefined)) {
    return { ok: false, message: 'X-Auth-Email and X-Auth-Key go together (Global API Key); or send X-Cloudflare-Api-Token instead.' };
  }
  const present = [token, email, key, accountId].some((value) => value !== undefined);
  let input: CredentialInput | undefined;
  let effective = '';
  if (token !== undefined) {
    input = { CLOUDFLARE_API_TOKEN: token };
    effective = `token\n${token}`;
  } else if (email !== undefined && key !== undefined) {
    input = { CLOUDFLARE_EMAIL: email, CLOUDFLARE_API_KEY: key };
    effective = `key\n${email.toLowerCase()}\n${key}`;
  }
  const secrets = [token ?? key].filter((value): value is string => value !== undefined);
  return { ok: true, value: { input, accountId, present, fingerprint: `${effective}\naccount\n${accountId ?? ''}`, secrets } };
}

/** What a stateful session was opened with: later requests may repeat it or say nothing, never change it. */
export class SessionBinding {
  constructor(
    private readonly fingerprint: string,
    /** The caller endpoint auth verified at initialize (Access email), if any. */
    readonly actor: string | undefined,
  ) {}

  static of(credentials: RequestCredentials, actor: string | undefined): SessionBinding {
    // Opened without headers: the server's own credentials; any header later is a change.
    return new SessionBinding(credentials.present ? credentials.fingerprint : '', actor);
  }

  admits(credentials: RequestCredentials, actor: string | undefined): boolean {
    if (this.actor !== actor) return false;
    return !credentials.present || constantTimeEqual(credentials.fingerprint, this.fingerprint);
  }
}

/** What a session's (or a stateless request's) server is built with, beyond the operator's settings. */
export interface SessionServerOptions {
  /** The session's own credentials; absent: the server's. */
  credentials?: CredentialSource;
  defaultAccountId?: string;
  /** Who endpoint auth says is calling; written into every audit line. */
  actor?: string;
  /** False when the transport cannot carry a request to the client (stateless): no elicitation. */
  canAskClient: boolean;
}

/** Builds one MCP server (src/wiring.ts `createServer`); the HTTP layer never imports the server itself. */
export type ServerFactory = (options: SessionServerOptions) => Server;

export function sessionServerOptions(credentials: RequestCredentials, actor: string | undefined, canAskClient: boolean): SessionServerOptions {
  return {
    ...(credentials.input ? { credentials: fixedCredentials(credentials.input) } : {}),
    ...(credentials.accountId ? { defaultAccountId: credentials.accountId } : {}),
    ...(actor !== undefined ? { actor } : {}),
    canAskClient,
  };
}
