/**
 * get_user_access_overview through the real MCP client: one call, parts read in parallel within the
 * concurrency limit (counted by the emulator), a part that fails is a note (not an error), and the richest
 * demo user's overview stays within 4,000 characters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_ALICE, SANDBOX_BOB, type Emulator } from '../src/sandbox/emulator.js';
import { startHarness, startTestEmulator, textOf, type Harness } from './helpers/harness.js';

interface Overview {
  user?: { id: string; email: string; name?: string; active_device_count?: number };
  sessions?: 'none' | { count: number; fields: string[]; same?: Record<string, unknown>; rows: unknown[][] };
  last_seen?: { ip?: string; country?: string };
  failed_logins?: 'none' | { count: number; fields: string[]; recent: unknown[][] };
  notes?: string[];
}

let emulator: Emulator;
let h: Harness;

// The harness owns its emulator (and closes it); other harnesses in this file share it.
beforeAll(async () => {
  h = await startHarness();
  emulator = h.emulator;
});
afterAll(() => h.close());

/** A session table's rows as objects (fields + same). */
function sessionRows(overview: Overview): Record<string, unknown>[] {
  const sessions = overview.sessions;
  if (sessions === undefined || sessions === 'none') return [];
  return sessions.rows.map((row) => ({ ...sessions.same, ...Object.fromEntries(sessions.fields.map((field, i) => [field, row[i]])) }));
}

/** The demo user with the most to show: most sessions, then most failed logins. */
function richestUser(): { id: string; email: string; sessions: number } {
  const users = [...emulator.state.users.values()].map((user) => ({
    id: user.id,
    email: user.email,
    sessions: emulator.state.sessions.get(user.id)?.length ?? 0,
    failed: emulator.state.failedLogins.get(user.id)?.length ?? 0,
  }));
  users.sort((a, b) => b.sessions - a.sessions || b.failed - a.failed);
  return users[0]!;
}

describe('get_user_access_overview', () => {
  it("answers the sessions question for an email: every session with its detail's IP, country and devices", async () => {
    emulator.resetRequests();
    const overview = await h.ok<Overview>('get_user_access_overview', { user_id: SANDBOX_ALICE.email });
    expect(overview.user).toMatchObject({ id: SANDBOX_ALICE.id, email: SANDBOX_ALICE.email, name: SANDBOX_ALICE.name, active_device_count: 2 });
    const rows = sessionRows(overview);
    const stored = emulator.state.sessions.get(SANDBOX_ALICE.id)!;
    expect(rows.map((row) => row['nonce']).sort()).toEqual(stored.map((s) => s.session.metadata.nonce).sort());
    for (const row of rows) {
      const identity = stored.find((s) => s.session.metadata.nonce === row['nonce'])!.identity;
      expect(row).toMatchObject({ ip: identity.ip, country: identity.geo.country, idp: identity.idp.type });
      expect(row['devices']).toEqual(Object.keys(identity.device_sessions));
      expect(row['issued']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(row['expires']).toMatch(/Z$/);
    }
    const lastSeen = emulator.state.lastSeenIdentities.get(SANDBOX_ALICE.id)!;
    expect(overview.last_seen).toMatchObject({ ip: lastSeen.ip, country: lastSeen.geo.country });
    expect(overview.failed_logins).toMatchObject({ count: SANDBOX_ALICE.failedLoginCount, fields: ['time', 'app', 'ray_id'] });
    expect(overview.notes).toBeUndefined();
    // The email lookup gives the user record: list + sessions + 3 details + last seen + failed logins.
    expect(emulator.requests).toHaveLength(7);
    expect(emulator.requests.every((request) => request.method === 'GET')).toBe(true);
  });

  it('stays within 4,000 characters on the richest demo user', async () => {
    const richest = richestUser();
    expect(richest.sessions).toBeGreaterThanOrEqual(SANDBOX_ALICE.sessionCount);
    const result = await h.call('get_user_access_overview', { user_id: richest.email });
    expect(result.isError).toBeFalsy();
    expect(textOf(result).length).toBeLessThanOrEqual(4_000);
    expect(sessionRows(result.structuredContent as Overview)).toHaveLength(richest.sessions);
  });

  it("Bob never signed in: no sessions, no failed logins, and a note that there is no last-seen identity (not an error)", async () => {
    const overview = await h.ok<Overview>('get_user_access_overview', { user_id: SANDBOX_BOB.id });
    expect(overview.sessions).toBe('none');
    expect(overview.failed_logins).toBe('none');
    expect(overview.last_seen).toBeUndefined();
    expect(overview.notes).toEqual(['last_seen: none recorded (HTTP 404); the user may never have signed in']);
  });

  it('a part the token may not read is a note; the rest stays', async () => {
    emulator.inject({ fault: { kind: 'status', status: 403 }, pathIncludes: '/failed_logins' });
    const overview = await h.ok<Overview>('get_user_access_overview', { user_id: SANDBOX_ALICE.id });
    expect(overview.failed_logins).toBeUndefined();
    expect(overview.notes).toHaveLength(1);
    expect(overview.notes![0]).toMatch(/^failed_logins: missing \(HTTP 403: 10403 Forbidden; the token needs Access: Audit Logs Read\)$/);
    expect(sessionRows(overview)).toHaveLength(SANDBOX_ALICE.sessionCount);
    expect(overview.last_seen?.ip).toBeDefined();
  });

  it("a session whose detail cannot be read keeps the list's facts, and a note names it", async () => {
    emulator.inject({ fault: { kind: 'status', status: 404 }, pathIncludes: `/active_sessions/${SANDBOX_ALICE.sessionNonce}` });
    const overview = await h.ok<Overview>('get_user_access_overview', { user_id: SANDBOX_ALICE.id });
    const row = sessionRows(overview).find((r) => r['nonce'] === SANDBOX_ALICE.sessionNonce)!;
    expect(row['ip'] ?? null).toBeNull();
    expect(row['issued']).toBeDefined();
    expect(overview.notes).toEqual([expect.stringMatching(new RegExp(`^session ${SANDBOX_ALICE.sessionNonce}: no device, IP or country \\(HTTP 404`))]);
  });

  it('an unknown user is an error, not an overview of notes', async () => {
    const text = await h.fails('get_user_access_overview', { user_id: '00000000-0000-4000-8000-00000000beef' });
    expect(text).toMatch(/^Not found \(user_id 00000000-0000-4000-8000-00000000beef/);
  });
});

describe('parallel, within the concurrency limit (counted by the emulator)', () => {
  it('requests overlap up to --max-concurrency and never beyond it', async () => {
    const slow = await startTestEmulator({ latencyMs: 40 });
    const limited = async (maxConcurrency: number) => {
      const own = await startHarness({ sharedEmulator: slow, maxConcurrency });
      try {
        slow.resetRequests();
        await own.ok('get_user_access_overview', { user_id: SANDBOX_ALICE.id });
        return slow.maxInFlight();
      } finally {
        await own.close();
      }
    };
    try {
      // Five requests can start at once (user, sessions, last seen, failed logins; then 3 details).
      expect(await limited(4)).toBe(4);
      expect(await limited(2)).toBe(2);
      expect(await limited(1)).toBe(1);
    } finally {
      await slow.close();
    }
  });
});
