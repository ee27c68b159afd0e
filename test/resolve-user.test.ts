/**
 * A person by email wherever a user is meant (src/tools/resolve-user.ts), through the real MCP client and
 * the emulator: exact and case-insensitive matches, `+` encoded, partial matches ignored, none, several,
 * the cache (hit, dropped by a write, TTL), update and delete by email, and the input guard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchLike } from '../src/cloudflare/client.js';
import { SANDBOX_ALICE, SANDBOX_BOB, SANDBOX_CAROL, type Emulator } from '../src/sandbox/emulator.js';
import { startHarness, type Harness } from './helpers/harness.js';

let emulator: Emulator;
let h: Harness;

// The harness owns its emulator (and closes it); other harnesses in this file share it.
beforeAll(async () => {
  h = await startHarness();
  emulator = h.emulator;
});
afterAll(() => h.close());

const usersPath = () => `/client/v4/accounts/${emulator.accountId}/access/users`;
/** What the emulator received since the last reset, as "METHOD path?query". */
const sent = () => emulator.requests.map((request) => `${request.method} ${request.url.replace(usersPath(), '…')}`);

/** A fresh harness on the same emulator: its own (empty) resolution cache. */
async function fresh(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  return startHarness({ sharedEmulator: emulator, ...options });
}

describe('resolving an email', () => {
  it('exact match: one list request with the email filter, and the record it read is the answer (no second GET)', async () => {
    const own = await fresh();
    try {
      emulator.resetRequests();
      const user = await own.ok<{ id: string; email: string }>('get_access_user', { user_id: SANDBOX_ALICE.email });
      expect(user).toMatchObject({ id: SANDBOX_ALICE.id, email: SANDBOX_ALICE.email });
      expect(sent()).toEqual([`GET …?email=alice%40corp.example&per_page=100`]);
    } finally {
      await own.close();
    }
  });

  it('any case', async () => {
    const own = await fresh();
    try {
      const sessions = await own.ok<{ paging: { count: number } }>('list_active_sessions', { user_id: 'ALICE@Corp.Example' });
      expect(sessions.paging.count).toBe(SANDBOX_ALICE.sessionCount);
    } finally {
      await own.close();
    }
  });

  it('an address with + is URL-encoded in the filter and found', async () => {
    const email = 'dev+mcp.tag@corp.example';
    const created = await h.ok<{ id: string }>('create_access_user', { email, name: 'Plus Tag' });
    emulator.resetRequests();
    const user = await h.ok<{ id: string }>('get_access_user', { user_id: email });
    expect(user.id).toBe(created.id);
    expect(emulator.requests[0]!.url).toContain('email=dev%2Bmcp.tag%40corp.example');
  });

  it('keeps only exact matches when the filter matches partially', async () => {
    await h.ok('create_access_user', { email: 'dana@corp.example', name: 'Dana One' });
    const longer = await h.ok<{ id: string }>('create_access_user', { email: 'dana@corp.example.org', name: 'Dana Two' });
    // A filter that matches substrings, as the live API's may: the email query becomes a search.
    const partial = (fetch: FetchLike): FetchLike => (url, init) => fetch(url.replace('email=', 'search='), init);
    const own = await fresh({ wrapFetch: partial });
    try {
      const exact = await own.ok<{ id: string; email: string }>('get_access_user', { user_id: 'dana@corp.example.org' });
      expect(exact).toMatchObject({ id: longer.id, email: 'dana@corp.example.org' });
      emulator.resetRequests();
      // "ana@corp.example" is inside both addresses, and neither is it.
      const text = await own.fails('get_access_user', { user_id: 'ana@corp.example' });
      expect(text).toContain('No Zero Trust user');
      expect(text).toContain('ana@corp.example');
      expect(emulator.requests.every((request) => request.url.startsWith(`${usersPath()}?`))).toBe(true);
    } finally {
      await own.close();
    }
  });

  it('no match: an error naming the email, and no per-user request', async () => {
    emulator.resetRequests();
    const text = await h.fails('get_last_seen_identity', { user_id: 'nobody.here@corp.example' });
    expect(text).toMatch(/^No Zero Trust user in account [0-9a-f]{32} has the email nobody\.here@corp\.example \(exact match, any case\)/);
    expect(sent()).toEqual(['GET …?email=nobody.here%40corp.example&per_page=100']);
  });

  it('several exact matches: an error listing them, and no per-user request', async () => {
    const twins = [
      { id: '11111111-1111-4111-8111-111111111111', email: 'twin@corp.example', name: 'Twin A' },
      { id: '22222222-2222-4222-8222-222222222222', email: 'TWIN@corp.example', name: 'Twin B' },
    ];
    const body = JSON.stringify({ success: true, errors: [], messages: [], result: twins, result_info: { page: 1, per_page: 100, count: 2, total_count: 2 } });
    emulator.resetRequests();
    emulator.inject({ fault: { kind: 'status', status: 200, body }, method: 'GET', pathIncludes: 'email=twin' });
    const text = await h.fails('list_failed_logins', { user_id: 'twin@corp.example' });
    expect(text).toContain('2 Zero Trust users have the email twin@corp.example');
    for (const twin of twins) expect(text).toContain(twin.id);
    expect(emulator.requests).toHaveLength(1);
  });
});

