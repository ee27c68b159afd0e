/**
 * Shutdown never loses a write: calls in flight finish within the grace period (and are audited), calls cut
 * off after it are audited with outcome `unknown`, and no new call is taken once shutdown has begun.
 * In-process through the wiring's drain(), and for real through the CLI with stdin closed and SIGTERM.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_BOB, SANDBOX_CAROL, type Emulator } from '../src/sandbox/emulator.js';
import { SHUTTING_DOWN_TEXT } from '../src/tools/run.js';
import { startHarness, startTestEmulator, TEST_TOKEN, textOf, type Harness } from './helpers/harness.js';
import { cleanEnv, SOURCE_ENTRY, spawnServer, type Spawned } from './helpers/spawn.js';

function auditsIn(lines: readonly string[]): Record<string, unknown>[] {
  return lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.msg === 'audit');
}

describe('drain (in process)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('lets a call in flight finish, audits it, and refuses new calls without sending anything', async () => {
    const user = await h.ok<{ id: string }>('create_access_user', { email: 'drain.one@corp.example' });
    h.emulator.inject({ fault: { kind: 'delay', phase: 'headers', ms: 400 }, method: 'DELETE' });
    const inFlight = h.call('delete_access_user', { user_id: user.id, confirm: true });
    while (h.wired.services.calls.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const draining = h.wired.drain(5_000);
    const before = h.emulator.requestCount();
    const refused = await h.call('get_access_user', { user_id: user.id });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toBe(SHUTTING_DOWN_TEXT);
    expect(h.emulator.requestCount()).toBe(before);
    expect(await draining).toBe(0);
    expect((await inFlight).isError).toBeFalsy();
    const audit = auditsIn(h.logLines).filter((record) => record.user_id === user.id && record.tool === 'delete_access_user');
    expect(audit).toEqual([expect.objectContaining({ outcome: 'ok', status: 202 })]);
  });
});

describe('drain after the grace period', () => {
  it('cuts off a write still in flight and audits it as unknown', async () => {
    const h = await startHarness();
    try {
      h.emulator.inject({ fault: { kind: 'delay', phase: 'headers', ms: 3_000 }, method: 'DELETE' });
      const inFlight = h.call('delete_access_user', { user_id: SANDBOX_CAROL.id, confirm: true });
      while (h.wired.services.calls.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const started = Date.now();
      expect(await h.wired.drain(100)).toBe(1);
      expect(Date.now() - started).toBeLessThan(2_500);
      await inFlight.catch(() => undefined);
      const audit = auditsIn(h.logLines).filter((record) => record.tool === 'delete_access_user');
      // The emulator applied the DELETE; we never saw its answer: neither "ok" nor "failed" would be true.
      expect(audit).toEqual([expect.objectContaining({ outcome: 'unknown', user_id: SANDBOX_CAROL.id })]);
      expect(h.emulator.requests.filter((request) => request.method === 'DELETE')).toHaveLength(1);
    } finally {
      await h.close();
    }
  });
});

describe('the CLI on stdio', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });

  function spawnCli(extraArgs: string[]): Spawned {
    return spawnServer(
      [...SOURCE_ENTRY, ...extraArgs],
      cleanEnv({ CLOUDFLARE_API_TOKEN: TEST_TOKEN, CLOUDFLARE_ACCOUNT_ID: emulator.accountId, CLOUDFLARE_BASE_URL: emulator.baseUrl }),
    );
  }

  function send(server: Spawned, message: object): void {
    server.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  async function startDelete(server: Spawned, userId: string): Promise<void> {
    send(server, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    send(server, { jsonrpc: '2.0', method: 'notifications/initialized' });
    const requestsBefore = emulator.requestCount();
    send(server, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'delete_access_user', arguments: { user_id: userId, confirm: true } } });
    // Wait until the DELETE has reached the emulator, so it is truly in flight.
    const deadline = Date.now() + 20_000;
    while (emulator.requestCount() === requestsBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  function resultOf(server: Spawned, id: number): CallToolResult | undefined {
    for (const line of server.stdout().split('\n')) {
      if (!line.startsWith('{')) continue;
      const message = JSON.parse(line) as { id?: number; result?: CallToolResult };
      if (message.id === id) return message.result;
    }
    return undefined;
  }

  it('stdin closed during a 3 s DELETE: waits for it, answers it, audits it, exits 0', async () => {
    const server = spawnCli([]);
    emulator.inject({ fault: { kind: 'delay', phase: 'headers', ms: 3_000 }, method: 'DELETE' });
    await startDelete(server, SANDBOX_BOB.id);
    const closedAt = Date.now();
    server.child.stdin.end();
    expect(await server.exited).toBe(0);
    // It stayed for the DELETE (the old CLI exited after 3 s whatever was in flight, with no audit line).
    expect(Date.now() - closedAt).toBeGreaterThan(1_500);
    expect(resultOf(server, 2)?.isError).toBeFalsy();
    const audit = auditsIn(server.stderr().split('\n'));
    expect(audit).toEqual([expect.objectContaining({ tool: 'delete_access_user', outcome: 'ok', user_id: SANDBOX_BOB.id })]);
    expect(emulator.state.users.has(SANDBOX_BOB.id)).toBe(false);
  });

  it('SIGTERM with --shutdown-grace-seconds 1 during a 6 s DELETE: cuts it off after 1 s, audits it as unknown, exits 0', async () => {
    const created = await emulatorCreate(emulator, 'grace.cut@corp.example');
    const server = spawnCli(['--shutdown-grace-seconds', '1']);
    emulator.inject({ fault: { kind: 'delay', phase: 'headers', ms: 6_000 }, method: 'DELETE' });
    await startDelete(server, created);
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(5_000);
    const audit = auditsIn(server.stderr().split('\n'));
    expect(audit).toEqual([expect.objectContaining({ tool: 'delete_access_user', outcome: 'unknown', user_id: created })]);
    expect(server.stderr()).toMatch(/cut off calls still in flight/);
  });
});

/** A user made directly in the emulator's state through its API, so the CLI under test deletes a fresh one. */
async function emulatorCreate(emulator: Emulator, email: string): Promise<string> {
  const response = await fetch(`${emulator.baseUrl}/accounts/${emulator.accountId}/access/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  });
  const body = (await response.json()) as { result: { id: string } };
  return body.result.id;
}
