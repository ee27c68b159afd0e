/**
 * "Which sessions does <email> have, from which devices and IPs, where did she last sign in, any failed
 * logins?" in one call: the user, every active session with its detail, the last-seen identity and the
 * failed logins, read in parallel within the call's concurrency limit.
 *
 * A part that fails (failed logins forbidden by the token, no last-seen identity for a user who never
 * signed in) leaves the rest: the result says which part is missing and why. Only an unknown user, or
 * nothing readable at all, is an error.
 */
import type { AccessUser, ActiveSessionItem, FailedLogin, Identity } from '../cloudflare/endpoints.js';
import { CloudflareApiError } from '../cloudflare/errors.js';
import { accessOverviewOutput, trimAccessOverview, type OverviewSession } from '../trim/index.js';
import type { ToolContext } from './context.js';
import { defineTool } from './define.js';
import { accountIdField, userIdField } from './fields.js';
import { resolveUser } from './resolve-user.js';

/** Why a part is missing, in a few words: what Cloudflare answered, or what went wrong on the way. */
function whyMissing(error: unknown): string {
  if (!(error instanceof CloudflareApiError)) return error instanceof Error ? error.message : String(error);
  const said = error.errors[0] ? `: ${error.errors[0].code} ${error.errors[0].message}` : '';
  if (error.kind !== 'api') return `${error.kind}${error.detail ? ` (${error.detail})` : ''}`;
  if (error.status === 401 || error.status === 403) return `HTTP ${error.status}${said}; the token needs Access: Audit Logs Read`;
  if (error.status === 429) return `HTTP 429 rate limited${error.retryAfterSeconds !== undefined ? `, retry after ${error.retryAfterSeconds} s` : ''}`;
  return `HTTP ${error.status ?? '?'}${said}`;
}

function isNotFound(error: unknown): boolean {
  return error instanceof CloudflareApiError && error.kind === 'api' && error.status === 404;
}

/** The sessions list, then every session's detail (IP, country, devices live there), in parallel. */
async function readSessions(ctx: ToolContext, accountId: string, userId: string, notes: string[]): Promise<OverviewSession[]> {
  const { result } = await ctx.api.listActiveSessions(accountId, userId);
  const items: ActiveSessionItem[] = Array.isArray(result) ? result : [];
  const details = await ctx.fanOut(items, async (item) => {
    const nonce = item.metadata?.nonce;
    return typeof nonce === 'string' ? (await ctx.api.getActiveSession(accountId, userId, nonce)).result : undefined;
  });
  return items.map((item, index) => {
    const detail = details[index];
    if (detail?.status === 'fulfilled') return detail.value === undefined ? { item } : { item, detail: detail.value };
    notes.push(`session ${item.metadata?.nonce ?? index + 1}: no device, IP or country (${whyMissing(detail?.reason)})`);
    return { item };
  });
}

async function readUser(ctx: ToolContext, accountId: string, userId: string, known: AccessUser | undefined): Promise<AccessUser> {
  return known ?? (await ctx.api.getAccessUser(accountId, userId)).result;
}

export default defineTool({
  name: 'get_user_access_overview',
  title: "A user's access at a glance",
  toolset: 'sessions',
  description:
    "One person's access in one call: user, active sessions (devices, IP, country, IdP, times), last sign-in, failed logins. " +
    'Prefer it to the session, last-seen and failed-login tools. Needs Access: Audit Logs Read.',
  permission: 'Access: Audit Logs Read',
  inputSchema: { account_id: accountIdField, user_id: userIdField },
  outputSchema: accessOverviewOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, user_id }, ctx) {
    const accountId = ctx.accountId(account_id);
    const resolved = await resolveUser(ctx, accountId, user_id);
    const { id } = resolved;
    const notes: string[] = [];
    // Independent parts at once; the call's limiter keeps the requests within --max-concurrency.
    const [user, sessions, lastSeen, failedLogins] = await Promise.allSettled([
      readUser(ctx, accountId, id, resolved.record),
      readSessions(ctx, accountId, id, notes),
      ctx.api.getLastSeenIdentity(accountId, id).then((response): Identity => response.result),
      ctx.api.listFailedLogins(accountId, id).then((response): FailedLogin[] => (Array.isArray(response.result) ? response.result : [])),
    ]);
    // No such user: every part would say so; that is the answer, not a note.
    if (user.status === 'rejected' && (isNotFound(user.reason) || [sessions, lastSeen, failedLogins].every((part) => part.status === 'rejected'))) {
      throw user.reason;
    }
    if (user.status === 'rejected') notes.push(`user: missing (${whyMissing(user.reason)})`);
    if (sessions.status === 'rejected') notes.push(`sessions: missing (${whyMissing(sessions.reason)})`);
    if (lastSeen.status === 'rejected') {
      notes.push(isNotFound(lastSeen.reason) ? 'last_seen: none recorded (HTTP 404); the user may never have signed in' : `last_seen: missing (${whyMissing(lastSeen.reason)})`);
    }
    if (failedLogins.status === 'rejected') notes.push(`failed_logins: missing (${whyMissing(failedLogins.reason)})`);
    return trimAccessOverview(
      {
        user: user.status === 'fulfilled' ? user.value : undefined,
        sessions: sessions.status === 'fulfilled' ? sessions.value : undefined,
        lastSeen: lastSeen.status === 'fulfilled' ? lastSeen.value : undefined,
        failedLogins: failedLogins.status === 'fulfilled' ? failedLogins.value : undefined,
        notes,
      },
      { maxChars: ctx.maxResponseChars },
    );
  },
});
