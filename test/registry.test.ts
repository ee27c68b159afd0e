/**
 * Registry-wide rules every tool must follow, checked on what clients
 * actually receive (tools/list), plus a checked-in snapshot of each tool's
 * definition so any change to what the model sees shows up in review.
 */
import { readFileSync } from 'node:fs';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTools } from '../src/tools/index.js';
import { SERVER_VERSION } from '../src/version.js';
import { bridgeTools, modelVisibleBytes } from './helpers/definitions.js';
import { startHarness, type Harness } from './helpers/harness.js';

const EXPECTED = [
  'get_current_user',
  'list_access_users',
  'get_access_user',
  'create_access_user',
  'update_access_user',
  'delete_access_user',
  'list_active_sessions',
  'get_active_session',
  'get_last_seen_identity',
  'list_failed_logins',
  'get_user_access_overview',
  'provision_access_users',
  'offboard_access_users',
];
const WRITES = ['create_access_user', 'update_access_user', 'delete_access_user', 'provision_access_users', 'offboard_access_users'];
/** Overwrite or delete: provisioning renames, offboarding deletes. */
const DESTRUCTIVE = ['update_access_user', 'delete_access_user', 'provision_access_users', 'offboard_access_users'];

interface OpenApiOperation {
  operationId: string;
  'x-api-token-group'?: string[] | null;
}
const openapi = JSON.parse(readFileSync(new URL('../spec/cloudflare-users.openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, OpenApiOperation>>;
};
const TOOL_OPERATION: Record<string, [string, string]> = {
  get_current_user: ['/user', 'get'],
  list_access_users: ['/accounts/{account_id}/access/users', 'get'],
  get_access_user: ['/accounts/{account_id}/access/users/{user_id}', 'get'],
  create_access_user: ['/accounts/{account_id}/access/users', 'post'],
  update_access_user: ['/accounts/{account_id}/access/users/{user_id}', 'put'],
  delete_access_user: ['/accounts/{account_id}/access/users/{user_id}', 'delete'],
  list_active_sessions: ['/accounts/{account_id}/access/users/{user_id}/active_sessions', 'get'],
  get_active_session: ['/accounts/{account_id}/access/users/{user_id}/active_sessions/{nonce}', 'get'],
  get_last_seen_identity: ['/accounts/{account_id}/access/users/{user_id}/last_seen_identity', 'get'],
  list_failed_logins: ['/accounts/{account_id}/access/users/{user_id}/failed_logins', 'get'],
};
/** Composite tools: every operation they may send, so their descriptions can be checked against each one's group. */
const COMPOSITE_OPERATIONS: Record<string, [string, string][]> = {
  get_user_access_overview: [
    ['/accounts/{account_id}/access/users', 'get'],
    ['/accounts/{account_id}/access/users/{user_id}/active_sessions', 'get'],
    ['/accounts/{account_id}/access/users/{user_id}/active_sessions/{nonce}', 'get'],
    ['/accounts/{account_id}/access/users/{user_id}/last_seen_identity', 'get'],
    ['/accounts/{account_id}/access/users/{user_id}/failed_logins', 'get'],
  ],
  provision_access_users: [
    ['/accounts/{account_id}/access/users', 'get'],
    ['/accounts/{account_id}/access/users', 'post'],
    ['/accounts/{account_id}/access/users/{user_id}', 'put'],
  ],
  offboard_access_users: [
    ['/accounts/{account_id}/access/users', 'get'],
    ['/accounts/{account_id}/access/users/{user_id}', 'get'],
    ['/accounts/{account_id}/access/users/{user_id}', 'delete'],
  ],
};

let h: Harness;
/** What a server whose account is fixed (CLOUDFLARE_ACCOUNT_ID, the harness's default) lists: no account_id. */
let listed: Tool[];
/** What a server with no default account lists: account_id in every account-scoped tool, required. */
let open: Harness;
let listedOpen: Tool[];
beforeAll(async () => {
  h = await startHarness();
  open = await startHarness({ sharedEmulator: h.emulator, defaultAccountId: null });
  listed = (await h.mcp.listTools()).tools;
  listedOpen = (await open.mcp.listTools()).tools;
});
afterAll(async () => {
  await open.close();
  await h.close();
});

describe('registry', () => {
  it('has exactly the thirteen documented tools, in order', () => {
    expect(allTools.map((tool) => tool.name)).toEqual(EXPECTED);
    expect(listed.map((tool) => tool.name)).toEqual(EXPECTED);
  });

  it.each(EXPECTED)('%s has a title, a description a model can choose by, annotations and described inputs', (name) => {
    const tool = listed.find((t) => t.name === name)!;
    expect(tool.title?.length).toBeGreaterThan(5);
    expect(tool.description?.length).toBeGreaterThan(80);
    expect(tool.annotations).toEqual({
      readOnlyHint: !WRITES.includes(name),
      destructiveHint: DESTRUCTIVE.includes(name),
      idempotentHint: name !== 'create_access_user',
      openWorldHint: true,
    });
    const properties = (tool.inputSchema.properties ?? {}) as Record<string, { description?: string }>;
    for (const [field, schema] of Object.entries(properties)) {
      expect(schema.description, `${name}.${field} has a description`).toBeTruthy();
    }
    expect(tool.outputSchema).toBeDefined();
  });

  it.each(Object.keys(TOOL_OPERATION))('%s names the token permission from the OpenAPI file', (name) => {
    const [path, method] = TOOL_OPERATION[name]!;
    const groups = openapi.paths[path]![method]!['x-api-token-group'];
    const tool = allTools.find((t) => t.name === name)!;
    if (groups && groups.length > 0) {
      // The least-privileged group the file lists (Read over Write).
      const group = groups.find((g) => /Read/.test(g)) ?? groups[0]!;
      expect(tool.description).toContain(group);
      expect(tool.permission).toBe(group);
    } else {
      // No group in the file: say what access is needed, invent nothing; the auth error (which quotes
      // `permission`) points to the permissions page, so the description every model reads need not.
      expect(tool.description).toMatch(/Needs write access to Zero Trust users\./);
      expect(tool.permission).toContain('developers.cloudflare.com/fundamentals/api/reference/permissions');
    }
  });

  it.each(Object.keys(COMPOSITE_OPERATIONS))('%s names every token permission its operations need (OpenAPI file)', (name) => {
    const tool = allTools.find((t) => t.name === name)!;
    for (const [path, method] of COMPOSITE_OPERATIONS[name]!) {
      const groups = openapi.paths[path]![method]!['x-api-token-group'];
      // The least-privileged group the file lists; no group in the file: the write access it needs, in words.
      const group = groups && groups.length > 0 ? (groups.find((g) => /Read/.test(g)) ?? groups[0]!) : 'write access to Zero Trust users';
      expect(tool.permission, `${name}: ${method.toUpperCase()} ${path}`).toContain(group);
    }
    expect(tool.description).toMatch(name === 'get_user_access_overview' ? /Needs Access: Audit Logs Read/ : /write access to Zero Trust users/);
  });

  it('uses the API argument names, plus all/max_items (every page) and users/mode (batches)', () => {
    const names = (tools: Tool[]) => [...new Set(tools.flatMap((tool) => Object.keys(tool.inputSchema.properties ?? {})))].sort();
    const apiNames = ['all', 'confirm', 'detail', 'email', 'fields', 'max_items', 'mode', 'name', 'nonce', 'page', 'per_page', 'search', 'user_id', 'users'];
    expect(names(listed)).toEqual(apiNames);
    expect(names(listedOpen)).toEqual(['account_id', ...apiNames]);
  });

  it('lists account_id only when no account is fixed, and then as required, saying where to find it', () => {
    expect(listedOpen.map((tool) => tool.name)).toEqual(EXPECTED);
    for (const [index, tool] of listedOpen.entries()) {
      const fixed = listed[index]!;
      const accountId = (tool.inputSchema.properties as Record<string, unknown> | undefined)?.['account_id'];
      if (tool.name === 'get_current_user') {
        expect(tool).toEqual(fixed);
        continue;
      }
      expect(accountId, tool.name).toEqual({ description: 'From get_current_user organizations[].id', type: 'string' });
      expect(tool.inputSchema.required, tool.name).toContain('account_id');
      // Otherwise the same definition.
      const { account_id: _account, ...properties } = tool.inputSchema.properties as Record<string, unknown>;
      const required = (tool.inputSchema.required ?? []).filter((name) => name !== 'account_id');
      expect({ ...tool.inputSchema, properties, ...(required.length > 0 ? { required } : { required: undefined }) }).toEqual({
        ...fixed.inputSchema,
        ...(fixed.inputSchema.required ? {} : { required: undefined }),
      });
      expect({ ...tool, inputSchema: undefined }).toEqual({ ...fixed, inputSchema: undefined });
    }
  });

  it('every user_id is one field taking a UUID or an email (no oneOf), described as such', () => {
    for (const tool of listed) {
      const userId = (tool.inputSchema.properties as Record<string, Record<string, unknown>> | undefined)?.['user_id'];
      if (userId === undefined) continue;
      expect(userId, tool.name).toEqual({ type: 'string', description: 'UUID or email' });
    }
  });

  it('keeps tools/list within its size budgets: the 13 tools\' model-visible definitions within 8,000 bytes', () => {
    for (const tools of [listed, listedOpen]) {
      expect(tools).toHaveLength(13);
      // Output schemas are not read by the model when choosing a tool; the whole listing keeps a looser cap.
      expect(Buffer.byteLength(JSON.stringify({ tools }))).toBeLessThanOrEqual(14_000);
      expect(modelVisibleBytes(tools)).toBeLessThanOrEqual(8_000);
    }
  });

  it('the 10 documented tools, account fixed, are at most 0.9x the generic OpenAPI bridge\'s model-visible bytes', async () => {
    // The bridge (@ivotoby/openapi-mcp-server 1.16.1, pinned) run live on the same OpenAPI file: 5,479 B when
    // this was written. Measured the same way as ours (test/helpers/definitions.ts).
    const bridge = await bridgeTools();
    expect(bridge).toHaveLength(10);
    const theirs = modelVisibleBytes(bridge);
    const documented = listed.filter((tool) => Object.hasOwn(TOOL_OPERATION, tool.name));
    expect(documented).toHaveLength(10);
    const ours = modelVisibleBytes(documented);
    expect(ours, `ours ${ours} B, bridge ${theirs} B`).toBeLessThanOrEqual(0.9 * theirs);
    // Deterministic, so a change in either direction shows: update with the reason.
    expect(ours).toBe(4_784);
    expect(modelVisibleBytes(listedOpen.filter((tool) => Object.hasOwn(TOOL_OPERATION, tool.name)))).toBe(5_706);
  }, 30_000);

  it('version matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SERVER_VERSION).toBe(pkg.version);
    const manifest = JSON.parse(readFileSync(new URL('../manifest.json', import.meta.url), 'utf8')) as { version: string };
    expect(manifest.version).toBe(pkg.version);
  });
});

describe('tool definition snapshots (review any change to what the model sees)', () => {
  // Account fixed (CLOUDFLARE_ACCOUNT_ID or the session's header): what most servers list.
  it.each(EXPECTED)('%s', async (name) => {
    const tool = listed.find((t) => t.name === name)!;
    await expect(`${JSON.stringify(tool, null, 2)}\n`).toMatchFileSnapshot(`./__toolsnaps__/${name}.json`);
  });

  // No default account: account_id listed, required.
  it.each(EXPECTED)('%s (no default account)', async (name) => {
    const tool = listedOpen.find((t) => t.name === name)!;
    await expect(`${JSON.stringify(tool, null, 2)}\n`).toMatchFileSnapshot(`./__toolsnaps__/no-default-account/${name}.json`);
  });
});
