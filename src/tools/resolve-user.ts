/**
 * A person by email wherever a user is meant: every tool whose `user_id` names an existing user also takes
 * the user's email there (./fields.ts userRefField). This is the one place an email becomes a UUID.
 *
 * - The list endpoint's `email=` filter finds candidates (the client URL-encodes it: `+` survives); only exact,
 *   case-insensitive matches count, since the filter may match partially.
 * - No match: an error naming the email, and no per-user request. Several: an error listing them.
 * - A resolution is remembered per account and credential for a short time (./user-cache.ts); any write
 *   through this server forgets the account's (./context.ts).
 * - Many people at once (provisioning, offboarding): lookupUsers reads them in one round trip.
 */
import type { AccessUser } from '../cloudflare/endpoints.js';
import { CloudflareApiError } from '../cloudflare/errors.js';
import { collectPages } from '../cloudflare/paginate.js';
import type { ToolContext } from './context.js';
import { ToolInputError } from './define.js';
import { isUserUuid } from './fields.js';

/** A user record with the two fields resolution relies on. */
export type KnownUser = AccessUser & { id: string; email: string };

export interface ResolvedUser {
  /** The UUID, for paths. */
  id: string;
  /** The user's current email, when known without another request. */
  email?: string;
  /** The record an email lookup has just read: fresh, so a caller that needs it saves a GET. */
  record?: KnownUser;
}

/** Pages of the email filter: one page when it matches exactly, as it normally does. */
const EMAIL_PAGE_SIZE = 100;
/** A filter matching this many users partially is not looked through further. */
const MAX_EMAIL_CANDIDATES = 1_000;
/** The whole account, for a batch lookup: the API's largest page. */
const DIRECTORY_PAGE_SIZE = 1_000;
// Ids go into paths: only a UUID is taken from a response (the client re-checks every segment too).
const ID_PATTERN = /^[\da-f]{8}(-[\da-f]{4}){3}-[\da-f]{12}$/i;

function isKnownUser(user: unknown): user is KnownUser {
  if (typeof user !== 'object' || user === null) return false;
  const { id, email } = user as { id?: unknown; email?: unknown };
  return typeof id === 'string' && ID_PATTERN.test(id) && typeof email === 'string';
}

/** Every user whose email is exactly `email`, ignoring case (the filter's partial matches are dropped). */
export async function findUsersByEmail(ctx: ToolContext, accountId: string, email: string): Promise<KnownUser[]> {
  const wanted = email.toLowerCase();
  const { items, complete } = await collectPages(
    (page) => ctx.api.listAccessUsers(accountId, { email, page: page > 1 ? page : undefined, per_page: EMAIL_PAGE_SIZE }),
    { perPage: EMAIL_PAGE_SIZE, concurrency: ctx.maxConcurrency, maxItems: MAX_EMAIL_CANDIDATES, signal: ctx.signal },
  );
  // Part of the candidates is no answer: "nobody has this email" could plan a second create of someone.
  if (!complete) {
    throw new ToolInputError(
      `Could not read every user whose email matches ${email} (over ${MAX_EMAIL_CANDIDATES} candidates, or the call ended first); nothing was changed. Pass the user's UUID instead.`,
    );
  }
  return items.filter(isKnownUser).filter((user) => user.email.toLowerCase() === wanted);
}

export function noUserText(email: string, accountId: string): string {
  return (
    `No Zero Trust user in account ${accountId} has the email ${email} (exact match, any case); nothing else was sent. ` +
    `Check the spelling, or search with list_access_users (search: "${email.split('@')[0]}").`
  );
}

export function severalUsersText(email: string, matches: readonly KnownUser[]): string {
  const listed = matches.slice(0, 10).map((user) => `${user.id} (${user.email})`).join(', ');
  return `${matches.length} Zero Trust users have the email ${email}: ${listed}. Pass the user_id (UUID) of the one you mean; nothing was changed.`;
}

/** A UUID as is (no request); an email through the cache, else one lookup. Throws a ToolInputError for none or several. */
export async function resolveUser(ctx: ToolContext, accountId: string, ref: string): Promise<ResolvedUser> {
  if (isUserUuid(ref)) return { id: ref };
  const cached = await ctx.userCache.get(accountId, ref);
  if (cached) return { id: cached.id, email: cached.email };
  const matches = await findUsersByEmail(ctx, accountId, ref);
  const [only] = matches;
  if (only === undefined) throw new ToolInputError(noUserText(ref, accountId));
  if (matches.length > 1) throw new ToolInputError(severalUsersText(ref, matches));
  await ctx.userCache.set(accountId, { id: only.id, email: only.email });
  return { id: only.id, email: only.email, record: only };
}