describe('the resolution cache', () => {
  it('a second call for the same email sends no lookup; a write through the server drops it', async () => {
    const own = await fresh();
    try {
      await own.ok('list_failed_logins', { user_id: SANDBOX_CAROL.email });
      emulator.resetRequests();
      await own.ok('list_failed_logins', { user_id: SANDBOX_CAROL.email.toUpperCase() });
      expect(sent()).toEqual([`GET …/${SANDBOX_CAROL.id}/failed_logins`]);

      await own.ok('update_access_user', { user_id: SANDBOX_CAROL.id, email: SANDBOX_CAROL.email, name: SANDBOX_CAROL.name });
      emulator.resetRequests();
      await own.ok('list_failed_logins', { user_id: SANDBOX_CAROL.email });
      expect(sent()).toEqual([`GET …?email=carol%40example.com&per_page=100`, `GET …/${SANDBOX_CAROL.id}/failed_logins`]);
    } finally {
      await own.close();
    }
  });

  it('is forgotten after its TTL (--resolve-cache-seconds), on the injected clock', async () => {
    const own = await fresh({ resolveCacheSeconds: 5 });
    try {
      await own.ok('get_access_user', { user_id: SANDBOX_BOB.email });
      emulator.resetRequests();
      await own.ok('get_access_user', { user_id: SANDBOX_BOB.email });
      expect(sent()).toEqual([`GET …/${SANDBOX_BOB.id}`]);
      await own.clock.sleep(5_001);
      emulator.resetRequests();
      await own.ok('get_access_user', { user_id: SANDBOX_BOB.email });
      expect(sent()).toEqual([`GET …?email=bob%40corp.example&per_page=100`]);
    } finally {
      await own.close();
    }
  });

  it('0 seconds: never reused', async () => {
    const own = await fresh({ resolveCacheSeconds: 0 });
    try {
      await own.ok('list_active_sessions', { user_id: SANDBOX_BOB.email });
      emulator.resetRequests();
      await own.ok('list_active_sessions', { user_id: SANDBOX_BOB.email });
      expect(sent()[0]).toContain('?email=bob');
    } finally {
      await own.close();
    }
  });
});

