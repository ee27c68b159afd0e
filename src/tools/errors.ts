/**
 * The wording of every Cloudflare failure a model sees: the one place a typed
 * CloudflareApiError becomes a sentence that names the ids, the permission and
 * the next step. Tools may supply their own next step (ErrorHints). Redaction
 * happens after this, in runTool, with the call's Redactor.
 */
import { TOKEN_PAGE_URL } from '../cloudflare/auth.js';
import type { CloudflareApiError } from '../cloudflare/errors.js';

/** Next steps a tool may supply for its own failures, in place of the defaults below. */
export interface ErrorHints {
  /** After a 404: where the model finds valid ids. */
  notFound?: string;
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
  hints?: ErrorHints;
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

/** A write answered by a redirect or cut off by cancellation was not confirmed; a read is simply not done. */
function writeNotConfirmed(error: CloudflareApiError, ctx: ErrorContext): string {
  // Stopped while waiting its turn (a concurrency slot, a shared rate-limit wait): nothing to check.
  if (error.attempts === 0) return ' Nothing was sent to Cloudflare.';
  if (error.method === 'GET') return '';
  return ctx.tool.startsWith('create') || error.method === 'POST'
    ? checkBeforeRetry(ctx)
    : ' The change was not confirmed: check the user\'s current state before trying again.';
}

/** The single mapping from an API failure to the text of an isError tool result. */
export function describeApiError(error: CloudflareApiError, ctx: ErrorContext): string {
  const status = error.status ? `HTTP ${error.status}` : error.kind;
  let text: string;
  switch (error.kind) {
    case 'redirect':
      text = `The Cloudflare API answered ${status} with ${error.detail ?? 'a redirect'}; redirects are never followed, so nothing was sent there and no credentials left this server.`;
      text += writeNotConfirmed(error, ctx) || ' Check CLOUDFLARE_BASE_URL (default https://api.cloudflare.com/client/v4).';
      break;
    case 'cancelled':
      text = `Cancelled before Cloudflare's answer arrived${attemptsText(error)}; nothing more was sent.${writeNotConfirmed(error, ctx)}`;
      break;
    case 'timeout':
      if (error.attempts === 0) {
        text = 'The call ran out of time before this request could be sent; nothing was sent to Cloudflare. Try again, with fewer items if it did many.';
        break;
      }
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
      // A gateway error, or an earlier attempt that went unanswered, leaves it open whether the write went through.
      if (error.method !== 'GET' && error.mayHaveApplied) {
        const check = error.method === 'POST' ? `list_access_users${ctx.email ? ` (email: ${ctx.email})` : ''}` : 'get_access_user';
        text += ` The change may have been applied all the same (a gateway error, or an attempt without an answer): check with ${check} before trying again.`;
      }
  }
  return text;
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
    const next = ctx.hints?.notFound
      ? ` ${ctx.hints.notFound}`
      : ctx.nonce
        ? ' List current sessions with list_active_sessions.'
        : ctx.user_id
          ? ' Find user ids with list_access_users.'
          : '';
    return `Not found (${ids || 'no ids'}).${cloudflareSays(error)}${next}`;
  }
  if (status >= 500) {
    // A write that may have gone through gets "check first" (appended by describeApiError), not "try again".
    const next = error.method !== 'GET' && error.mayHaveApplied ? '' : ' The service may be degraded; try again shortly.';
    return `Cloudflare API error (HTTP ${status}${attemptsText(error)}).${cloudflareSays(error)}${next}`;
  }
  return `Cloudflare refused the request (HTTP ${status || 'n/a'}).${cloudflareSays(error)} Check the arguments against the tool's description.`;
}
