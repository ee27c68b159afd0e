/**
 * offboard_access_users through the real MCP client: plan lists who would go and which references are
 * unknown; apply deletes under the one confirmation rule (asked once for the batch when the client can be
 * asked, naming who goes; else confirm: true, and without it nothing at all is sent).
 */
import { ElicitRequestSchema, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_ALICE, SANDBOX_CAROL, type Emulator } from '../src/sandbox/emulator.js';
import { rowsOf, startHarness, type Harness } from './helpers/harness.js';

interface Batch {
  mode: 'plan' | 'apply';
  summary: Record<string, number>;
  fields: string[];
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

const rows = (batch: Batch) => rowsOf(batch as unknown as Record<string, unknown>);
const deletes = () => emulator.requests.filter((request) => request.method === 'DELETE');
const UNKNOWN_ID = '00000000-0000-4000-8000-0000000000aa';

/** People who exist only to be offboarded. */
async function leavers(count: number): Promise<{ id: string; email: string }[]> {
  run += 1;
  const created: { id: string; email: string }[] = [];
  for (let i = 0; i < count; i++) {
    const email = `leaver${i}.run${run}@corp.example`;
    const user = await h.ok<{ id: string }>('create_access_user', { email, name: `Leaver ${i}` });
    created.push({ id: user.id, email });
  }
  return created;
}

/** A harness whose client can be asked, answering `answer` and recording each question. */
async function askingHarness(answer: ElicitResult): Promise<{ asking: Harness; asked: ElicitRequest['params'][] }> {
  const asking = await startHarness({ sharedEmulator: emulator, clientCapabilities: { capabilities: { elicitation: {} } } });
  const asked: ElicitRequest['params'][] = [];
  asking.mcp.setRequestHandler(ElicitRequestSchema, (request) => {
    asked.push(request.params);
    return answer;
  });
  return { asking, asked };
}

describe('plan', () => {
  it('lists who would be removed and which references are unknown, and writes nothing', async () => {
    emulator.resetRequests();
    const plan = await h.ok<Batch>('offboard_access_users', { users: [SANDBOX_ALICE.email, 'ghost@corp.example', UNKNOWN_ID, SANDBOX_CAROL.id] });
    expect(plan.mode).toBe('plan');
    expect(plan.summary).toEqual({ delete: 2, unknown: 2 });
    const byRef = Object.fromEntries(rows(plan).map((row) => [row['ref'], row]));
    expect(byRef[SANDBOX_ALICE.email]).toMatchObject({ action: 'delete', id: SANDBOX_ALICE.id, name: SANDBOX_ALICE.name });
    expect(byRef[SANDBOX_CAROL.id]).toMatchObject({ action: 'delete', email: SANDBOX_CAROL.email });
    expect(byRef['ghost@corp.example']).toMatchObject({ action: 'unknown', reason: 'no user with this email' });
    expect(byRef[UNKNOWN_ID]).toMatchObject({ action: 'unknown', reason: 'no user with this id' });
    expect(emulator.requests.every((request) => request.method === 'GET')).toBe(true);
    expect(emulator.state.users.has(SANDBOX_ALICE.id)).toBe(true);
  });
});

describe('apply, no client that can ask', () => {
  it('without confirm: true nothing at all is sent, not even a lookup', async () => {
    const [leaver] = await leavers(1);
    emulator.resetRequests();
    const text = await h.fails('offboard_access_users', { users: [leaver!.email], mode: 'apply' });
    expect(text).toMatch(/^Nobody was deleted\. This would permanently delete 1 Zero Trust user reference from account [0-9a-f]{32}/);
    expect(text).toMatch(/must carry confirm: true\. .*Nothing was sent to Cloudflare\.$/);
    expect(emulator.requests).toHaveLength(0);
    expect(emulator.state.users.has(leaver!.id)).toBe(true);
  });

  it('with confirm: true: one DELETE per person, one audit line each; the same person by id and email goes once', async () => {
    const people = await leavers(3);
    const auditBefore = h.logLines.filter((line) => line.includes('"msg":"audit"') && line.includes('offboard_access_users')).length;
    emulator.resetRequests();
    const applied = await h.ok<Batch>('offboard_access_users', {
      users: [...people.map((p) => p.email), people[0]!.id, 'ghost@corp.example'],
      mode: 'apply',
      confirm: true,
    });
    expect(applied.summary).toEqual({ deleted: 3, repeat: 1, unknown: 1 });
    expect(deletes().map((request) => request.url.split('/').pop()).sort()).toEqual(people.map((p) => p.id).sort());
    for (const person of people) expect(emulator.state.users.has(person.id)).toBe(false);
    const audits = h.logLines.filter((line) => line.includes('"msg":"audit"') && line.includes('offboard_access_users'));
    expect(audits.length - auditBefore).toBe(3);

    // Again: everyone is unknown now, nothing is deleted.
    emulator.resetRequests();
    const again = await h.ok<Batch>('offboard_access_users', { users: people.map((p) => p.email), mode: 'apply', confirm: true });
    expect(again.summary).toEqual({ unknown: 3 });
    expect(deletes()).toEqual([]);
  });
});

describe('apply, a client that can ask (elicitation)', () => {
  it('asks once for the whole batch, naming who goes, and deletes on yes (confirm: false does not skip the question)', async () => {
    const people = await leavers(3);
    const { asking, asked } = await askingHarness({ action: 'accept', content: { confirm: true } });
    try {
      emulator.resetRequests();
      const applied = await asking.ok<Batch>('offboard_access_users', { users: people.map((p) => p.email), mode: 'apply', confirm: false });
      expect(applied.summary).toEqual({ deleted: 3 });
      expect(asked).toHaveLength(1);
      expect(asked[0]!.message).toMatch(/^Delete 3 Zero Trust users from account [0-9a-f]{32}: /);
      for (const person of people) expect(asked[0]!.message).toContain(person.email);
      expect(deletes()).toHaveLength(3);
    } finally {
      await asking.close();
    }
  });

  it('on no, nothing is deleted', async () => {
    const people = await leavers(2);
    const { asking, asked } = await askingHarness({ action: 'decline' });
    try {
      emulator.resetRequests();
      const text = await asking.fails('offboard_access_users', { users: people.map((p) => p.id), mode: 'apply', confirm: true });
      expect(text).toMatch(/^Nobody was deleted\. The person declined when asked: "Delete 2 Zero Trust users/);
      expect(asked).toHaveLength(1);
      expect(deletes()).toEqual([]);
      for (const person of people) expect(emulator.state.users.has(person.id)).toBe(true);
    } finally {
      await asking.close();
    }
  });

  it('nobody to delete: nobody is asked', async () => {
    const { asking, asked } = await askingHarness({ action: 'accept', content: { confirm: true } });
    try {
      const applied = await asking.ok<Batch>('offboard_access_users', { users: ['ghost@corp.example'], mode: 'apply' });
      expect(applied.summary).toEqual({ unknown: 1 });
      expect(asked).toHaveLength(0);
    } finally {
      await asking.close();
    }
  });
});

describe('input', () => {
  it('refuses the same reference twice (ignoring case) and anything that is not a UUID or an email, before any request', async () => {
    emulator.resetRequests();
    expect(await h.fails('offboard_access_users', { users: ['a@corp.example', 'A@corp.example'] })).toMatch(/^users names the same user more than once/);
    expect(await h.fails('offboard_access_users', { users: [SANDBOX_ALICE.id, '../x'] })).toMatch(
      /^Invalid arguments for offboard_access_users: users\.1: item must be a lowercase UUID/,
    );
    expect(await h.fails('offboard_access_users', { users: [] })).toMatch(/users must list 1 to 500 people/);
    expect(emulator.requests).toHaveLength(0);
  });
});