describe('writes naming a user by email', () => {
  it('update_access_user: email defaults to the resolved user’s current email', async () => {
    const own = await fresh();
    try {
      emulator.resetRequests();
      const renamed = await own.ok<{ name: string }>('update_access_user', { user_id: 'CAROL@example.com', name: 'Carol M. Mendes' });
      expect(renamed.name).toBe('Carol M. Mendes');
      const put = emulator.requests.find((request) => request.method === 'PUT')!;
      expect(put.url).toBe(`${usersPath()}/${SANDBOX_CAROL.id}`);
      expect(JSON.parse(put.body)).toEqual({ email: SANDBOX_CAROL.email, name: 'Carol M. Mendes' });
      await own.ok('update_access_user', { user_id: SANDBOX_CAROL.id, email: SANDBOX_CAROL.email, name: SANDBOX_CAROL.name });
    } finally {
      await own.close();
    }
  });

  it('update_access_user by UUID without email: reads the current email first', async () => {
    emulator.resetRequests();
    await h.ok('update_access_user', { user_id: SANDBOX_BOB.id, name: SANDBOX_BOB.name });
    expect(sent()).toEqual([`GET …/${SANDBOX_BOB.id}`, `PUT …/${SANDBOX_BOB.id}`]);
    expect(JSON.parse(emulator.requests[1]!.body)).toEqual({ email: SANDBOX_BOB.email, name: SANDBOX_BOB.name });
  });

  it('delete_access_user by email (confirm: true) deletes the resolved UUID; without confirm nothing is sent', async () => {
    const email = 'leaving.soon@corp.example';
    const created = await h.ok<{ id: string }>('create_access_user', { email, name: 'Leaving Soon' });
    emulator.resetRequests();
    expect(await h.fails('delete_access_user', { user_id: email })).toMatch(/^Not deleted\./);
    expect(emulator.requests).toHaveLength(0);
    const deleted = await h.ok<{ deleted: boolean; id: string }>('delete_access_user', { user_id: email, confirm: true });
    expect(deleted).toEqual({ deleted: true, id: created.id });
    expect(emulator.state.users.has(created.id)).toBe(false);
    expect(sent()).toEqual([`GET …?email=leaving.soon%40corp.example&per_page=100`, `DELETE …/${created.id}`]);
  });
});

describe('the input guard: a UUID or an email, nothing else', () => {
  it.each(['..', '../x@y.z', 'a/b@c.d', 'a%2e%2e@x.io', 'a\\b@x.io', 'alice@corp', '3F0C6A52-9D1E-4B7A-A3C5-7E2D8F1B6049', `${'a'.repeat(250)}@x.io`])(
    '%s is refused before any request, naming the field and the rule',
    async (userId) => {
      emulator.resetRequests();
      const text = await h.fails('get_access_user', { user_id: userId });
      expect(text).toMatch(/^Invalid arguments for get_access_user: user_id must be a lowercase UUID .* or the user's email address\. Nothing was sent to Cloudflare\.$/);
      expect(emulator.requests).toHaveLength(0);
    },
  );
});

describe('the resolution cache and a racing write', () => {
  it('an answer whose lookup began before a write to the account is not cached', async () => {
    const { UserCache, scopedUserCache } = await import('../src/tools/user-cache.js');
    const cache = new UserCache(60_000, () => 0);
    const { resolveAuth } = await import('../src/cloudflare/auth.js');
    const auth = resolveAuth({ CLOUDFLARE_API_TOKEN: 't-0123456789' });
    const user = { id: '3f0c6a52-9d1e-4b7a-a3c5-7e2d8f1b6049', email: 'alice@corp.example' };
    const racing = scopedUserCache(cache, auth); // call A starts its lookup
    cache.dropAccount('a'.repeat(32)); // call B writes to the account meanwhile
    await racing.set('a'.repeat(32), user);
    expect(await racing.get('a'.repeat(32), user.email)).toBeUndefined();
    // Another account's write does not stop it; a call started after the write caches normally.
    await racing.set('b'.repeat(32), user);
    expect(await racing.get('b'.repeat(32), user.email)).toEqual(user);
    const later = scopedUserCache(cache, auth);
    await later.set('a'.repeat(32), user);
    expect(await later.get('a'.repeat(32), user.email)).toEqual(user);
  });
});
