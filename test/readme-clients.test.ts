/**
 * The README's client snippets are real: each is parsed, checked for the launch (`npx -y cloudflare-users-mcp`)
 * and the env names the server reads, compared with what `init` writes for that client, and then run: the
 * same arguments after the package name, on the run's compiled CLI (test/helpers/build.ts), with the snippet's
 * env names (values resolved the way the client would) against the emulator, listing tools and calling one that needs the token and the account.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/node/config.js';
import { INIT_CLIENTS, runInit, type InitClient } from '../src/node/init.js';
import type { Emulator } from '../src/sandbox/emulator.js';
import { allTools } from '../src/tools/index.js';
import { startTestEmulator, TEST_TOKEN, textOf } from './helpers/harness.js';
import { compiledEntry } from './helpers/build.js';
import { cleanEnv, PROJECT_ROOT, spawnServer, stop } from './helpers/spawn.js';

const README = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');

/** The fenced block after each `<!-- client-config: NAME -->` marker. */
function snippet(client: string): { language: string; text: string } {
  const match = new RegExp(`<!-- client-config: ${client} -->\\s*\`\`\`(\\w+)\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!match) throw new Error(`README has no client-config block for ${client}`);
  return { language: match[1]!, text: match[2]! };
}

type Json = Record<string, unknown>;
interface LaunchEntry {
  command: string;
  args: string[];
  env: Record<string, string>;
  type?: string;
}

const PACKAGE_LAUNCH = ['npx', '-y', 'cloudflare-users-mcp'];

let emulator: Emulator;
let scratch: string;
beforeAll(async () => {
  [emulator] = await Promise.all([startTestEmulator(), compiledEntry()]);
  scratch = mkdtempSync(join(tmpdir(), 'cf-users-readme-'));
}, 120_000);
afterAll(async () => {
  await emulator.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** The values a user would supply, by env name. */
const valueFor = (name: string): string => {
  const values: Record<string, string> = { CLOUDFLARE_API_TOKEN: TEST_TOKEN, CLOUDFLARE_ACCOUNT_ID: emulator.accountId };
  const value = values[name];
  if (value === undefined) throw new Error(`the test has no value for ${name}`);
  return value;
};

/** The env names the server reads, checked on loadConfig itself rather than on a list. */
function serverReads(name: string): boolean {
  const probe = name === 'CLOUDFLARE_ACCOUNT_ID' ? '0123456789abcdef0123456789abcdef' : 'probe-value';
  const config = loadConfig([], { [name]: probe });
  return JSON.stringify(config).includes(probe);
}

/** A minimal POSIX word splitter: quotes, "$VAR" expansion from `env`, comments and blank lines dropped. */
function shellCommands(text: string, env: Record<string, string>): string[][] {
  const commands: string[][] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const words: string[] = [];
    for (const match of line.matchAll(/(?:"([^"]*)"|'([^']*)'|([^\s"']+))+/g)) {
      const word = match[0]
        .replace(/"([^"]*)"|'([^']*)'/g, (_all, doubled: string | undefined, single: string | undefined) =>
          single !== undefined ? single : doubled!.replace(/\$([A-Z_][A-Z0-9_]*)/g, (_v, name: string) => env[name] ?? ''),
        )
        .replace(/^\$([A-Z_][A-Z0-9_]*)$/, (_v, name: string) => env[name] ?? '');
      words.push(word);
    }
    commands.push(words);
  }
  return commands;
}

/** Parses `claude mcp add [opts] <name> <command-or-url> [args…]` (options may also follow the name). */
function claudeMcpAdd(words: string[]): { name: string; transport: string; env: Record<string, string>; target: string[] } {
  expect(words.slice(0, 3)).toEqual(['claude', 'mcp', 'add']);
  const env: Record<string, string> = {};
  let transport = 'stdio';
  const positionals: string[] = [];
  const rest = words.slice(3);
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (word === '--') {
      positionals.push(...rest.slice(i + 1));
      break;
    }
    if (word === '-e' || word === '--env') {
      const [key, ...value] = rest[++i]!.split('=');
      env[key!] = value.join('=');
    } else if (word === '-t' || word === '--transport') transport = rest[++i]!;
    else if (word === '-s' || word === '--scope') i++;
    else positionals.push(word);
  }
  const [name, ...target] = positionals;
  return { name: name!, transport, env, target };
}

/** Runs the snippet's launch from source: same args after the package name, its env plus the emulator's URL. */
async function runLaunch(args: string[], env: Record<string, string>): Promise<{ tools: string[]; result: CallToolResult }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...(await compiledEntry()), ...args],
    env: cleanEnv({ ...env, CLOUDFLARE_BASE_URL: emulator.baseUrl }),
    cwd: PROJECT_ROOT,
    stderr: 'pipe',
  });
  const client = new Client({ name: 'readme-test', version: '1.0.0' });
  await client.connect(transport);
  try {
    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    // No account_id argument: it must come from the snippet's CLOUDFLARE_ACCOUNT_ID, with the token.
    const result = (await client.callTool({ name: 'list_access_users', arguments: { email: 'alice@corp.example' } })) as CallToolResult;
    return { tools, result };
  } finally {
    await client.close();
  }
}

function checkLaunch(entry: LaunchEntry): void {
  expect([entry.command, ...entry.args.slice(0, 2)]).toEqual(PACKAGE_LAUNCH);
  expect(Object.keys(entry.env)).toContain('CLOUDFLARE_API_TOKEN');
  for (const name of Object.keys(entry.env)) expect(serverReads(name), `the server reads ${name}`).toBe(true);
}

/** What init writes for this client, from a fresh file. */
function initEntry(client: InitClient): Json {
  const path = join(scratch, `${client}.json`);
  runInit(
    { client, configPath: path, global: false, readOnly: false, accountId: undefined, tokenFromEnv: false, serverName: 'cloudflare-users' },
    { env: {}, platform: process.platform, homedir: scratch, cwd: scratch },
  );
  return JSON.parse(readFileSync(path, 'utf8')) as Json;
}

// Concurrent: each test starts its own server process; none looks at the emulator's shared request log.
describe.concurrent('README client snippets', () => {
  it('has one for each client init knows', () => {
    for (const client of INIT_CLIENTS) expect(snippet(client).text.length).toBeGreaterThan(0);
  });

  it('Claude Desktop: npx launch, the env names the server reads, the same keys init writes; it runs', async () => {
    const { language, text } = snippet('claude-desktop');
    expect(language).toBe('json');
    const entry = (JSON.parse(text) as { mcpServers: Record<string, LaunchEntry> }).mcpServers['cloudflare-users']!;
    checkLaunch(entry);
    const written = (initEntry('claude-desktop').mcpServers as Record<string, LaunchEntry>)['cloudflare-users']!;
    expect({ ...written, env: Object.keys(written.env) }).toEqual({ ...entry, env: Object.keys(entry.env) });
    // Claude Desktop passes env values as written: the user pastes theirs in place of the placeholders.
    const env = Object.fromEntries(Object.keys(entry.env).map((name) => [name, valueFor(name)]));
    const { tools, result } = await runLaunch(entry.args.slice(2), env);
    expect(tools).toEqual(allTools.map((tool) => tool.name));
    expect(result.isError, textOf(result)).toBeFalsy();
  });

  it('Cursor: ${env:NAME} references only (no token in the file), exactly what init writes; it runs', async () => {
    const { language, text } = snippet('cursor');
    expect(language).toBe('json');
    const document = JSON.parse(text) as { mcpServers: Record<string, LaunchEntry> };
    const entry = document.mcpServers['cloudflare-users']!;
    checkLaunch(entry);
    expect(entry.env).toEqual(Object.fromEntries(Object.keys(entry.env).map((name) => [name, `\${env:${name}}`])));
    expect(initEntry('cursor')).toEqual(document);
    // Cursor resolves ${env:NAME} from its own environment.
    const env = Object.fromEntries(Object.entries(entry.env).map(([name, value]) => [name, value.replace(/\$\{env:([A-Z_]+)\}/g, (_m, ref: string) => valueFor(ref))]));
    const { result } = await runLaunch(entry.args.slice(2), env);
    expect(result.isError, textOf(result)).toBeFalsy();
  });

  it('VS Code: the token through a password input, exactly what init writes; it runs', async () => {
    const { language, text } = snippet('vscode');
    expect(language).toBe('json');
    const document = JSON.parse(text) as { servers: Record<string, LaunchEntry>; inputs: { id: string; password?: boolean }[] };
    const entry = document.servers['cloudflare-users']!;
    expect(entry.type).toBe('stdio');
    checkLaunch(entry);
    const tokenInput = /^\$\{input:([\w-]+)\}$/.exec(entry.env.CLOUDFLARE_API_TOKEN!)?.[1];
    expect(document.inputs.find((input) => input.id === tokenInput)).toMatchObject({ password: true });
    expect(initEntry('vscode')).toEqual(document);
    // VS Code asks for each input and substitutes the answer; the answer is what the user would type for that variable.
    const env = Object.fromEntries(
      Object.entries(entry.env).map(([name, value]) => {
        const input = /^\$\{input:([\w-]+)\}$/.exec(value)?.[1];
        expect(document.inputs.map((declared) => declared.id)).toContain(input);
        return [name, valueFor(name)];
      }),
    );
    const { result } = await runLaunch(entry.args.slice(2), env);
    expect(result.isError, textOf(result)).toBeFalsy();
  });

  it('Claude Code (stdio): claude mcp add with the env names and npx after --; it runs', async () => {
    const { language, text } = snippet('claude-code');
    expect(language).toBe('sh');
    const shellEnv = { CLOUDFLARE_API_TOKEN: TEST_TOKEN, CLOUDFLARE_ACCOUNT_ID: emulator.accountId };
    const [stdio] = shellCommands(text, shellEnv).map(claudeMcpAdd);
    expect(stdio).toMatchObject({ name: 'cloudflare-users', transport: 'stdio' });
    const entry: LaunchEntry = { command: stdio!.target[0]!, args: stdio!.target.slice(1), env: stdio!.env };
    checkLaunch(entry);
    expect(entry.env).toEqual(shellEnv);
    const { result } = await runLaunch(entry.args.slice(2), entry.env);
    expect(result.isError, textOf(result)).toBeFalsy();
  });

  it('Claude Code (HTTP): the URL is the default --http address and path; the server answers there', async () => {
    const [, http] = shellCommands(snippet('claude-code').text, {}).map(claudeMcpAdd);
    expect(http).toMatchObject({ name: 'cloudflare-users', transport: 'http' });
    const url = new URL(http!.target[0]!);
    const defaults = loadConfig(['--http'], {});
    expect({ host: url.hostname, port: Number(url.port), path: url.pathname }).toEqual({ host: defaults.host, port: defaults.port, path: '/mcp' });
    // The same server on a free port (8787 may be taken here), same path.
    const server = spawnServer([...(await compiledEntry()), '--http', '--port', '0'], cleanEnv({ CLOUDFLARE_API_TOKEN: TEST_TOKEN, CLOUDFLARE_BASE_URL: emulator.baseUrl }));
    try {
      const listening = await server.waitForLog((record) => Object.values(record).some((value) => typeof value === 'string' && /^http:\/\/127\.0\.0\.1:\d+\/mcp$/.test(value)));
      const actual = Object.values(listening).find((value): value is string => typeof value === 'string' && value.endsWith('/mcp'))!;
      expect(new URL(actual).pathname).toBe(url.pathname);
      const client = new Client({ name: 'readme-http-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(actual)));
      try {
        expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(allTools.map((tool) => tool.name));
      } finally {
        await client.close();
      }
    } finally {
      await stop(server);
    }
  });
});
