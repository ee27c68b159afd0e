/**
 * Email → user id resolutions (./resolve-user.ts), remembered per account and credential for a short time
 * (`--resolve-cache-seconds`, default 60), so an agent asking about one person several times pays for one
 * lookup. Any create, update or delete through this server drops what is known about that account, for
 * every credential (src/tools/context.ts): a write by one token changes what every token would see.
 *
 * Keys never hold a credential: the credential part is a SHA-256 of the call's auth headers (Web Crypto,
 * so this runs on Workers too).
 */
import type { ResolvedAuth } from '../cloudflare/auth.js';

export interface CachedUser {
  id: string;
  /** The user's email as Cloudflare spells it (the lookup may have used another case). */
  email: string;
}

interface Entry {
  user: CachedUser;
  accountId: string;
  expiresAt: number;
}

export const DEFAULT_RESOLVE_CACHE_SECONDS = 60;
/** Oldest entries go first past this, so a long-running server holds a bounded amount. */
const MAX_ENTRIES = 5_000;

export class UserCache {
  private readonly entries = new Map<string, Entry>();
  /** Counts writes; `writtenAt` holds the count at each account's last write, so a lookup can tell it is stale. */
  private writes = 0;
  private readonly writtenAt = new Map<string, number>();

  /** ttlMs 0 turns caching off. `now` is the client's clock, so tests can move time. */
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get(scope: string, accountId: string, email: string): CachedUser | undefined {
    const key = entryKey(scope, accountId, email);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.user;
  }

  set(scope: string, accountId: string, user: CachedUser): void {
    if (this.ttlMs <= 0) return;
    const key = entryKey(scope, accountId, user.email);
    this.entries.delete(key); // re-inserted last: Map order is the eviction order
    this.entries.set(key, { user, accountId, expiresAt: this.now() + this.ttlMs });
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  /** What this server knows of the account's users may be stale after a write to it. */
  dropAccount(accountId: string): void {
    this.writes += 1;
    this.writtenAt.set(accountId, this.writes);
    for (const [key, entry] of this.entries) if (entry.accountId === accountId) this.entries.delete(key);
  }

  /** A mark to compare with writtenSince(): taken before a lookup whose answer may be cached. */
  mark(): number {
    return this.writes;
  }

  /** Whether the account was written to after `mark` (a lookup begun before then may name a user that changed). */
  writtenSince(accountId: string, mark: number): boolean {
    return (this.writtenAt.get(accountId) ?? 0) > mark;
  }

  get size(): number {
    return this.entries.size;
  }
}

function entryKey(scope: string, accountId: string, email: string): string {
  return `${scope}\n${accountId}\n${email.toLowerCase()}`;
}

/** The cache as one call sees it: scoped to that call's credential. */
export interface ScopedUserCache {
  get(accountId: string, email: string): Promise<CachedUser | undefined>;
  set(accountId: string, user: CachedUser): Promise<void>;
}

/** Hex SHA-256 of the credential headers: the same credential gives the same scope, and the key holds no secret. */
async function credentialScope(auth: ResolvedAuth): Promise<string> {
  if (auth.kind === 'none') return 'none';
  const headers = Object.entries(auth.headers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(headers)));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Built when a call starts. Its lookups began after that, so an answer is cached only when no write to the
 * account (by any call) came since: a delete or re-create racing the lookup must not be remembered for a minute.
 */
export function scopedUserCache(cache: UserCache, auth: ResolvedAuth): ScopedUserCache {
  let scope: Promise<string> | undefined;
  const scoped = () => (scope ??= credentialScope(auth));
  const callStart = cache.mark();
  return {
    async get(accountId, email) {
      return cache.get(await scoped(), accountId, email);
    },
    async set(accountId, user) {
      if (cache.writtenSince(accountId, callStart)) return;
      cache.set(await scoped(), accountId, user);
    },
  };
}
