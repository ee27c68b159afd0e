/**
 * Safety controls, end to end: which tools a server serves (--read-only, --tools, --toolsets, their env
 * variables, checked against the registry at startup), and the confirmation rule for destructive calls
 * through the real SDK Client (elicit accept, decline, cancel, no capability, the confirm flag), each
 * asserted on the emulator's request log.
 */
import { ElicitRequestSchema, ErrorCode, McpError, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../src/node/config.js';
import type { Emulator } from '../src/sandbox/emulator.js';
import { defineTool } from '../src/tools/define.js';
import { allTools, checkToolSelection, selectTools, TOOLSETS, type ToolDefinition } from '../src/tools/index.js';
import { startHarness, startTestEmulator, type Harness, type HarnessOptions } from './helpers/harness.js';
import { cleanEnv, SOURCE_ENTRY, spawnServer } from './helpers/spawn.js';

const READS = allTools.filter((tool) => tool.annotations.readOnlyHint).map((tool) => tool.name);
const namesOf = (tools: readonly ToolDefinition[]) => tools.map((tool) => tool.name);

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await emulator.close();
});

describe('tool selection: selectTools, the one filtering point', () => {
  it('every tool belongs to a known toolset, and the toolsets together cover the registry', () => {
    for (const tool of allTools) expect(TOOLSETS).toContain(tool.toolset);
    const covered = TOOLSETS.flatMap((set) => namesOf(selectTools({ toolsets: [set] })));
    expect(covered.sort()).toEqual(namesOf(allTools).sort());
  });

  it('--toolsets serves the named groups; --tools the named tools; both: a tool in either', () => {
    expect(namesOf(selectTools({ toolsets: ['account'] }))).toEqual(['get_current_user']);
    expect(namesOf(selectTools({ toolsets: ['sessions'] }))).toEqual(namesOf(allTools.filter((tool) => tool.toolset === 'sessions')));
    expect(namesOf(selectTools({ toolNames: ['get_access_user', 'list_access_users'] }))).toEqual(['list_access_users', 'get_access_user']);
    expect(namesOf(selectTools({ toolsets: ['account'], toolNames: ['get_access_user'] }))).toEqual(['get_current_user', 'get_access_user']);
  });

  it('read-only goes by annotations and wins over an allow-list', () => {
    expect(namesOf(selectTools({ readOnly: true }))).toEqual(READS);
    const users = selectTools({ readOnly: true, toolsets: ['users'] });
    expect(users.every((tool) => tool.annotations.readOnlyHint && tool.toolset === 'users')).toBe(true);
    expect(namesOf(selectTools({ readOnly: true, toolNames: ['delete_access_user', 'get_access_user'] }))).toEqual(['get_access_user']);
  });

  it('a write tool added later is dropped by read-only through its annotations, with no list to update', () => {
    const later = defineTool({
      name: 'later_write',
      title: 'A later write tool',
      toolset: 'users',
      description: 'Stands for any write tool added after this test was written.',
      permission: 'none',
      inputSchema: {},
      outputSchema: z.object({}),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
      handler: async () => ({ data: {}, text: '{}' }),
    });
    const tools = [...allTools, later];
    expect(namesOf(selectTools({ readOnly: true }, tools))).not.toContain('later_write');
    expect(namesOf(selectTools({ toolsets: ['users'] }, tools))).toContain('later_write');
  });
});

