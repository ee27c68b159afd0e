/**
 * The shell subcommands: `call TOOL [JSON] [--arg k=v]…` runs one tool, `tools` lists them, `init` writes a
 * client's config (./init.ts). Without a subcommand the CLI serves MCP as before.
 *
 * call and tools talk to the very server the CLI would serve (src/index.ts hands over its factory, built by
 * the one wiring) through the SDK's Client over an in-memory transport, so a script sees what an MCP client
 * sees: the same registry and filters, argument checks, redaction and errors. That client declares no
 * elicitation, so a destructive tool needs `confirm: true` (src/tools/confirmation.ts).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SERVER_FLAGS } from './config.js';
import { INIT_FLAGS, INIT_USAGE, initOptions, type InitOptions } from './init.js';

export const COMMANDS = ['call', 'tools', 'init'] as const;
export type CommandName = (typeof COMMANDS)[number];

const CALL_FLAGS = {
  arg: { type: 'string', multiple: true },
  pretty: { type: 'boolean' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const COMMANDS_USAGE = `Commands (server options above apply too, before or after the command):
  cloudflare-users-mcp call <tool> ['{"key":"value"}'] [--arg key=value]… [--pretty]
      Run one tool; print its structured result as JSON on stdout. Exit 1 with the message on stderr when the
      tool reports an error, 2 on a usage error. --arg values are JSON when they parse (true, 5, "…"), else text;
      they override keys of the JSON object. Deleting needs confirm: true (a shell cannot be asked).
  cloudflare-users-mcp tools
      List the tools this configuration serves, one line each.
  cloudflare-users-mcp init --client claude-desktop|claude-code|cursor|vscode [--read-only] [--config <path>]
      Add this server to a client's config file (see cloudflare-users-mcp init --help).
`;

const CALL_USAGE = `Usage: cloudflare-users-mcp call <tool> ['{"key":"value"}'] [--arg key=value]… [--pretty] [server options]

  <tool>             A tool name (cloudflare-users-mcp tools lists them)
  '{"…":…}'          The arguments as one JSON object
  --arg key=value    One argument (repeatable); the value is JSON when it parses, else text: --arg confirm=true,
                     --arg per_page=5, --arg 'account_id="0123…"' to keep an all-digit id as text
  --pretty           Indent the JSON output
Server options such as --sandbox, --read-only, --tools, --timeout-ms work as for the server; see --help.
`;

const TOOLS_USAGE = `Usage: cloudflare-users-mcp tools [server options]

Lists the tools this configuration serves (after --read-only, --tools, --toolsets), one line each.
`;

/** A wrong command line (exit 2); the message ends with the usage that lists the valid flags. */
export class CommandUsageError extends Error {
  override readonly name = 'CommandUsageError';
}

export type ParsedCommand =
  | { command: 'help'; text: string }
  | { command: 'version' }
  | { command: 'call'; tool: string; args: Record<string, unknown>; pretty: boolean; serverArgv: string[] }
  | { command: 'tools'; serverArgv: string[] }
  | { command: 'init'; options: InitOptions };

function isCommand(value: string): value is CommandName {
  return (COMMANDS as readonly string[]).includes(value);
}

/** Every flag any command knows, so that a flag's value is never mistaken for the command. */
const ALL_FLAGS = { ...SERVER_FLAGS, ...CALL_FLAGS, ...INIT_FLAGS };

/**
 * The subcommand in argv (the first positional; flags may come before it), or undefined for plain serving.
 * Lenient on purpose: strict checking happens once the command, and so its flags, are known.
 */
export function findCommand(argv: readonly string[]): string | undefined {
  const { tokens } = parseArgs({ args: [...argv], options: ALL_FLAGS, strict: false, allowPositionals: true, tokens: true });
  const first = tokens.find((token) => token.kind === 'positional');
  return first?.kind === 'positional' ? first.value : undefined;
}

function flagList(options: Record<string, { type: string; short?: string }>): string {
  return Object.entries(options)
    .map(([name, option]) => `--${name}${option.type === 'string' ? ' <value>' : ''}`)
    .join(', ');
}

function strictParse<Options extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: Options, usage: string) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new CommandUsageError(`${message}\nValid flags: ${flagList(options)}.\n\n${usage}`);
  }
}

/** The server flags among the parsed tokens, rebuilt as argv for loadConfig (which checks their values). */
function serverArgvOf(tokens: ReturnType<typeof strictParse>['tokens']): string[] {
  const argv: string[] = [];
  for (const token of tokens) {
    if (token.kind !== 'option' || !(token.name in SERVER_FLAGS)) continue;
    argv.push(token.value === undefined ? `--${token.name}` : `--${token.name}=${token.value}`);
  }
  return argv;
}

