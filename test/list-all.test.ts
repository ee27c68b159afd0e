/**
 * list_access_users with all: true / max_items: every page, in parallel within --max-concurrency (counted by
 * the emulator), with progress, within the response budget; and the shared rate-limit wait: a 429 during a
 * fan-out holds every request of it (one wait), not just the one that got it.
 */
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/sandbox/emulator.js';
import { rowsOf, startHarness, startTestEmulator, textOf, type FakeClock, type Harness } from './helpers/harness.js';

const USERS = 600;

interface UserList {
  fields: string[];
  rows: unknown[][];
  paging: { count: number; total_count?: number; complete?: boolean };
  truncated?: { shown: number; of: number; hint: string };
}

let slow: Emulator;

beforeAll(async () => {
  slow = await startTestEmulator({ userCount: USERS, latencyMs: 15 });
});
afterAll(async () => {
  await slow.close();
});

async function withHarness<T>(options: Parameters<typeof startHarness>[0], body: (h: Harness) => Promise<T>): Promise<T> {
  const h = await startHarness({ sharedEmulator: slow, ...options });
  try {
    return await body(h);
  } finally {
    await h.close();
  }
}

describe('all: true', () => {
  it('reads every page in parallel, never more requests in flight than --max-concurrency', async () => {
    for (const maxConcurrency of [4, 2]) {
      await withHarness({ maxConcurrency }, async (h) => {
        slow.resetRequests();
        const list = await h.ok<UserList>('list_access_users', { all: true, per_page: 50, fields: ['email'] });
        expect(list.paging).toEqual({ count: USERS, total_count: USERS });
        expect(new Set(rowsOf(list as unknown as Record<string, unknown>).map((row) => row['email'])).size).toBe(USERS);
        expect(slow.requestCount()).toBe(USERS / 50);
        expect(slow.maxInFlight()).toBe(maxConcurrency);
      });
    }
  });

  it('reports progress per page to a caller that asked for it', async () => {
    await withHarness({}, async (h) => {
      const progress: Progress[] = [];
      const result = await h.mcp.callTool({ name: 'list_access_users', arguments: { all: true, per_page: 100, fields: ['id'] } }, undefined, {
        onprogress: (p) => void progress.push(p),
      });
      expect(result.isError).toBeFalsy();
      expect(progress).toHaveLength(USERS / 100);
      expect(progress.at(-1)).toEqual({ progress: 6, total: 6, message: 'page 6 of 6' });
    });
  });

  it('max_items stops the walk and says the list is not complete', async () => {
    await withHarness({}, async (h) => {
      slow.resetRequests();
      const list = await h.ok<UserList>('list_access_users', { all: true, max_items: 120, per_page: 50, fields: ['email'] });
      expect(list.paging).toEqual({ count: 120, total_count: USERS, complete: false });
      expect(list.rows).toHaveLength(120);
      expect(slow.requestCount()).toBe(3);
    });
  });

  it('when everything would not fit: the total, the first rows, and how to narrow', async () => {
    await withHarness({ maxResponseChars: 6_000 }, async (h) => {
      const result = await h.call('list_access_users', { all: true });
      expect(result.isError).toBeFalsy();
      expect(textOf(result).length).toBeLessThanOrEqual(6_000);
      const list = result.structuredContent as unknown as UserList;
      expect(list.paging).toEqual({ count: USERS, total_count: USERS });
      expect(list.truncated).toMatchObject({ of: USERS });
      expect(list.truncated!.shown).toBeGreaterThan(0);
      expect(list.truncated!.hint).toMatch(/pass fields .* or filter by email, name or search/);
      expect(list.rows).toHaveLength(list.truncated!.shown);
    });
  });

  it('with a filter, no account-wide total is claimed (the API counts every user there)', async () => {
    await withHarness({}, async (h) => {
      const list = await h.ok<UserList>('list_access_users', { all: true, search: '@example.com', fields: ['email'] });
      expect(list.paging.total_count).toBeUndefined();
      expect(list.paging.count).toBe([...slow.state.users.values()].filter((user) => user.email.includes('@example.com')).length);
    });
  });

  it('an unknown field name still gets the whole table and the list of fields to pick from', async () => {
    await withHarness({}, async (h) => {
      const list = await h.ok<UserList & { unknown_fields?: string[]; available_fields?: string[] }>('list_access_users', { all: true, max_items: 5, fields: ['emial'] });
      expect(list.unknown_fields).toEqual(['emial']);
      expect(list.available_fields).toContain('email');
      expect(list.fields).toContain('email');
    });
  });

  it('refuses page with all, and max_items without it, before any request', async () => {
    await withHarness({}, async (h) => {
      slow.resetRequests();
      expect(await h.fails('list_access_users', { all: true, page: 2 })).toMatch(/^page cannot be combined with all: true/);
      expect(await h.fails('list_access_users', { max_items: 10 })).toMatch(/^max_items caps all: true/);
      expect(slow.requestCount()).toBe(0);
    });
  });
});

/** A clock whose sleeps wait for the test, so what is sent during a wait can be counted. */
function heldClock(): FakeClock & { pending: { ms: number; release(): void }[] } {
  let now = Date.now();
  const sleeps: number[] = [];
  const pending: { ms: number; release(): void }[] = [];
  return {
    sleeps,
    pending,
    now: () => now,
    random: () => 0.5,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        sleeps.push(ms);
        pending.push({
          ms,
          release: () => {
            now += ms;
            resolve();
          },
        });
      }),
    totalSlept: () => sleeps.reduce((sum, ms) => sum + ms, 0),
  };
}

const waitFor = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
};

describe('one shared wait for a 429 during a fan-out', () => {
  it('no request of the fan-out starts before the Retry-After is over, and only one wait runs', async () => {
    const emulator = await startTestEmulator();
    const clock = heldClock();
    const h = await startHarness({ sharedEmulator: emulator, clock });
    try {
      emulator.resetRequests();
      // 60 users, 10 a page: page 1, then pages 2-5 at once. Page 2 is rate limited; pages 3-5 answer later,
      // when the wait is already on, so their workers would start page 6 at once if nothing held them.
      emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '3' }, pathIncludes: 'page=2&' });
      for (const page of [3, 4, 5]) emulator.inject({ fault: { kind: 'delay', phase: 'headers', ms: 150 }, pathIncludes: `page=${page}&` });
      const listing = h.call('list_access_users', { all: true, per_page: 10, fields: ['email'] });
      await waitFor(() => clock.pending.length === 1, 'the rate-limit wait');
      expect(clock.pending[0]!.ms).toBe(3_000);
      await new Promise((resolve) => setTimeout(resolve, 400));
      // Pages 1-5 and nothing more while the wait runs: page 6 and page 2's retry are held.
      expect(emulator.requestCount()).toBe(5);
      clock.pending.shift()!.release();
      const result = await listing;
      expect(result.isError).toBeFalsy();
      expect((result.structuredContent as unknown as UserList).paging.count).toBe(60);
      expect(emulator.requestCount()).toBe(7);
      expect(clock.sleeps).toEqual([3_000]);
    } finally {
      await h.close();
      await emulator.close();
    }
  });
});
