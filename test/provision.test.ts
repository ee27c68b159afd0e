/**
 * provision_access_users through the real MCP client: plan writes nothing; apply creates and renames with
 * progress and one audit line per write; a second apply writes nothing; duplicates are refused before
 * anything runs; a failed person is a row with status and code, and a create is never retried after a 5xx
 * or a lost answer (only after a 429).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { SANDBOX_ALICE, SANDBOX_CAROL, type Emulator } from '../src/sandbox/emulator.js';
import { rowsOf, startHarness, type Harness } from './helpers/harness.js';

interface Batch {
  mode: 'plan' | 'apply';
  summary: Record<string, number>;
  fields: string[];
  same?: Record<string, unknown>;
  rows: unknown[][];
}

let emulator: Emulator;
let h: Harness;
let run = 0;

// The harness owns its emulator (and closes it); other harnesses in this file share it.
beforeAll(async () => {
  h = await startHarness();
  emulator = h.emulator;
});
afterAll(() => h.close());

/** New addresses for each test, so tests do not see each other's users. */
const newPeople = (count: number) => {
  run += 1;
  return Array.from({ length: count }, (_, i) => ({ email: `new${i}.run${run}@corp.example`, name: `New Person ${i}` }));
};
const rows = (batch: Batch) => rowsOf(batch as unknown as Record<string, unknown>);
const writes = () => emulator.requests.filter((request) => request.method !== 'GET');
const postsFor = (email: string) => emulator.requests.filter((request) => request.method === 'POST' && request.body.includes(`"${email}"`));
const auditLines = () => h.logLines.filter((line) => line.includes('"msg":"audit"') && line.includes('provision_access_users'));

describe('plan', () => {
  it('writes nothing and says create, update or unchanged for each person', async () => {
    const people = [
      { email: SANDBOX_ALICE.email, name: SANDBOX_ALICE.name },
      { email: 'CAROL@example.com', name: 'Carol Renamed' },
      ...newPeople(2),
      { email: 'no.name.given@corp.example' },
    ];
    emulator.resetRequests();
    const plan = await h.ok<Batch>('provision_access_users', { users: people });
    expect(writes()).toEqual([]);
    expect(plan.mode).toBe('plan');
    expect(plan.summary).toEqual({ create: 3, update: 1, unchanged: 1 });
    const byEmail = Object.fromEntries(rows(plan).map((row) => [row['email'], row]));
    expect(byEmail[SANDBOX_ALICE.email]).toMatchObject({ action: 'unchanged', id: SANDBOX_ALICE.id });
    expect(byEmail['CAROL@example.com']).toMatchObject({ action: 'update', id: SANDBOX_CAROL.id, name: 'Carol Renamed', current_name: SANDBOX_CAROL.name });
    expect(byEmail['no.name.given@corp.example']).toMatchObject({ action: 'create' });
    // More people than the concurrency limit (4): one page of every user instead of five lookups.
    expect(emulator.requests.map((request) => request.url)).toEqual([`/client/v4/accounts/${emulator.accountId}/access/users?per_page=1000`]);
  });

  it('the default mode is plan', async () => {
    const plan = await h.ok<Batch>('provision_access_users', { users: newPeople(1) });
    expect(plan.mode).toBe('plan');
  });
});

