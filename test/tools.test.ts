/**
 * Every tool end to end: MCP Client -> createServer -> client/undici -> emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, startHarness, TEST_EMAIL, TEST_KEY, TEST_TOKEN, READ_ONLY_TOKEN, type Harness } from './helpers/harness.js';

let h: Harness;
let alice: { id: string; email: string; name: string };

beforeAll(async () => {
  h = await startHarness();
  const list = await h.ok('list_access_users', { email: 'alice@corp.example' });
  alice = rowsOf(list)[0] as typeof alice;
});
afterAll(async () => {
  await h.close();
});

describe('initialize', () => {
  it('sends short instructions on how the tools fit together', () => {
    const instructions = h.mcp.getInstructions() ?? '';
    expect(instructions).toMatch(/list_access_users/);
    expect(instructions).toMatch(/get_active_session/);
    expect(instructions.length).toBeLessThan(800);
  });
  it('declares logging', () => {
    expect(h.mcp.getServerCapabilities()?.logging).toBeDefined();
  });
});

describe('happy paths', () => {
  it('get_current_user returns the token owner', async () => {
    const user = await h.ok('get_current_user');
    expect(user.email).toEqual(expect.any(String));
    expect(JSON.stringify(user)).not.toMatch(/:null|:""|:\[\]|:\{\}/);
  });

  it('get_current_user works with email + global key too', async () => {
    const keyed = await startHarness({ sharedEmulator: h.emulator, credentials: { CLOUDFLARE_EMAIL: TEST_EMAIL, CLOUDFLARE_API_KEY: TEST_KEY } });
    try {
      expect((await keyed.ok('get_current_user')).email).toEqual(expect.any(String));
      const sent = keyed.emulator.requests.at(-1)!;
      expect(sent.headers['x-auth-email']).toBe(TEST_EMAIL);
      expect(sent.headers.authorization).toBeUndefined();
    } finally {
      await keyed.close();
    }
  });

  it('list_access_users pages with a derived next_page and columnar rows', async () => {
    const page1 = await h.ok<Record<string, unknown> & { paging: Record<string, number> }>('list_access_users', { per_page: 20 });
    expect(page1.paging).toMatchObject({ page: 1, per_page: 20, count: 20, next_page: 2 });
    const users = rowsOf(page1);
    expect(users).toHaveLength(20);
    for (const user of users) {
      expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(user.email).toMatch(/@/);
    }
    const sent = new URL(h.emulator.requests.at(-1)!.url, 'http://x');
    expect(sent.searchParams.get('per_page')).toBe('20');
  });

  it('list_access_users filters by exact email and says there is no next page', async () => {
    const result = await h.ok<Record<string, unknown> & { paging: Record<string, unknown> }>('list_access_users', { email: 'alice@corp.example' });
    expect(rowsOf(result)).toHaveLength(1);
    expect(result.paging.next_page).toBeUndefined();
  });

  it('list_access_users search and fields projection', async () => {
    const result = await h.ok('list_access_users', { search: 'alice', fields: ['email'] });
    expect(result.fields).toEqual(['email']);
    expect(rowsOf(result).every((row) => Object.keys(row).length === 1 || 'email' in row)).toBe(true);
  });

  it('get_access_user returns one user with second-precision timestamps', async () => {
    const user = await h.ok('get_access_user', { user_id: alice.id });
    expect(user.id).toBe(alice.id);
    expect(user.email).toBe('alice@corp.example');
    expect(String(user.created_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('create -> get -> update -> delete round trip changes emulator state', async () => {
    const created = await h.ok('create_access_user', { email: 'new.hire@corp.example', name: 'New Hire' });
    expect(created).toMatchObject({ email: 'new.hire@corp.example', name: 'New Hire' });
    const id = String(created.id);
    const post = h.emulator.requests.at(-1)!;
    expect(post.method).toBe('POST');
    expect(JSON.parse(post.body)).toEqual({ email: 'new.hire@corp.example', name: 'New Hire' });

    const updated = await h.ok('update_access_user', { user_id: id, email: 'new.hire@corp.example', name: 'Renamed Hire' });
    expect(updated.name).toBe('Renamed Hire');
    expect(h.emulator.requests.at(-1)!.method).toBe('PUT');

    const deleted = await h.ok('delete_access_user', { user_id: id, confirm: true });
    expect(deleted).toEqual({ deleted: true, id });
    expect(h.emulator.requests.at(-1)!.method).toBe('DELETE');
    const after = await h.ok('list_access_users', { email: 'new.hire@corp.example' });
    expect(rowsOf(after)).toHaveLength(0);
  });

  it('writes are audited on stderr and as a log notification, without credentials', async () => {
    const before = h.logLines.length;
    await h.ok('create_access_user', { email: 'audit.me@corp.example' });
    const audit = h.logLines.slice(before).map((line) => JSON.parse(line)).filter((record) => record.msg === 'audit');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      tool: 'create_access_user',
      request: 'POST /accounts/{account_id}/access/users',
      email: 'audit.me@corp.example',
      outcome: 'ok',
      status: 201,
      account_id: h.emulator.accountId,
    });
    expect(h.notifications.some((n) => JSON.stringify(n).includes('audit.me@corp.example'))).toBe(true);
  });

  it('list_active_sessions -> get_active_session summary and full detail', async () => {
    const sessions = await h.ok('list_active_sessions', { user_id: alice.id });
    const rows = rowsOf(sessions);
    expect(rows.length).toBeGreaterThan(0);
    const nonce = String(rows[0]!.nonce);
    const summary = await h.ok('get_active_session', { user_id: alice.id, nonce });
    expect(summary.email).toBe('alice@corp.example');
    expect(JSON.stringify(summary)).toMatch(/"ip"/);
    const full = await h.ok('get_active_session', { user_id: alice.id, nonce, detail: 'full' });
    expect(JSON.stringify(full).length).toBeGreaterThan(JSON.stringify(summary).length);
    expect(h.emulator.requests.at(-1)!.url).toContain(`/active_sessions/${nonce}`);
  });

  it('get_last_seen_identity and list_failed_logins', async () => {
    const identity = await h.ok('get_last_seen_identity', { user_id: alice.id });
    expect(identity.email).toBe('alice@corp.example');
    const failed = await h.ok('list_failed_logins', { user_id: alice.id });
    expect(failed).toHaveProperty('paging');
  });

  it('a long page is cut to the response budget, stays valid JSON and says exactly where the rest starts', async () => {
    const small = await startHarness({ sharedEmulator: h.emulator, maxResponseChars: 3_000 });
    try {
      const result = await small.call('list_access_users', { per_page: 50 });
      const text = result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
      expect(text.length).toBeLessThanOrEqual(3_000);
      const data = JSON.parse(text) as { rows: unknown[][]; fields: string[]; truncated: { shown: number; of: number; next: { page: number; per_page: number } } };
      expect(data.truncated.of).toBe(50);
      expect(data.rows).toHaveLength(data.truncated.shown);
      // Page 1 shown partly: the continuation starts right after the last row shown.
      const rest = await small.ok('list_access_users', data.truncated.next);
      const all = await h.ok('list_access_users', { per_page: 50 });
      const ids = (d: Record<string, unknown>) => rowsOf(d).map((row) => row.id);
      expect(ids(rest)[0]).toBe(ids(all)[data.truncated.shown]);
    } finally {
      await small.close();
    }
  });

  it('a user who never signed in: the 404 quotes Cloudflare instead of claiming the user is unknown', async () => {
    const bob = rowsOf(await h.ok('list_access_users', { email: 'bob@corp.example' }))[0]!;
    const text = await h.fails('get_last_seen_identity', { user_id: bob.id });
    expect(text).toMatch(/No last seen identity for this user/);
  });

  it('ignores unknown extra arguments and never forwards them', async () => {
    h.emulator.resetRequests();
    await h.ok('get_access_user', { user_id: alice.id, evil: '../../user', __proto__x: 1 });
    expect(h.emulator.requests).toHaveLength(1);
    expect(h.emulator.requests[0]!.url).toBe(`/client/v4/accounts/${h.emulator.accountId}/access/users/${alice.id}`);
  });
});

describe('error paths', () => {
  it('unknown user: 404 naming the id', async () => {
    const text = await h.fails('get_access_user', { user_id: '00000000-0000-4000-8000-000000000000' });
    expect(text).toMatch(/Not found \(user_id 00000000-0000-4000-8000-000000000000/);
    expect(text).toMatch(/User not found/);
  });

  it('unknown nonce: 404 naming the nonce', async () => {
    const text = await h.fails('get_active_session', { user_id: alice.id, nonce: 'nosuchnonce' });
    expect(text).toMatch(/Not found \(nonce nosuchnonce/);
    expect(text).toMatch(/list_active_sessions/);
  });

  it('a foreign account: permission message naming the token group', async () => {
    // With no account fixed (a fixed one refuses any other before sending: test/account-fixed.test.ts).
    const open = await startHarness({ sharedEmulator: h.emulator, defaultAccountId: null });
    try {
      const text = await open.fails('list_access_users', { account_id: 'f'.repeat(32) });
      expect(text).toMatch(/rejected the credentials/);
      expect(text).toContain('Access: Audit Logs Read');
    } finally {
      await open.close();
    }
  });

  it('a read-only token on a write: permission message', async () => {
    const reader = await startHarness({ sharedEmulator: h.emulator, credentials: { CLOUDFLARE_API_TOKEN: READ_ONLY_TOKEN } });
    try {
      const text = await reader.fails('update_access_user', { user_id: alice.id, email: alice.email, name: 'X' });
      expect(text).toMatch(/rejected the credentials.*Zero Trust: Seats Write/);
    } finally {
      await reader.close();
    }
  });

  it('update refusing a changed email quotes Cloudflare', async () => {
    const text = await h.fails('update_access_user', { user_id: alice.id, email: 'other@corp.example', name: 'Alice' });
    expect(text).toMatch(/HTTP 400/);
    expect(text.toLowerCase()).toMatch(/email/);
  });

  it('create with a duplicate email is refused with the reason', async () => {
    const text = await h.fails('create_access_user', { email: 'alice@corp.example' });
    expect(text).toMatch(/HTTP 409/);
  });

  it('delete without confirm sends nothing and says how to confirm', async () => {
    h.emulator.resetRequests();
    const text = await h.fails('delete_access_user', { user_id: alice.id });
    expect(text).toContain(alice.id);
    expect(text).toMatch(/confirm: true/);
    expect(h.emulator.requests).toHaveLength(0);
    const stillThere = await h.ok('get_access_user', { user_id: alice.id });
    expect(stillThere.id).toBe(alice.id);
  });

  it('no credentials: tools are listed, every call explains what to set, nothing is sent', async () => {
    const bare = await startHarness({ sharedEmulator: h.emulator, credentials: {} });
    try {
      expect((await bare.mcp.listTools()).tools).toHaveLength(13);
      bare.emulator.resetRequests();
      const text = await bare.fails('get_current_user');
      expect(text).toMatch(/CLOUDFLARE_API_TOKEN/);
      expect(text).toMatch(/dash\.cloudflare\.com\/profile\/api-tokens/);
      expect(bare.emulator.requests).toHaveLength(0);
    } finally {
      await bare.close();
    }
  });

  it('no account id anywhere: says how to set it and where to find it', async () => {
    const noAccount = await startHarness({ sharedEmulator: h.emulator, defaultAccountId: null });
    try {
      noAccount.emulator.resetRequests();
      const text = await noAccount.fails('list_access_users');
      expect(text).toMatch(/CLOUDFLARE_ACCOUNT_ID/);
      expect(text).toMatch(/dashboard/);
      expect(noAccount.emulator.requests).toHaveLength(0);
    } finally {
      await noAccount.close();
    }
  });
});

describe('bad input never reaches the network', () => {
  const badIds = ['..', '.', '../../user', 'a/b', '%2e%2e', '..%2f', 'x'.repeat(129), '', ' ', '\u0000'];
  const cases: [string, Record<string, unknown>, string][] = [];
  for (const bad of badIds) {
    cases.push(['get_access_user', { user_id: bad }, 'user_id']);
    cases.push(['list_access_users', { account_id: bad }, 'account_id']);
    cases.push(['get_active_session', { user_id: '0c6a2f5e-1b7d-4c3e-9f1a-2b3c4d5e6f70', nonce: bad }, 'nonce']);
    cases.push(['delete_access_user', { user_id: bad, confirm: true }, 'user_id']);
  }
  cases.push(['get_access_user', { user_id: 42 }, 'user_id']);
  cases.push(['get_access_user', {}, 'user_id']);
  cases.push(['list_access_users', { per_page: 0 }, 'per_page']);
  cases.push(['list_access_users', { per_page: 1001 }, 'per_page']);
  cases.push(['list_access_users', { page: 1.5 }, 'page']);
  cases.push(['list_access_users', { email: 'not-an-email' }, 'email']);
  cases.push(['create_access_user', { email: 'a@b' }, 'email']);
  cases.push(['update_access_user', { user_id: '0c6a2f5e-1b7d-4c3e-9f1a-2b3c4d5e6f70', email: 'a@b.example' }, 'name']);
  cases.push(['delete_access_user', { user_id: '0c6a2f5e-1b7d-4c3e-9f1a-2b3c4d5e6f70', confirm: 'yes' }, 'confirm']);

  it.each(cases)('%s %j is rejected naming %s', async (tool, args, field) => {
    h.emulator.resetRequests();
    const text = await h.fails(tool, args);
    expect(text).toContain(field);
    expect(text).toMatch(/must|required/);
    expect(h.emulator.requests).toHaveLength(0);
  });
});

describe('read-only mode', () => {
  it('registers only the 8 read tools', async () => {
    const reader = await startHarness({ sharedEmulator: h.emulator, readOnly: true });
    try {
      const names = (await reader.mcp.listTools()).tools.map((tool) => tool.name).sort();
      expect(names).toEqual(
        [
          'get_access_user',
          'get_active_session',
          'get_current_user',
          'get_last_seen_identity',
          'get_user_access_overview',
          'list_access_users',
          'list_active_sessions',
          'list_failed_logins',
        ],
      );
    } finally {
      await reader.close();
    }
  });
});

describe('secrets', () => {
  it('no tool result, log line or notification in this file contains a credential', () => {
    const everything = JSON.stringify([h.results, h.logLines, h.notifications]);
    for (const secret of [TEST_TOKEN, TEST_KEY, READ_ONLY_TOKEN]) expect(everything).not.toContain(secret);
    expect(everything).not.toMatch(/Bearer\s+[A-Za-z0-9]/);
  });
});