/** A --arg value: JSON when it parses (true, 5, null, "text", {…}), otherwise the text itself. */
export function argumentValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function callArguments(json: string | undefined, pairs: readonly string[]): Record<string, unknown> {
  let args: Record<string, unknown> = {};
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      throw new CommandUsageError(`The arguments are not valid JSON (${error instanceof Error ? error.message : String(error)}): ${json}\n\n${CALL_USAGE}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new CommandUsageError(`The arguments must be one JSON object, such as '{"user_id":"…"}'.\n\n${CALL_USAGE}`);
    }
    args = { ...(parsed as Record<string, unknown>) };
  }
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new CommandUsageError(`--arg takes key=value (got ${JSON.stringify(pair)}).\n\n${CALL_USAGE}`);
    args[pair.slice(0, equals)] = argumentValue(pair.slice(equals + 1));
  }
  return args;
}

/** Parses a subcommand's command line; undefined when argv has none (serve). Throws CommandUsageError. */
export function parseCommand(argv: readonly string[]): ParsedCommand | undefined {
  const name = findCommand(argv);
  if (name === undefined) return undefined;
  if (!isCommand(name)) {
    // An unknown flag's value can look like a command: let the server's own check name the flag instead.
    try {
      parseArgs({ args: [...argv], options: ALL_FLAGS, strict: true, allowPositionals: true });
    } catch {
      return undefined;
    }
    throw new CommandUsageError(`Unknown command ${JSON.stringify(name)}. Commands: ${COMMANDS.join(', ')}.\n\n${COMMANDS_USAGE}`);
  }

  if (name === 'init') {
    const { values, positionals } = strictParse(argv, INIT_FLAGS, INIT_USAGE);
    if (values.help) return { command: 'help', text: INIT_USAGE };
    if (values.version) return { command: 'version' };
    if (positionals.length > 1) throw new CommandUsageError(`init takes no arguments besides its flags (got ${JSON.stringify(positionals[1])}).\n\n${INIT_USAGE}`);
    try {
      return { command: 'init', options: initOptions(values) };
    } catch (error) {
      throw new CommandUsageError(`${error instanceof Error ? error.message : String(error)}\n\n${INIT_USAGE}`);
    }
  }

  const usage = name === 'call' ? CALL_USAGE : TOOLS_USAGE;
  const { values, positionals, tokens } = strictParse(argv, { ...SERVER_FLAGS, ...(name === 'call' ? CALL_FLAGS : {}) }, usage);
  if (values.help) return { command: 'help', text: usage };
  if (values.version) return { command: 'version' };
  if (values.http) throw new CommandUsageError(`${name} runs the tools in this process; --http does not apply.\n\n${usage}`);
  const serverArgv = serverArgvOf(tokens);
  if (name === 'tools') {
    if (positionals.length > 1) throw new CommandUsageError(`tools takes no arguments (got ${JSON.stringify(positionals[1])}).\n\n${usage}`);
    return { command: 'tools', serverArgv };
  }
  const [, tool, json, ...extra] = positionals;
  if (tool === undefined) throw new CommandUsageError(`call needs a tool name (cloudflare-users-mcp tools lists them).\n\n${usage}`);
  if (extra.length > 0) throw new CommandUsageError(`call takes one JSON object after the tool name; use --arg for more (got ${JSON.stringify(extra[0])}).\n\n${usage}`);
  const pairs = 'arg' in values && Array.isArray(values.arg) ? values.arg.filter((pair): pair is string => typeof pair === 'string') : [];
  const pretty = 'pretty' in values && values.pretty === true;
  return { command: 'call', tool, args: callArguments(json, pairs), pretty, serverArgv };
}

export interface CommandOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** A real MCP client on the server, in memory: the path every MCP client takes, minus the bytes. */
async function connectClient(server: Server): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'cloudflare-users-mcp-cli', version: '1' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return client;
}

function textOf(result: CallToolResult): string {
  const text = result.content
    .filter((block) => block.type === 'text')
    .map((block) => block.text)
    .join('\n');
  return text || 'the tool reported an error without a message';
}

/** Runs one tool; returns the exit code (0 ok, 1 the tool reported an error, 2 no such tool here). */
export async function runCall(command: Extract<ParsedCommand, { command: 'call' }>, server: Server, output: CommandOutput): Promise<number> {
  const client = await connectClient(server);
  try {
    const { tools } = await client.listTools();
    if (!tools.some((tool) => tool.name === command.tool)) {
      output.stderr(`cloudflare-users-mcp: no tool ${JSON.stringify(command.tool)} in this configuration. Available: ${tools.map((tool) => tool.name).join(', ')}.\n`);
      return 2;
    }
    const result = (await client.callTool({ name: command.tool, arguments: command.args })) as CallToolResult;
    if (result.isError) {
      output.stderr(`cloudflare-users-mcp: ${command.tool}: ${textOf(result)}\n`);
      return 1;
    }
    // structuredContent is the result object itself; the text block carries the same JSON.
    const data = result.structuredContent ?? argumentValue(textOf(result));
    output.stdout(`${JSON.stringify(data, null, command.pretty ? 2 : undefined)}\n`);
    return 0;
  } finally {
    await client.close();
  }
}

/** The first sentence of a description: enough for a one-line listing. */
function firstSentence(description: string): string {
  const end = description.search(/\.(\s|$)/);
  return end === -1 ? description : description.slice(0, end + 1);
}

/** Lists the tools this configuration serves: name, whether it writes, what it is for. */
export async function runTools(server: Server, output: CommandOutput): Promise<number> {
  const client = await connectClient(server);
  try {
    const { tools } = await client.listTools();
    const width = Math.max(...tools.map((tool) => tool.name.length));
    const lines = tools.map((tool) => {
      const kind = tool.annotations?.readOnlyHint ? 'read ' : 'write';
      return `${tool.name.padEnd(width)}  ${kind}  ${firstSentence(tool.description ?? '')}`;
    });
    output.stdout(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await client.close();
  }
}