describe('apply', () => {
  it('creates and renames with progress after each person and one audit line per write; a second apply writes nothing', async () => {
    const people: { email: string; name?: string }[] = [...newPeople(3), { email: SANDBOX_CAROL.email, name: 'Carol Provisioned' }, { email: SANDBOX_ALICE.email }];
    const auditBefore = auditLines().length;
    emulator.resetRequests();
    const progress: Progress[] = [];
    const result = await h.mcp.callTool({ name: 'provision_access_users', arguments: { users: people, mode: 'apply' } }, undefined, {
      onprogress: (p) => void progress.push(p),
    });
    expect(result.isError).toBeFalsy();
    const applied = result.structuredContent as unknown as Batch;
    expect(applied.summary).toEqual({ created: 3, updated: 1, unchanged: 1 });
    expect(writes().map((request) => request.method).sort()).toEqual(['POST', 'POST', 'POST', 'PUT']);
    for (const person of people.slice(0, 3)) {
      const created = [...emulator.state.users.values()].find((user) => user.email === person.email);
      expect(created?.name).toBe(person.name);
    }
    expect(emulator.state.users.get(SANDBOX_CAROL.id)?.name).toBe('Carol Provisioned');
    // Progress after each person written: done counts up to all five (the unchanged one counted from the start).
    expect(progress.map((p) => p.progress)).toEqual([2, 3, 4, 5]);
    expect(progress.every((p) => p.total === 5 && typeof p.message === 'string')).toBe(true);
    expect(auditLines().length - auditBefore).toBe(4);

    emulator.resetRequests();
    const again = await h.ok<Batch>('provision_access_users', { users: people, mode: 'apply' });
    expect(again.summary).toEqual({ unchanged: 5 });
    expect(writes()).toEqual([]);
    await h.ok('update_access_user', { user_id: SANDBOX_CAROL.id, name: SANDBOX_CAROL.name });
  });

  it('refuses the same email twice (ignoring case) before anything is sent', async () => {
    emulator.resetRequests();
    const text = await h.fails('provision_access_users', {
      users: [{ email: 'twice@corp.example' }, { email: 'other@corp.example' }, { email: 'TWICE@corp.example' }],
      mode: 'apply',
    });
    expect(text).toBe(
      'users lists the same email more than once (ignoring case): twice@corp.example (items 1, 3). List each person once. Nothing was sent to Cloudflare.',
    );
    expect(emulator.requests).toHaveLength(0);
  });

  it('a 5xx on a create: that person fails (status, code), the create is not retried, the others go ahead', async () => {
    const people = newPeople(3);
    emulator.resetRequests();
    emulator.inject({ fault: { kind: 'status', status: 503 }, method: 'POST', times: 1 });
    const applied = await h.ok<Batch>('provision_access_users', { users: people, mode: 'apply' });
    expect(applied.summary).toEqual({ failed: 1, created: 2 });
    const failedEmail = (JSON.parse(writes()[0]!.body) as { email: string }).email;
    expect(postsFor(failedEmail)).toHaveLength(1);
    const failed = rows(applied)[0]!;
    expect(failed).toMatchObject({ email: failedEmail, result: 'failed', status: 503, code: 10503 });
    expect(String(failed['reason'])).toContain('Service Unavailable');
  });

  it('a lost answer to a create: failed, "may or may not have happened", not retried; the next plan shows it happened', async () => {
    const [person] = newPeople(1);
    emulator.resetRequests();
    emulator.inject({ fault: { kind: 'reset', after: 'process' }, method: 'POST', times: 1 });
    const applied = await h.ok<Batch>('provision_access_users', { users: [person], mode: 'apply' });
    expect(applied.summary).toEqual({ failed: 1 });
    expect(String(rows(applied)[0]!['reason'])).toMatch(/the create may or may not have happened; run plan to see$/);
    expect(postsFor(person!.email)).toHaveLength(1);
    const plan = await h.ok<Batch>('provision_access_users', { users: [person] });
    expect(plan.summary).toEqual({ unchanged: 1 });
  });

  it('a 429 on a create is retried (rejected before processing), and the person is created', async () => {
    const [person] = newPeople(1);
    emulator.resetRequests();
    emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '1' }, method: 'POST', times: 1 });
    const applied = await h.ok<Batch>('provision_access_users', { users: [person], mode: 'apply' });
    expect(applied.summary).toEqual({ created: 1 });
    expect(postsFor(person!.email)).toHaveLength(2);
  });

  it('Cloudflare refusing one person (409) is that row, with status and code', async () => {
    const [person] = newPeople(1);
    // Created by someone else between the lookup and the create.
    emulator.inject({ fault: { kind: 'status', status: 409, body: JSON.stringify({ success: false, errors: [{ code: 12130, message: 'access.api.error.conflict' }], messages: [], result: null }) }, method: 'POST' });
    const applied = await h.ok<Batch>('provision_access_users', { users: [person], mode: 'apply' });
    expect(rows(applied)[0]).toMatchObject({ result: 'failed', status: 409, code: 12130, reason: 'access.api.error.conflict' });
  });
});