/** What a batch lookup knows: the matches for each email, and the user behind each UUID. */
export interface UserDirectory {
  /** Exact, case-insensitive matches (none, one, or several). */
  byEmail(email: string): readonly KnownUser[];
  /** undefined: no such user. */
  byId(id: string): KnownUser | undefined;
}

function directoryOf(emails: ReadonlyMap<string, KnownUser[]>, ids: ReadonlyMap<string, KnownUser | undefined>): UserDirectory {
  return {
    byEmail: (email) => emails.get(email.toLowerCase()) ?? [],
    byId: (id) => ids.get(id),
  };
}

/** One user by UUID: undefined on a 404 (unknown user), any other failure is thrown. */
async function userById(ctx: ToolContext, accountId: string, id: string): Promise<KnownUser | undefined> {
  try {
    const { result } = await ctx.api.getAccessUser(accountId, id);
    return isKnownUser(result) ? result : undefined;
  } catch (error) {
    if (error instanceof CloudflareApiError && error.kind === 'api' && error.status === 404) return undefined;
    throw error;
  }
}

/** A few people: one request each, all at once (one round trip). Any failure fails the lookup. */
async function lookupEach(ctx: ToolContext, accountId: string, refs: readonly string[]): Promise<UserDirectory> {
  const emails = new Map<string, KnownUser[]>();
  const ids = new Map<string, KnownUser | undefined>();
  const settled = await ctx.fanOut(refs, async (ref) => {
    if (isUserUuid(ref)) ids.set(ref, await userById(ctx, accountId, ref));
    else emails.set(ref.toLowerCase(), await findUsersByEmail(ctx, accountId, ref));
  });
  const failure = settled.find((outcome) => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  return directoryOf(emails, ids);
}

/** Many people: every user of the account, 1,000 a page, pages in parallel, matched here. */
async function lookupAll(ctx: ToolContext, accountId: string, refs: readonly string[]): Promise<UserDirectory> {
  const { items, complete } = await collectPages(
    (page) => ctx.api.listAccessUsers(accountId, { page: page > 1 ? page : undefined, per_page: DIRECTORY_PAGE_SIZE }),
    { perPage: DIRECTORY_PAGE_SIZE, concurrency: ctx.maxConcurrency, signal: ctx.signal },
  );
  // A partial list would call existing people unknown (and plan to create them twice): refuse instead.
  if (!complete) throw new ToolInputError(`Could not read every user of account ${accountId} (the call was cancelled or ran out of time); nothing was changed.`);
  const wantedEmails = new Set(refs.filter((ref) => !isUserUuid(ref)).map((ref) => ref.toLowerCase()));
  const wantedIds = new Set(refs.filter(isUserUuid));
  const emails = new Map<string, KnownUser[]>();
  const ids = new Map<string, KnownUser | undefined>();
  for (const user of items) {
    if (!isKnownUser(user)) continue;
    const email = user.email.toLowerCase();
    if (wantedEmails.has(email)) emails.set(email, [...(emails.get(email) ?? []), user]);
    if (wantedIds.has(user.id)) ids.set(user.id, user);
  }
  return directoryOf(emails, ids);
}

/**
 * Looks many people up at once. As many as the concurrency limit: one request each, in parallel (one round
 * trip). More: the whole account, a few large pages in parallel, instead of one request per person. The
 * emails found exactly once are remembered (./user-cache.ts).
 */
export async function lookupUsers(ctx: ToolContext, accountId: string, refs: readonly string[]): Promise<UserDirectory> {
  const directory = refs.length <= ctx.maxConcurrency ? await lookupEach(ctx, accountId, refs) : await lookupAll(ctx, accountId, refs);
  for (const ref of refs) {
    if (isUserUuid(ref)) continue;
    const [only, ...others] = directory.byEmail(ref);
    if (only !== undefined && others.length === 0) await ctx.userCache.set(accountId, { id: only.id, email: only.email });
  }
  return directory;
}
