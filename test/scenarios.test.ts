/**
 * The used-by scenarios, driven through the SDK Client as an agent would: tool calls, upstream
 * requests (counted by the emulator) and characters returned. The same drivers feed the bench's figures
 * (bench/workflows.ts), next to the same scenario done with only the ten basic tools.
 */
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_ALICE, type Emulator } from '../src/sandbox/emulator.js';
import { startHarness, type Harness } from './helpers/harness.js';
import {
  measure,
  offboardWithWorkflow,
  provisionWithWorkflow,
  sessionsQuestionWithBasicTools,
  sessionsQuestionWithOverview,
  twentyPeople,
} from './helpers/scenarios.js';

let emulator: Emulator;
let h: Harness;

// The harness owns its emulator (and closes it); other harnesses in this file share it.
beforeAll(async () => {
  h = await startHarness();
  emulator = h.emulator;
});
afterAll(() => h.close());

describe('1. "which sessions does <email> have, from which devices and IPs, where did she last sign in, any failed logins?"', () => {
  it('one call, seven upstream requests, at most 4,000 characters (the basic tools: 8 calls, several times the text)', async () => {
    const overview = await measure(emulator, h.call, sessionsQuestionWithOverview(SANDBOX_ALICE.email));
    expect(overview).toMatchObject({ ok: true, calls: 1, requests: 7, tools: ['get_user_access_overview'] });
    expect(overview.chars).toBeLessThanOrEqual(4_000);

    const basic = await measure(emulator, h.call, sessionsQuestionWithBasicTools(SANDBOX_ALICE.email));
    expect(basic).toMatchObject({ ok: true, calls: 8, requests: 8 });
    expect(basic.chars).toBeGreaterThan(overview.chars * 2);
  });
});

describe('2. "provision these 20 people, 10 of whom exist"', () => {
  it('one plan and one apply: exactly the missing ten are created', async () => {
    const { people, missing } = twentyPeople(emulator, 'scenario');
    const before = new Set(emulator.state.users.keys());
    const run = await measure(emulator, h.call, provisionWithWorkflow(people));
    expect(run).toMatchObject({ ok: true, calls: 2, tools: ['provision_access_users', 'provision_access_users'] });
    // Plan: one page of every user. Apply: that page again, then one POST per missing person.
    expect(run.requests).toBe(12);
    expect(emulator.requests.filter((request) => request.method === 'POST').map((request) => (JSON.parse(request.body) as { email: string }).email).sort()).toEqual(
      missing.map((person) => person.email).sort(),
    );
    expect(emulator.requests.filter((request) => request.method !== 'GET' && request.method !== 'POST')).toEqual([]);
    const added = [...emulator.state.users.values()].filter((user) => !before.has(user.id));
    expect(added.map((user) => user.email).sort()).toEqual(missing.map((person) => person.email).sort());
    expect(run.chars).toBeLessThan(4_000);
  });
});

describe('3. "offboard these 3 people"', () => {
  const threeNew = async (tag: string): Promise<string[]> => {
    const emails = [0, 1, 2].map((i) => `offboard${i}.${tag}@corp.example`);
    for (const email of emails) await h.ok('create_access_user', { email, name: email });
    return emails;
  };
  const deletedCount = () => emulator.requests.filter((request) => request.method === 'DELETE').length;

  it('without a client that can ask: plan, then apply with confirm: true (and without it, nothing is sent)', async () => {
    const emails = await threeNew('flag');
    emulator.resetRequests();
    const refused = await h.call('offboard_access_users', { users: emails, mode: 'apply' });
    expect(refused.isError).toBe(true);
    expect(emulator.requestCount()).toBe(0);

    const run = await measure(emulator, h.call, offboardWithWorkflow(emails, true));
    expect(run).toMatchObject({ ok: true, calls: 2 });
    // Plan: 3 lookups at once; apply: the 3 lookups again (the account may have changed), then 3 deletes.
    expect(run.requests).toBe(9);
    expect(deletedCount()).toBe(3);
    expect(run.chars).toBeLessThan(2_000);
  });

  it('with a client that can ask: plan, then apply; the person is asked once, naming the three', async () => {
    const emails = await threeNew('asked');
    const asking = await startHarness({ sharedEmulator: emulator, clientCapabilities: { capabilities: { elicitation: {} } } });
    const questions: string[] = [];
    asking.mcp.setRequestHandler(ElicitRequestSchema, (request) => {
      questions.push(request.params.message);
      return { action: 'accept', content: { confirm: true } };
    });
    try {
      const run = await measure(emulator, asking.call, offboardWithWorkflow(emails, false));
      expect(run).toMatchObject({ ok: true, calls: 2, requests: 9 });
      expect(deletedCount()).toBe(3);
      expect(questions).toHaveLength(1);
      for (const email of emails) expect(questions[0]).toContain(email);
    } finally {
      await asking.close();
    }
  });
});
