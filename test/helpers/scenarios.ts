/**
 * The used-by scenarios of the agent-workflow issue, driven as an agent would drive them: once with the
 * workflow tools (overview, provision, offboard) and once with only the ten basic tools. Each run counts
 * tool calls, upstream requests (the emulator's own count) and the characters of text the agent reads.
 * Used by test/scenarios.test.ts and the bench (bench/workflows.ts).
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Emulator } from '../../src/sandbox/emulator.js';
import { rowsOf, textOf } from './harness.js';

export type CallTool = (name: string, args: Record<string, unknown>) => Promise<CallToolResult>;

export interface ScenarioRun {
  calls: number;
  requests: number;
  /** Characters of result text the agent read, all calls together. */
  chars: number;
  /** Every call succeeded (or failed only where the scenario expects it). */
  ok: boolean;
  /** Each call's tool name, in order. */
  tools: string[];
}

/** Counts what `drive` costs: calls and characters through `call`, requests at the emulator. */
export async function measure(emulator: Emulator, call: CallTool, drive: (call: CallTool) => Promise<boolean>): Promise<ScenarioRun> {
  const run: ScenarioRun = { calls: 0, requests: 0, chars: 0, ok: false, tools: [] };
  const counted: CallTool = async (name, args) => {
    const result = await call(name, args);
    run.calls += 1;
    run.tools.push(name);
    run.chars += textOf(result).length;
    return result;
  };
  emulator.resetRequests();
  run.ok = await drive(counted);
  run.requests = emulator.requestCount();
  return run;
}

const data = (result: CallToolResult) => (result.structuredContent ?? {}) as Record<string, unknown>;

// ---- 1. "Which sessions does <email> have, from which devices and IPs, where did she last sign in, any failed logins?"

export function sessionsQuestionWithOverview(email: string) {
  return async (call: CallTool) => !(await call('get_user_access_overview', { user_id: email })).isError;
}

/** The ideal agent with the basic tools: find the id, the user, the sessions, each session, last seen, failed logins. */
export function sessionsQuestionWithBasicTools(email: string) {
  return async (call: CallTool) => {
    const listed = await call('list_access_users', { email });
    const id = rowsOf(data(listed))[0]?.['id'];
    if (typeof id !== 'string') return false;
    const results = [await call('get_access_user', { user_id: id })];
    const sessions = await call('list_active_sessions', { user_id: id });
    results.push(sessions);
    for (const row of rowsOf(data(sessions))) results.push(await call('get_active_session', { user_id: id, nonce: String(row['nonce']) }));
    results.push(await call('get_last_seen_identity', { user_id: id }));
    results.push(await call('list_failed_logins', { user_id: id }));
    return results.every((result) => !result.isError);
  };
}

// ---- 2. "Provision these 20 people, 10 of whom exist."

export interface Person {
  email: string;
  name: string;
}

/** 20 people: the first 10 users of the account as they are, and 10 new ones. */
export function twentyPeople(emulator: Emulator, tag: string): { people: Person[]; missing: Person[] } {
  const existing = [...emulator.state.users.values()].slice(0, 10).map((user) => ({ email: user.email, name: user.name }));
  const missing = Array.from({ length: 10 }, (_, i) => ({ email: `hire${i}.${tag}@corp.example`, name: `New Hire ${i}` }));
  return { people: [...existing, ...missing], missing };
}

export function provisionWithWorkflow(people: readonly Person[]) {
  return async (call: CallTool) => {
    const plan = await call('provision_access_users', { users: people });
    const applied = await call('provision_access_users', { users: people, mode: 'apply' });
    return !plan.isError && !applied.isError;
  };
}

/** The basic tools, fewest calls: one big listing, then one create per missing person. */
export function provisionWithBasicToolsListing(people: readonly Person[]) {
  return async (call: CallTool) => {
    const listed = await call('list_access_users', { per_page: 1000, fields: ['email', 'name'] });
    const known = new Set(rowsOf(data(listed)).map((row) => String(row['email']).toLowerCase()));
    let ok = !listed.isError;
    for (const person of people) {
      if (known.has(person.email.toLowerCase())) continue;
      ok = !(await call('create_access_user', { email: person.email, name: person.name })).isError && ok;
    }
    return ok;
  };
}

/** The basic tools, person by person: look each one up, create the missing. */
export function provisionWithBasicToolsLookups(people: readonly Person[]) {
  return async (call: CallTool) => {
    let ok = true;
    for (const person of people) {
      const found = rowsOf(data(await call('list_access_users', { email: person.email })));
      if (found.length === 0) ok = !(await call('create_access_user', { email: person.email, name: person.name })).isError && ok;
    }
    return ok;
  };
}

// ---- 3. "Offboard these 3 people."

export function offboardWithWorkflow(emails: readonly string[], confirm: boolean) {
  return async (call: CallTool) => {
    const plan = await call('offboard_access_users', { users: emails });
    const applied = await call('offboard_access_users', { users: emails, mode: 'apply', ...(confirm ? { confirm: true } : {}) });
    return !plan.isError && !applied.isError;
  };
}

export function offboardWithBasicTools(emails: readonly string[]) {
  return async (call: CallTool) => {
    let ok = true;
    for (const email of emails) {
      const id = rowsOf(data(await call('list_access_users', { email })))[0]?.['id'];
      if (typeof id !== 'string') return false;
      ok = !(await call('delete_access_user', { user_id: id, confirm: true })).isError && ok;
    }
    return ok;
  };
}
