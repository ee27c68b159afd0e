/**
 * The shell subcommands (`call`, `tools`), --help/--version and flag errors, through spawned CLI processes
 * against the emulator; and the MCP Inspector CLI, a third-party client, against our stdio server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS_USAGE, parseCommand } from '../src/node/commands.js';
import { loadConfig, USAGE } from '../src/node/config.js';
import type { Emulator } from '../src/sandbox/emulator.js';
import { allTools } from '../src/tools/index.js';
import { SERVER_VERSION } from '../src/version.js';
import { startTestEmulator, TEST_TOKEN } from './helpers/harness.js';
import { compiledEntry } from './helpers/build.js';
import { cleanEnv, spawnServer } from './helpers/spawn.js';

let emulator: Emulator;
beforeAll(async () => {
  [emulator] = await Promise.all([startTestEmulator(), compiledEntry()]);
}, 120_000);
afterAll(async () => {
  await emulator.close();
});

function emulatorEnv(extra: Record<string, string> = {}) {
  return cleanEnv({ CLOUDFLARE_API_TOKEN: TEST_TOKEN, CLOUDFLARE_ACCOUNT_ID: emulator.accountId, CLOUDFLARE_BASE_URL: emulator.baseUrl, ...extra });
}

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` in the project to the end. */
async function runNode(args: string[], env: Record<string, string>): Promise<Finished> {
  const run = spawnServer(args, env);
  run.child.stdin.end();
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** Runs the CLI (compiled once for the run) to the end. */
async function cli(args: string[], env: Record<string, string> = emulatorEnv()): Promise<Finished> {
  return runNode([...(await compiledEntry()), ...args], env);
}

/** stderr without the JSON log lines: what the command itself said. */
function said(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line && !line.startsWith('{'))
    .join('\n');
}

function userId(email: string): string {
  const user = [...emulator.state.users.values()].find((candidate) => candidate.email === email);
  if (!user) throw new Error(`no emulator user ${email}`);
  return user.id;
}

const readToolNames = allTools.filter((tool) => tool.annotations.readOnlyHint).map((tool) => tool.name);

describe('parseCommand (argv → command)', () => {
  it('finds the command after flags, keeps server flags for loadConfig, and does not take a flag value for a command', () => {
    expect(parseCommand([])).toBeUndefined();
    expect(parseCommand(['--sandbox', '--read-only'])).toBeUndefined();
    expect(parseCommand(['--log-level', 'debug'])).toBeUndefined();
    expect(parseCommand(['--tools', 'call'])).toBeUndefined(); // --tools takes a value: "call" is that value
    expect(parseCommand(['--log-level', 'debug', 'call', 'get_current_user', '--sandbox', '--pretty'])).toEqual({
      command: 'call',
      tool: 'get_current_user',
      args: {},
      pretty: true,
      serverArgv: ['--log-level=debug', '--sandbox'],
    });
    expect(parseCommand(['tools', '--read-only', '--tools', 'get_current_user'])).toEqual({
      command: 'tools',
      serverArgv: ['--read-only', '--tools=get_current_user'],
    });
  });

  it('reads the JSON object and --arg pairs: JSON values when they parse, text otherwise, --arg winning', () => {
    const parsed = parseCommand([
      'call',
      'list_access_users',
      '{"email":"a@corp.example","per_page":5}',
      '--arg',
      'per_page=7',
      '--arg',
      'name=Alice Doe',
      '--arg=confirm=true',
      '--arg',
      'account_id="0123"',
      '--arg',
      'fields=["id","email"]',
    ]);
    expect(parsed).toMatchObject({
      command: 'call',
      args: { email: 'a@corp.example', per_page: 7, name: 'Alice Doe', confirm: true, account_id: '0123', fields: ['id', 'email'] },
    });
  });

  it('refuses what it cannot mean, naming the valid flags or commands', () => {
    expect(() => parseCommand(['call'])).toThrow(/needs a tool name/);
    expect(() => parseCommand(['call', 'x', '[1]'])).toThrow(/one JSON object/);
    expect(() => parseCommand(['call', 'x', '{nope'])).toThrow(/not valid JSON/);
    expect(() => parseCommand(['call', 'x', '--arg', 'novalue'])).toThrow(/key=value/);
    expect(() => parseCommand(['call', 'x', '--bogus'])).toThrow(/Valid flags: .*--sandbox.*--arg <value>, --pretty/s);
    expect(() => parseCommand(['tools', '--pretty'])).toThrow(/Unknown option '--pretty'/);
    expect(() => parseCommand(['frob'])).toThrow(/Unknown command "frob". Commands: call, tools, init/);
    expect(() => parseCommand(['call', 'x', '--http'])).toThrow(/--http does not apply/);
    // An unknown flag's value is not taken for a command: the server's own check names the flag.
    expect(parseCommand(['--bogus', 'value'])).toBeUndefined();
  });
});

