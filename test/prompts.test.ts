/**
 * Prompts (slash commands in IDE assistants), through the real SDK Client: prompts/list with typed arguments,
 * prompts/get returning the instructions, argument errors naming the field, and a prompt offered only when
 * every tool it names is served (read-only, --tools).
 *
 * The workflow tools the prompts lead to (get_user_access_overview, provision_access_users,
 * offboard_access_users) come with the agent-workflows work; until they are in the registry, stand-ins with
 * the same names and annotations are served next to it, so the mechanics are tested either way. The
 * registry test at the end checks that every tool a prompt names is real.
 */
import { ErrorCode, McpError, type Prompt } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allPrompts } from '../src/prompts/index.js';
import type { Emulator } from '../src/sandbox/emulator.js';
import { defineTool, type RequiredAnnotations } from '../src/tools/define.js';
import { allTools, type ToolDefinition } from '../src/tools/index.js';
import { startHarness, startTestEmulator, type Harness, type HarnessOptions } from './helpers/harness.js';

const READ: RequiredAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
const WRITE: RequiredAnnotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true };
const DESTRUCTIVE: RequiredAnnotations = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true };

function standIn(name: string, annotations: RequiredAnnotations): ToolDefinition {
  return defineTool({
    name,
    title: `${name} (stand-in)`,
    toolset: 'users',
    description: 'Stands in for a workflow tool not in the registry yet.',
    permission: 'none',
    inputSchema: {},
    outputSchema: z.object({}),
    annotations,
    handler: async () => ({ data: {}, text: '{}' }),
  });
}

/** The registry, plus a stand-in for each workflow tool it does not have yet. */
const servedTools: readonly ToolDefinition[] = [
  ...allTools,
  ...[standIn('get_user_access_overview', READ), standIn('provision_access_users', WRITE), standIn('offboard_access_users', DESTRUCTIVE)].filter(
    (stand) => !allTools.some((tool) => tool.name === stand.name),
  ),
];
const toolNames = new Set(servedTools.map((tool) => tool.name));

let emulator: Emulator;
let h: Harness | undefined;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(async () => {
  await emulator.close();
});

async function harness(options: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness({ sharedEmulator: emulator, server: { tools: servedTools }, ...options });
  return h;
}

const textOfPrompt = async (harness: Harness, name: string, args: Record<string, string>) => {
  const result = await harness.mcp.getPrompt({ name, arguments: args });
  expect(result.messages).toHaveLength(1);
  const [message] = result.messages;
  expect(message!.role).toBe('user');
  if (message!.content.type !== 'text') throw new Error('expected a text message');
  return message!.content.text;
};

/** The tool names a text mentions, in the order it first mentions them. */
const toolsMentioned = (text: string) => [...new Set([...text.matchAll(/\b[a-z]+(?:_[a-z]+)+\b/g)].map((m) => m[0]).filter((word) => toolNames.has(word)))];

describe('prompts/list', () => {
  it('offers the three prompts, each with a title, a short description and typed, described arguments', async () => {
    const listed: Prompt[] = (await (await harness()).mcp.listPrompts()).prompts;
    expect(listed.map((prompt) => prompt.name)).toEqual(['investigate_access', 'onboard_people', 'offboard_person']);
    for (const prompt of listed) {
      expect(prompt.title?.length).toBeGreaterThan(5);
      expect(prompt.description?.length).toBeGreaterThan(20);
      expect(prompt.description!.length).toBeLessThanOrEqual(140);
      for (const argument of prompt.arguments ?? []) {
        expect(argument.description, `${prompt.name}.${argument.name}`).toBeTruthy();
        expect(argument.required).toBe(true);
      }
    }
    expect(listed.map((prompt) => (prompt.arguments ?? []).map((argument) => argument.name))).toEqual([['email'], ['people'], ['email']]);
  });

  it('a read-only server offers only the prompt whose tools all read', async () => {
    const listed = (await (await harness({ readOnly: true })).mcp.listPrompts()).prompts;
    expect(listed.map((prompt) => prompt.name)).toEqual(['investigate_access']);
  });

  it('a server filtered with --tools offers no prompt naming a tool it does not serve, and refuses to render one', async () => {
    const filtered = await harness({ toolNames: ['get_user_access_overview', 'get_active_session', 'provision_access_users'] });
    expect((await filtered.mcp.listPrompts()).prompts.map((prompt) => prompt.name)).toEqual(['investigate_access', 'onboard_people']);
    await expect(filtered.mcp.getPrompt({ name: 'offboard_person', arguments: { email: 'a@corp.example' } })).rejects.toThrow(
      /Unknown prompt offboard_person\. Available: investigate_access, onboard_people/,
    );
  });
});