describe('tool selection: configuration', () => {
  it('reads --tools and --toolsets (commas, spaces), and CLOUDFLARE_TOOLS / CLOUDFLARE_TOOLSETS; a flag wins over its variable', () => {
    expect(loadConfig(['--tools', 'get_access_user, list_access_users'], {})).toMatchObject({ toolNames: ['get_access_user', 'list_access_users'], toolsets: undefined });
    expect(loadConfig(['--toolsets=users,sessions'], {})).toMatchObject({ toolsets: ['users', 'sessions'], toolNames: undefined });
    expect(loadConfig([], { CLOUDFLARE_TOOLS: 'get_current_user', CLOUDFLARE_TOOLSETS: 'sessions' })).toMatchObject({
      toolNames: ['get_current_user'],
      toolsets: ['sessions'],
    });
    expect(loadConfig(['--toolsets', 'account'], { CLOUDFLARE_TOOLSETS: 'users' }).toolsets).toEqual(['account']);
    // An empty value (a bundle field left blank) is no allow-list at all.
    expect(loadConfig([], { CLOUDFLARE_TOOLS: '', CLOUDFLARE_TOOLSETS: ' ' })).toMatchObject({ toolNames: undefined, toolsets: undefined });
  });

  it('an unknown tool or toolset is a ConfigError that lists every valid name and where the bad one came from', () => {
    expect(() => loadConfig(['--tools', 'get_access_user,list_users'], {})).toThrow(ConfigError);
    let message = '';
    try {
      loadConfig(['--tools', 'get_access_user,list_users'], {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('"list_users"');
    expect(message).toContain('--tools');
    for (const tool of allTools) expect(message).toContain(tool.name);

    expect(() => loadConfig([], { CLOUDFLARE_TOOLSETS: 'users,people' })).toThrow(/Unknown toolset "people" in CLOUDFLARE_TOOLSETS\. Valid toolsets: account \(get_current_user\); users \(/);
  });

  it('a selection that leaves nothing to serve is refused', () => {
    expect(() => loadConfig(['--read-only', '--tools', 'delete_access_user'], {})).toThrow(/leaves no tool to serve/);
    expect(() => checkToolSelection({ readOnly: true, toolNames: ['create_access_user'] })).toThrow(/leaves no tool/);
  });

  it.each([
    ['1', true],
    ['true', true],
    ['TRUE', true],
    ['yes', true],
    ['0', false],
    ['false', false],
    ['', false],
  ])('CLOUDFLARE_READ_ONLY=%j → %s', (value, readOnly) => {
    expect(loadConfig([], { CLOUDFLARE_READ_ONLY: value }).readOnly).toBe(readOnly);
  });

  it('an unrecognised CLOUDFLARE_READ_ONLY is an error, not a quiet "false" that serves the writes', () => {
    expect(() => loadConfig([], { CLOUDFLARE_READ_ONLY: 'ture' })).toThrow(/CLOUDFLARE_READ_ONLY must be true or false/);
  });

  it('the CLI exits 2 on an unknown tool name, listing the valid ones on stderr', async () => {
    const cli = spawnServer([...SOURCE_ENTRY, '--tools', 'get_current_user,nope'], cleanEnv());
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toContain('Unknown tool "nope" in --tools');
    expect(cli.stderr()).toContain(namesOf(allTools).join(', '));
    expect(cli.stdout()).toBe('');
  });
});

describe('tool selection: what a client is served', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('--toolsets sessions,account: tools/list has exactly those, and a call to another tool is refused', async () => {
    h = await startHarness({ sharedEmulator: emulator, toolsets: ['sessions', 'account'] });
    const listed = (await h.mcp.listTools()).tools.map((tool) => tool.name);
    expect(listed).toEqual(namesOf(selectTools({ toolsets: ['sessions', 'account'] })));
    expect(listed).not.toContain('delete_access_user');
    emulator.resetRequests();
    await expect(h.mcp.callTool({ name: 'delete_access_user', arguments: { user_id: '0c6a2f5e-1b7d-4c3e-9f1a-2b3c4d5e6f70', confirm: true } })).rejects.toThrow(
      /Unknown tool delete_access_user/,
    );
    expect(emulator.requests).toHaveLength(0);
  });

  it('--tools with --read-only: only the named read tools', async () => {
    h = await startHarness({ sharedEmulator: emulator, readOnly: true, toolNames: ['get_access_user', 'create_access_user', 'list_access_users'] });
    expect((await h.mcp.listTools()).tools.map((tool) => tool.name)).toEqual(['list_access_users', 'get_access_user']);
  });
});

// ---------------------------------------------------------------------------
// Confirmation of destructive calls

describe('delete_access_user confirmation, through the SDK Client', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** A harness whose client answers each elicitation with the next of `answers`, recording the questions. */
  async function harnessAnswering(answers: ElicitResult[], options: HarnessOptions = {}) {
    h = await startHarness({ sharedEmulator: emulator, clientCapabilities: { capabilities: { elicitation: {} } }, ...options });
    const asked: ElicitRequest['params'][] = [];
    h.mcp.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(request.params);
      const answer = answers.shift();
      if (!answer) throw new Error('asked more often than expected');
      return answer;
    });
    return { harness: h, asked };
  }

  /** A client without the elicitation capability; any server request would be seen (and refused). */
  async function harnessThatCannotAsk() {
    h = await startHarness({ sharedEmulator: emulator });
    const serverRequests: string[] = [];
    h.mcp.fallbackRequestHandler = async (request) => {
      serverRequests.push(request.method);
      throw new McpError(ErrorCode.MethodNotFound, 'not supported');
    };
    return { harness: h, serverRequests };
  }

  /** A fresh user to delete, created through the server; the request log starts empty after it. */
  async function freshUser(harness: Harness, label: string): Promise<{ id: string; email: string }> {
    const email = `safety-${label}-${Date.now()}@corp.example`;
    const created = await harness.ok<{ id: string }>('create_access_user', { email, name: `Safety ${label}` });
    emulator.resetRequests();
    return { id: created.id, email };
  }

  const deletes = () => emulator.requests.filter((request) => request.method === 'DELETE');
  const userExists = (id: string) => emulator.state.users.has(id);

  it('accept: the person is asked with a question naming the resolved user, then the DELETE is sent once', async () => {
    const { harness, asked } = await harnessAnswering([{ action: 'accept', content: { confirm: true } }]);
    const user = await freshUser(harness, 'accept');
    expect(await harness.ok('delete_access_user', { user_id: user.id })).toEqual({ deleted: true, id: user.id });
    expect(asked).toHaveLength(1);
    expect(asked[0]!.message).toContain(`${user.email} (${user.id})`);
    expect(asked[0]!.message).toMatch(/cannot be undone/);
    expect('requestedSchema' in asked[0]! && asked[0].requestedSchema.properties).toHaveProperty('confirm');
    expect(deletes()).toHaveLength(1);
    expect(userExists(user.id)).toBe(false);
  });

  it.each([
    ['decline', { action: 'decline' }, /declined/],
    ['cancel', { action: 'cancel' }, /cancelled/],
    ['accept without ticking confirm', { action: 'accept', content: { confirm: false } }, /declined/],
  ] as const)('%s: nothing is deleted and no DELETE is sent', async (label, answer, reason) => {
    const { harness, asked } = await harnessAnswering([answer]);
    const user = await freshUser(harness, label.replace(/\W+/g, '-'));
    const text = await harness.fails('delete_access_user', { user_id: user.id });
    expect(text).toMatch(/^Not deleted\./);
    expect(text).toMatch(reason);
    expect(text).toMatch(/Nothing was changed/);
    expect(asked).toHaveLength(1);
    expect(deletes()).toHaveLength(0);
    expect(emulator.requests.every((request) => request.method === 'GET')).toBe(true);
    expect(userExists(user.id)).toBe(true);
  });

  it('a model passing confirm: true to a client that can ask does not skip the person: asked, declined, nothing sent', async () => {
    const { harness, asked } = await harnessAnswering([{ action: 'decline' }]);
    const user = await freshUser(harness, 'flag-skips-nothing');
    const text = await harness.fails('delete_access_user', { user_id: user.id, confirm: true });
    expect(text).toMatch(/declined/);
    expect(asked).toHaveLength(1);
    expect(deletes()).toHaveLength(0);
    expect(userExists(user.id)).toBe(true);
  });

  it('no elicitation capability, no confirm: refused before any request, saying confirm: true is needed', async () => {
    const { harness, serverRequests } = await harnessThatCannotAsk();
    const user = await freshUser(harness, 'no-capability');
    const text = await harness.fails('delete_access_user', { user_id: user.id });
    expect(text).toMatch(/cannot ask the person to confirm/);
    expect(text).toMatch(/confirm: true/);
    expect(text).toMatch(/Nothing was sent to Cloudflare/);
    expect(emulator.requests).toHaveLength(0);
    expect(serverRequests).toEqual([]);
    expect(userExists(user.id)).toBe(true);
  });

  it('no elicitation capability, confirm: true: deleted, with nobody asked', async () => {
    const { harness, serverRequests } = await harnessThatCannotAsk();
    const user = await freshUser(harness, 'flag');
    expect(await harness.ok('delete_access_user', { user_id: user.id, confirm: true })).toEqual({ deleted: true, id: user.id });
    expect(serverRequests).toEqual([]);
    expect(deletes()).toHaveLength(1);
    expect(userExists(user.id)).toBe(false);
  });

  it('a transport that cannot carry the question (stateless HTTP) fails closed like a client without the capability', async () => {
    const { harness, asked } = await harnessAnswering([{ action: 'accept', content: { confirm: true } }], { server: { canAskClient: false } });
    const user = await freshUser(harness, 'stateless');
    expect(await harness.fails('delete_access_user', { user_id: user.id })).toMatch(/confirm: true/);
    expect(asked).toEqual([]);
    expect(emulator.requests).toHaveLength(0);
  });
});