describe('cloudflare-users-mcp call / tools (spawned, against the emulator)', () => {
  it('tools lists what this configuration serves (server flags apply), one line each, writes marked', async () => {
    const readOnly = await cli(['--read-only', 'tools']);
    expect(readOnly.code, readOnly.stderr).toBe(0);
    expect(readOnly.stdout.trim().split('\n').map((line) => line.split(/\s+/)[0])).toEqual(readToolNames);
    expect(readOnly.stdout).toMatch(/^get_current_user\s+read\s+The Cloudflare user/m);
  });

  it('call prints the structured result as one JSON document (flags before or after; --pretty indents)', async () => {
    const [compact, pretty] = await Promise.all([
      cli(['call', 'list_access_users', '{"email":"alice@corp.example"}']),
      cli(['--log-level', 'warning', 'call', '--pretty', 'list_access_users', '--arg', 'email=alice@corp.example']),
    ]);
    for (const run of [compact, pretty]) {
      expect(run.code, run.stderr).toBe(0);
      const data = JSON.parse(run.stdout) as { fields: string[]; rows: unknown[][] };
      expect(data.rows).toHaveLength(1);
      expect(data.rows[0]).toContain('alice@corp.example');
      expect(run.stdout + run.stderr).not.toContain(TEST_TOKEN);
    }
    expect(compact.stdout.trim().split('\n')).toHaveLength(1);
    expect(pretty.stdout.trim().split('\n').length).toBeGreaterThan(5);
  });

  it('call works with --sandbox and no credentials', async () => {
    const run = await cli(['--sandbox', 'call', 'get_current_user'], cleanEnv());
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveProperty('email');
  });

  it('an isError result exits 1 with the message on stderr and nothing on stdout; bad input sends nothing', async () => {
    emulator.resetRequests();
    const run = await cli(['call', 'get_access_user', '--arg', 'user_id=../../user']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(said(run.stderr)).toMatch(/^cloudflare-users-mcp: get_access_user: Invalid arguments .*Nothing was sent/);
    expect(emulator.requests).toHaveLength(0);
  });

  it('delete needs confirm: true from a shell (it cannot be asked); with it, exactly one DELETE is sent', async () => {
    const id = userId('bob@corp.example');
    emulator.resetRequests();
    const refused = await cli(['call', 'delete_access_user', '--arg', `user_id=${id}`]);
    expect(refused.code).toBe(1);
    expect(said(refused.stderr)).toMatch(/confirm: true/);
    expect(emulator.requests.filter((request) => request.method === 'DELETE')).toHaveLength(0);

    const done = await cli(['call', 'delete_access_user', `{"user_id":"${id}"}`, '--arg', 'confirm=true']);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ deleted: true, id });
    expect(emulator.requests.filter((request) => request.method === 'DELETE')).toHaveLength(1);
    expect(done.stderr).toMatch(/"msg":"audit".*"outcome":"ok"/);
  });

  it('a tool this configuration does not serve exits 2, listing those it does', async () => {
    const hidden = await cli(['call', 'create_access_user', '--read-only', '--arg', 'email=new@corp.example']);
    expect(hidden.code).toBe(2);
    expect(said(hidden.stderr)).toMatch(/no tool "create_access_user" in this configuration\. Available: get_current_user/);
  });
});

describe('--help, --version, unknown flags', () => {
  it('--help and --version print to stdout and exit 0; an unknown flag exits 2 listing the valid ones', async () => {
    const [help, version, unknownInCall] = await Promise.all([
      cli(['--help'], cleanEnv()),
      cli(['--version'], cleanEnv()),
      cli(['call', 'get_current_user', '--frobnicate'], cleanEnv()),
    ]);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toBe(`${USAGE}\n${COMMANDS_USAGE}`);
    expect(version).toMatchObject({ code: 0, stdout: `${SERVER_VERSION}\n`, stderr: '' });
    expect(unknownInCall.code).toBe(2);
    expect(unknownInCall.stdout).toBe('');
    expect(unknownInCall.stderr).toMatch(/Unknown option '--frobnicate'/);
    for (const flag of ['--sandbox', '--read-only', '--log-level', '--arg', '--pretty']) expect(unknownInCall.stderr).toContain(flag);
  });

  it('in process: a command\'s --help is its usage; serving with an unknown flag is left to loadConfig, which lists the flags', () => {
    expect(parseCommand(['call', '--help'])).toEqual({ command: 'help', text: expect.stringMatching(/--arg key=value/) });
    expect(parseCommand(['tools', '-h'])).toEqual({ command: 'help', text: expect.stringMatching(/^Usage: cloudflare-users-mcp tools/) });
    expect(parseCommand(['--frobnicate'])).toBeUndefined();
    expect(() => loadConfig(['--frobnicate'], {})).toThrow(/Unknown option '--frobnicate'[\s\S]*--sandbox[\s\S]*--read-only/);
  });
});

describe('MCP Inspector CLI (a third-party client) against our stdio server', () => {
  it('lists the tools and calls one over stdio (--sandbox: no network beyond loopback)', async () => {
    // `node` from PATH starts our server, as a user's config would; --sandbox needs no credentials.
    const inspector = ['node_modules/@modelcontextprotocol/inspector/cli/build/cli.js', '--cli', 'node', ...(await compiledEntry()), '--sandbox'];
    // The Inspector's CLI mode starts our server over stdio and speaks MCP to it; it opens no sockets of its own.
    const [listed, called] = await Promise.all([
      runNode([...inspector, '--method', 'tools/list'], cleanEnv()),
      runNode([...inspector, '--method', 'tools/call', '--tool-name', 'list_access_users', '--tool-arg', 'email=alice@corp.example'], cleanEnv()),
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    const { tools } = JSON.parse(listed.stdout) as { tools: { name: string }[] };
    expect(tools.map((tool) => tool.name)).toEqual(allTools.map((tool) => tool.name));
    expect(called.code, called.stderr).toBe(0);
    const result = JSON.parse(called.stdout) as { isError?: boolean; structuredContent: { rows: unknown[][] } };
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent.rows[0]).toContain('alice@corp.example');
  });
});
