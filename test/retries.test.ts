/**
 * The client's retry behaviour, driven by faults injected into the emulator
 * (real HTTP, real undici), with waits measured through the injected clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rowsOf, startHarness, type Harness } from './helpers/harness.js';

let h: Harness;
let userId: string;

beforeAll(async () => {
  h = await startHarness({ headersTimeoutMs: 300, bodyTimeoutMs: 300 });
  userId = String(rowsOf(await h.ok('list_access_users', { email: 'alice@corp.example' }))[0]!.id);
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.emulator.clearFaults();
  h.emulator.resetRequests();
  h.clock.sleeps.length = 0;
});

describe('GET', () => {
  it('429 with Retry-After seconds: waits exactly that long, then succeeds', async () => {
    h.emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '3' } });
    await h.ok('get_access_user', { user_id: userId });
    expect(h.emulator.requests).toHaveLength(2);
    expect(h.clock.sleeps).toEqual([3000]);
  });

  it('429 with an HTTP-date Retry-After', async () => {
    const at = new Date(h.clock.now() + 5_000).toUTCString();
    h.emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: at } });
    await h.ok('get_access_user', { user_id: userId });
    expect(h.clock.sleeps).toHaveLength(1);
    expect(h.clock.sleeps[0]).toBeGreaterThan(3_000);
    expect(h.clock.sleeps[0]).toBeLessThanOrEqual(5_000);
  });

  it('a Retry-After beyond the wait budget: gives up at once and says when to try again', async () => {
    h.emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '120' } });
    const text = await h.fails('get_access_user', { user_id: userId });
    expect(h.emulator.requests).toHaveLength(1);
    expect(text).toMatch(/rate limit.*not retried.*Try again after 120 s/);
  });

  it('persistent 429: bounded attempts and total wait, then an actionable error', async () => {
    h.emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '1' }, times: 100 });
    const text = await h.fails('list_access_users');
    expect(h.emulator.requests).toHaveLength(4);
    expect(h.clock.totalSlept()).toBe(3000);
    expect(text).toMatch(/retried 3 times.*Try again after 1 s/);
  });

  it.each([502, 503, 504])('%i then success: retried with backoff', async (status) => {
    h.emulator.inject({ fault: { kind: 'status', status }, times: 2 });
    await h.ok('get_access_user', { user_id: userId });
    expect(h.emulator.requests).toHaveLength(3);
    expect(h.clock.sleeps).toHaveLength(2);
    expect(h.clock.sleeps[1]!).toBeGreaterThan(h.clock.sleeps[0]!);
  });

  it('500 is not retried', async () => {
    h.emulator.inject({ fault: { kind: 'status', status: 500 } });
    const text = await h.fails('get_access_user', { user_id: userId });
    expect(h.emulator.requests).toHaveLength(1);
    expect(text).toMatch(/HTTP 500/);
  });

  it('connection reset then success', async () => {
    h.emulator.inject({ fault: { kind: 'reset' } });
    await h.ok('get_access_user', { user_id: userId });
    expect(h.emulator.requests).toHaveLength(2);
  });

  it('persistent resets: bounded retries, then a plain-words network error', async () => {
    h.emulator.inject({ fault: { kind: 'reset' }, times: 10 });
    const text = await h.fails('get_access_user', { user_id: userId });
    expect(h.emulator.requests).toHaveLength(4);
    expect(text).toMatch(/complete response.*connection reset, ECONNRESET, after 3 retries/);
  });

  it('headers timeout (a server that never answers) then success', async () => {
    h.emulator.inject({ fault: { kind: 'hang' } });
    await h.ok('get_access_user', { user_id: userId });
    expect(h.emulator.requests).toHaveLength(2);
  });

  it('HTML error page at 502: retried; at 200: a clear bad-response error', async () => {
    h.emulator.inject({ fault: { kind: 'html', status: 502 } });
    await h.ok('get_access_user', { user_id: userId });
    h.emulator.inject({ fault: { kind: 'html', status: 200 } });
    const text = await h.fails('get_access_user', { user_id: userId });
    expect(text).toMatch(/unexpected response.*HTML page/);
  });

  it('success:false at HTTP 200 is an error with Cloudflare\'s message', async () => {
    h.emulator.inject({ fault: { kind: 'success_false', code: 1234, message: 'Something odd' } });
    const text = await h.fails('get_access_user', { user_id: userId });
    expect(text).toContain('1234 Something odd');
  });

  it('the server answers normally after every fault', async () => {
    expect((await h.ok('get_access_user', { user_id: userId })).id).toBe(userId);
  });
});

describe('POST (create)', () => {
  it('is retried on 429', async () => {
    h.emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '2' }, method: 'POST' });
    await h.ok('create_access_user', { email: 'retry.429@corp.example' });
    expect(h.emulator.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
    expect(h.clock.sleeps).toEqual([2000]);
  });

  it.each([500, 502, 503, 504])('is sent exactly once on %i', async (status) => {
    h.emulator.inject({ fault: { kind: 'status', status }, method: 'POST' });
    const text = await h.fails('create_access_user', { email: `once.${status}@corp.example` });
    expect(h.emulator.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(text).toMatch(new RegExp(`HTTP ${status}`));
  });

  it('is sent exactly once when the response is lost, and says to check before retrying', async () => {
    h.emulator.inject({ fault: { kind: 'reset', after: 'process' }, method: 'POST' });
    const text = await h.fails('create_access_user', { email: 'lost.response@corp.example' });
    expect(h.emulator.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(text).toMatch(/may or may not have happened.*list_access_users \(email: lost.response@corp.example\)/);
  });
});

describe('DELETE', () => {
  it('a lost first response, then 404 on retry, is reported as deleted', async () => {
    const created = await h.ok('create_access_user', { email: 'to.delete@corp.example' });
    h.emulator.resetRequests();
    h.emulator.inject({ fault: { kind: 'reset', after: 'process' }, method: 'DELETE' });
    const result = await h.ok('delete_access_user', { user_id: created.id, confirm: true });
    expect(result).toMatchObject({ deleted: true, id: created.id });
    expect(String(result.note)).toMatch(/first response was lost/);
    expect(h.emulator.requests.filter((r) => r.method === 'DELETE')).toHaveLength(2);
  });

  it('a plain 404 is still not found', async () => {
    const text = await h.fails('delete_access_user', { user_id: '00000000-0000-4000-8000-000000000000', confirm: true });
    expect(text).toMatch(/Not found/);
  });
});
