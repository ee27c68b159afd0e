/**
 * The real CLI over stdio, spawned from source (tsx) and from the built dist/,
 * talking to the emulator on a loopback port.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/sandbox/emulator.js';
import { startTestEmulator, TEST_KEY, TEST_TOKEN, textOf } from './helpers/harness.js';
import { cleanEnv, DIST_ENTRY, PROJECT_ROOT, SOURCE_ENTRY, spawnServer, stop } from './helpers/spawn.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await emulator.close();
});

function serverEnv(extra: Record<string, string> = {}) {
  return cleanEnv({
    CLOUDFLARE_API_TOKEN: TEST_TOKEN,
    CLOUDFLARE_API_KEY: TEST_KEY,
    CLOUDFLARE_EMAIL: 'owner@corp.example',
    CLOUDFLARE_ACCOUNT_ID: emulator.accountId,
    CLOUDFLARE_BASE_URL: emulator.baseUrl,
    ...extra,
  });
}

async function connect(args: string[], env: Record<string, string>) {
  const transport = new StdioClientTransport({ command: process.execPath, args, env, cwd: PROJECT_ROOT, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

describe('stdio from source (tsx)', () => {
  it('serves all tools and reaches the emulator; stderr is structured and secret-free', async () => {
    const { client, stderr } = await connect(SOURCE_ENTRY, serverEnv());
    try {
      expect((await client.listTools()).tools).toHaveLength(13);
      const result = (await client.callTool({ name: 'list_access_users', arguments: { email: 'alice@corp.example' } })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toContain('alice@corp.example');
      const created = (await client.callTool({ name: 'create_access_user', arguments: { email: 'stdio.user@corp.example' } })) as CallToolResult;
      expect(created.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    const lines = stderr().trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(stderr()).toMatch(/"msg":"audit"/);
    expect(stderr()).toMatch(/using the API token/);
    expect(stderr()).not.toContain(TEST_TOKEN);
    expect(stderr()).not.toContain(TEST_KEY);
  });

  it('writes only JSON-RPC to stdout', async () => {
    const server = spawnServer(SOURCE_ENTRY, serverEnv({ CLOUDFLARE_ACCOUNT_ID: '' }));
    const send = (message: object) => server.child.stdin.write(`${JSON.stringify(message)}\n`);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get_current_user', arguments: {} } });
    send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'list_access_users', arguments: {} } }); // no account: isError
    send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'get_access_user', arguments: { user_id: '../user', account_id: '0'.repeat(32) } } });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !server.stdout().includes('"id":5')) await new Promise((r) => setTimeout(r, 50));
    server.child.stdin.end();
    expect(await server.exited).toBe(0);
    const lines = server.stdout().trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
    expect(server.stdout()).toContain('CLOUDFLARE_ACCOUNT_ID');
    expect(server.stdout()).not.toContain(TEST_TOKEN);
  });

  it('--sandbox needs no credentials and serves demo data', async () => {
    const { client, stderr } = await connect([...SOURCE_ENTRY, '--sandbox'], cleanEnv());
    try {
      const result = (await client.callTool({ name: 'list_access_users', arguments: { per_page: 5 } })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      expect((result.structuredContent as { rows: unknown[] }).rows).toHaveLength(5);
    } finally {
      await client.close();
    }
    expect(stderr()).toMatch(/sandbox mode: serving demo data/);
  });

  it.each(['../x', '%2e%2e', 'a/b', 'ABC'])('refuses to start with CLOUDFLARE_ACCOUNT_ID=%j, sending nothing', async (bad) => {
    emulator.resetRequests();
    const server = spawnServer(SOURCE_ENTRY, serverEnv({ CLOUDFLARE_ACCOUNT_ID: bad }));
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toMatch(/CLOUDFLARE_ACCOUNT_ID must be 32 lowercase hex/);
    expect(server.stdout()).toBe('');
    expect(emulator.requests).toHaveLength(0);
  });

  it('--help prints usage and exits', async () => {
    const server = spawnServer([...SOURCE_ENTRY, '--help'], cleanEnv());
    expect(await server.exited).toBe(0);
    expect(server.stdout()).toMatch(/--sandbox/);
    await stop(server);
  });
});

describe('stdio from the built dist/', () => {
  it('builds (npm run build: esbuild, packages bundled), and the bin serves the tools', async () => {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: PROJECT_ROOT });
    const entry = join(PROJECT_ROOT, 'dist/index.js');
    expect(existsSync(entry)).toBe(true);
    const code = readFileSync(entry, 'utf8');
    expect(code.startsWith('#!/usr/bin/env node')).toBe(true);
    // Bundled: the entry imports its own chunks and Node's built-ins, no package; HTTP, the emulator and undici load on demand.
    expect(code).not.toMatch(/\bfrom\s*["'](?!node:|\.)/);
    expect(code).toMatch(/import\(["']\.\/chunks\/http-[\w-]+\.js["']\)/);
    expect(code).toMatch(/import\(["']\.\/chunks\/emulator-[\w-]+\.js["']\)/);
    const { client } = await connect(DIST_ENTRY, serverEnv());
    try {
      expect((await client.listTools()).tools).toHaveLength(13);
      const result = (await client.callTool({ name: 'get_current_user', arguments: {} })) as CallToolResult;
      expect(result.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  }, 120_000);
});