describe('prompts/get', () => {
  it('investigate_access: the overview first, session detail only if needed, nothing changed', async () => {
    const text = await textOfPrompt(await harness(), 'investigate_access', { email: 'alice@corp.example' });
    expect(text).toContain('alice@corp.example');
    expect(toolsMentioned(text)).toEqual(['get_user_access_overview', 'get_active_session']);
    expect(text).toMatch(/change nothing/i);
  });

  it('onboard_people: pasted text loses mailto: and the brackets around an address or a name', async () => {
    const people = 'alice@corp.example (Alice Nakamura)\nmailto:bob@corp.example';
    const text = await textOfPrompt(await harness(), 'onboard_people', { people });
    expect(text).toContain(JSON.stringify([{ email: 'alice@corp.example', name: 'Alice Nakamura' }, { email: 'bob@corp.example' }]));
  });

  it('onboard_people: the list parsed into the users argument, then plan, approval, apply', async () => {
    const people = 'alice@corp.example Alice Nakamura, Bob Lindqvist <bob@corp.example>\ncarol@example.com';
    const text = await textOfPrompt(await harness(), 'onboard_people', { people });
    expect(text).toContain(
      JSON.stringify([
        { email: 'alice@corp.example', name: 'Alice Nakamura' },
        { email: 'bob@corp.example', name: 'Bob Lindqvist' },
        { email: 'carol@example.com' },
      ]),
    );
    expect(toolsMentioned(text)).toEqual(['provision_access_users']);
    const plan = text.indexOf('mode "plan"');
    const approve = text.indexOf('approve');
    const apply = text.indexOf('mode "apply"');
    expect(plan).toBeGreaterThan(0);
    expect(approve).toBeGreaterThan(plan);
    expect(apply).toBeGreaterThan(approve);
  });

  it('offboard_person: check who it is, plan, confirm with the person, apply; confirm: true only after a yes', async () => {
    const text = await textOfPrompt(await harness(), 'offboard_person', { email: 'carol@example.com' });
    expect(text).toContain('carol@example.com');
    expect(toolsMentioned(text)).toEqual(['get_user_access_overview', 'offboard_access_users']);
    const order = ['get_user_access_overview', 'mode "plan"', 'confirm here', 'mode "apply"'].map((marker) => text.indexOf(marker));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toMatch(/confirm: true, and only because they said yes/);
  });

  it.each([
    ['investigate_access', {}, /email is required/],
    ['investigate_access', { email: 'alice' }, /email must be an email address/],
    ['offboard_person', { email: 'a@b' }, /email must be an email address/],
    ['onboard_people', {}, /people is required/],
    ['onboard_people', { people: ' , ;' }, /people must name at least one person/],
    ['onboard_people', { people: 'alice@corp.example, Bob Lindqvist' }, /people: "Bob Lindqvist" must hold exactly one email address/],
    ['onboard_people', { people: 'alice@corp.example, ALICE@corp.example Alice' }, /people: ALICE@corp\.example is listed twice/],
    ['onboard_people', { people: 'not-an-email@x' }, /people: "not-an-email@x" is not an email address/],
  ])('%s %j is refused naming the field', async (name, args, message) => {
    const error = await (await harness()).mcp.getPrompt({ name, arguments: args as Record<string, string> }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(ErrorCode.InvalidParams);
    expect((error as McpError).message).toMatch(message);
    expect((error as Error).message).toContain(`Invalid arguments for prompt ${name}`);
  });

  it('more than 500 people is refused', async () => {
    const people = Array.from({ length: 501 }, (_, i) => `p${i}@corp.example`).join(',');
    await expect((await harness()).mcp.getPrompt({ name: 'onboard_people', arguments: { people } })).rejects.toThrow(/at most 500 people/);
  });

  it('an unknown prompt is an error listing the available ones', async () => {
    await expect((await harness()).mcp.getPrompt({ name: 'nope', arguments: {} })).rejects.toThrow(
      /Unknown prompt nope\. Available: investigate_access, onboard_people, offboard_person/,
    );
  });
});

describe('prompt registry', () => {
  it('each prompt declares exactly the tools its text names', async () => {
    const sample: Record<string, Record<string, string>> = {
      investigate_access: { email: 'a@corp.example' },
      onboard_people: { people: 'a@corp.example' },
      offboard_person: { email: 'a@corp.example' },
    };
    const served = await harness();
    for (const prompt of allPrompts) {
      const text = await textOfPrompt(served, prompt.name, sample[prompt.name]!);
      expect(toolsMentioned(text).sort(), prompt.name).toEqual([...prompt.tools].sort());
    }
  });

  // Fails until the agent-workflows tools (get_user_access_overview, provision_access_users,
  // offboard_access_users) are in the registry: until then the real server offers none of these prompts.
  it('every tool a prompt names is in the registry', () => {
    const registered = new Set(allTools.map((tool) => tool.name));
    for (const prompt of allPrompts) for (const tool of prompt.tools) expect(registered.has(tool), `${prompt.name} names ${tool}`).toBe(true);
  });
});
