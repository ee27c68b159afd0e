/**
 * One typed error for everything that can go wrong between us and Cloudflare,
 * and the one function that turns it into a sentence a model can act on.
 */
import { redactText } from '../redact.js';
import { TOKEN_PAGE_URL } from './auth.js';

export type ApiErrorKind =
  | 'api' //            Cloudflare answered with an error envelope or a non-2xx status
  | 'bad_response' //   2xx that is not a usable V4 envelope (HTML page, invalid JSON, no result)
  | 'network' //        no complete response: reset, refused, header/body timeout, truncated body
  | 'timeout' //        the call's overall deadline passed
  | 'too_large'; //     body over the response-size cap

export interface CloudflareMessage {
  code: number;
  message: string;
}

export interface ApiErrorDetails {
  kind: ApiErrorKind;
  method: string;
  status?: number;
  errors?: CloudflareMessage[];
  attempts: number;
  /** Seconds the caller should wait before trying again (429). */
  retryAfterSeconds?: number;
  /** Short technical detail: network error code, body snippet. */
  detail?: string;
}

export class CloudflareApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly method: string;
  readonly status: number | undefined;
  readonly errors: CloudflareMessage[];
  readonly attempts: number;
  readonly retryAfterSeconds: number | undefined;
  readonly detail: string | undefined;

  constructor(details: ApiErrorDetails) {
    const codes = (details.errors ?? []).map((e) => `${e.code}: ${e.message}`).join('; ');
    super(redactText(`Cloudflare API ${details.kind} error${details.status ? ` (HTTP ${details.status})` : ''}${codes ? ` [${codes}]` : ''}${details.detail ? ` ${details.detail}` : ''}`));
    this.name = 'CloudflareApiError';
    this.kind = details.kind;
    this.method = details.method;
    this.status = details.status;
    this.errors = details.errors ?? [];
    this.attempts = details.attempts;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.detail = details.detail;
  }

  hasCode(...codes: number[]): boolean {
    return this.errors.some((e) => codes.includes(e.code));
  }
}

/** What the failing tool was doing, so the message can name the ids and the permission. */
export interface ErrorContext {
  tool: string;
  /** Token permission the tool needs, as Cloudflare names it. */
  permission: string;
  account_id?: string;
  user_id?: string;
  nonce?: string;
  email?: string;
}

const AUTH_CODES = [10000, 9109, 9103, 9106, 6003, 6111];
const ROUTE_CODES = [7003, 7000];

function cloudflareSays(error: CloudflareApiError): string {
  if (error.errors.length === 0) return '';
  return ` Cloudflare said: ${error.errors.map((e) => `${e.code} ${e.message}`).join('; ')}.`;
}

function attemptsText(error: CloudflareApiError): string {
  const retries = error.attempts - 1;
  return retries > 0 ? `, after ${retries} ${retries === 1 ? 'retry' : 'retries'}` : '';
}

/** A create whose outcome we cannot know must not be retried blindly: it may have been processed. */
function checkBeforeRetry(ctx: ErrorContext): string {
  return ` The create may or may not have happened: check with list_access_users${ctx.email ? ` (email: ${ctx.email})` : ''} before retrying.`;
}

/** The single mapping from an API failure to the text of an isError tool result. */
export function describeApiError(error: CloudflareApiError, ctx: ErrorContext): string {
  const status = error.status ? `HTTP ${error.status}` : error.kind;
  let text: string;
  switch (error.kind) {
    case 'timeout':
      text = `Cloudflare did not answer in time (${error.detail ?? 'deadline passed'}${attemptsText(error)}).`;
      text += error.method === 'POST' ? checkBeforeRetry(ctx) : ' Try again shortly.';
      break;
    case 'network':
      text = `Could not get a complete response from the Cloudflare API (${error.detail ?? 'connection failed'}${attemptsText(error)}).`;
      text += error.method === 'POST' ? checkBeforeRetry(ctx) : ' Check network access to api.cloudflare.com, or try again shortly.';
      break;
    case 'too_large':
      text = `Cloudflare's response was too large to process (${error.detail ?? 'over the size cap'}).`;
      // A create's answer is one user: if it is too large, the create itself still may have happened.
      text += error.method === 'POST' ? checkBeforeRetry(ctx) : ' Ask for less: a smaller per_page, or filters.';
      break;
    case 'bad_response':
      text = `Cloudflare returned an unexpected response (${status}${error.detail ? `: ${error.detail}` : ''}${attemptsText(error)}).`;
      // A 2xx answer to a create means it was most likely processed: a blind retry would create twice (or hit 409).
      text += error.method === 'POST' ? checkBeforeRetry(ctx) : ' This is usually a transient Cloudflare-side problem: try again shortly.';
      break;
    case 'api':
    default:
      text = describeApiStatus(error, ctx);
  }
  return redactText(text);
}

function describeApiStatus(error: CloudflareApiError, ctx: ErrorContext): string {
  const status = error.status ?? 0;
  if (status === 429) {
    const after = error.retryAfterSeconds !== undefined ? `after ${error.retryAfterSeconds} s` : 'in a minute';
    const retries = error.attempts - 1;
    const retried = retries > 0 ? `; retried ${retries} ${retries === 1 ? 'time' : 'times'}` : '; not retried, the wait asked for is longer than this call may take';
    return `Cloudflare rate limit reached (HTTP 429)${retried}. Try again ${after}.${cloudflareSays(error)}`;
  }
  if (error.hasCode(...AUTH_CODES) || status === 401 || status === 403) {
    return `Cloudflare rejected the credentials (HTTP ${status}).${cloudflareSays(error)} The API token is invalid or expired, or it lacks the permission this tool needs: ${ctx.permission}${ctx.account_id ? ` on account ${ctx.account_id}` : ''}. Check or edit the token at ${TOKEN_PAGE_URL}.`;
  }
  if (error.hasCode(...ROUTE_CODES)) {
    return `Cloudflare could not route the request: the account_id${ctx.user_id ? ' or user_id' : ''} is malformed or unknown (account_id ${ctx.account_id ?? '(none)'}${ctx.user_id ? `, user_id ${ctx.user_id}` : ''}).${cloudflareSays(error)} account_id is the 32-character Account ID from the Cloudflare dashboard; user_id comes from list_access_users.`;
  }
  if (status === 404) {
    // Name the ids we asked for and quote Cloudflare: a 404 on a per-user lookup can mean the user
    // is unknown or that it has no such record yet (e.g. never signed in), and Cloudflare's text says which.
    const ids = [ctx.nonce && `nonce ${ctx.nonce}`, ctx.user_id && `user_id ${ctx.user_id}`, ctx.account_id && `account_id ${ctx.account_id}`].filter(Boolean).join(', ');
    const next = ctx.nonce
      ? ' List current sessions with list_active_sessions.'
      : ctx.user_id
        ? ' Find user ids with list_access_users.'
        : '';
    return `Not found (${ids || 'no ids'}).${cloudflareSays(error)}${next}`;
  }
  if (status >= 500) {
    return `Cloudflare API error (HTTP ${status}${attemptsText(error)}).${cloudflareSays(error)} The service may be degraded; try again shortly.`;
  }
  return `Cloudflare refused the request (HTTP ${status || 'n/a'}).${cloudflareSays(error)} Check the arguments against the tool's description.`;
}
