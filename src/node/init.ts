/**
 * `cloudflare-users-mcp init --client …`: adds this server to one client's
 * MCP config file, merging into what is there (other servers and keys kept,
 * the old file backed up first, a file that does not parse left untouched).
 *
 * The token is never written where the client can supply it at start-up:
 * VS Code prompts for it (`${input:…}`, kept in its secret storage), Cursor
 * and Claude Code read it from their environment (`${env:…}`, `${VAR:-}`).
 * Claude Desktop has neither, so its entry gets an empty token and stderr says
 * what to fill in; `--token-from-env` copies it from this shell instead, when
 * the user asks for that (the bundle, with the token in the OS keychain, is
 * the better way there).
 */
import { constants, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, posix, resolve, win32 } from 'node:path';
import { isDeepStrictEqual, type ParseArgsConfig } from 'node:util';
import { ACCOUNT_ID_PATTERN } from './config.js';

export const INIT_CLIENTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode'] as const;
export type InitClient = (typeof INIT_CLIENTS)[number];

export const PACKAGE_NAME = 'cloudflare-users-mcp';
export const DEFAULT_SERVER_NAME = 'cloudflare-users';
/** VS Code input ids: the prompts it shows, referenced as `${input:id}`. */
export const VSCODE_TOKEN_INPUT = 'cloudflare-api-token';
export const VSCODE_ACCOUNT_INPUT = 'cloudflare-account-id';

export const INIT_FLAGS = {
  client: { type: 'string' },
  config: { type: 'string' },
  global: { type: 'boolean' },
  'read-only': { type: 'boolean' },
  'account-id': { type: 'string' },
  'token-from-env': { type: 'boolean' },
  name: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const INIT_USAGE = `Usage: cloudflare-users-mcp init --client <client> [options]

Adds this server to a client's MCP config, keeping everything else in it (the old file is saved as <file>.bak).

  --client <client>      claude-desktop | claude-code | cursor | vscode
  --config <path>        The config file to write (default: the client's usual place, below)
  --global               cursor: ~/.cursor/mcp.json; vscode: the user profile's mcp.json (default: this project's)
  --read-only            Serve only the read tools (CLOUDFLARE_READ_ONLY=true)
  --account-id <id>      Default account (32 hex), written as is (not a secret)
  --token-from-env       claude-desktop only: copy CLOUDFLARE_API_TOKEN from this shell into the file
  --name <name>          The server's name in the file (default ${DEFAULT_SERVER_NAME})
  -h, --help             Show this help

Where the token comes from:
  vscode          .vscode/mcp.json; VS Code prompts for the token once and keeps it in its secret storage
  cursor          .cursor/mcp.json; \${env:CLOUDFLARE_API_TOKEN} from the environment Cursor starts with
  claude-code     .mcp.json (project scope); \${CLOUDFLARE_API_TOKEN:-} from the shell that starts claude
  claude-desktop  claude_desktop_config.json in the OS's app-data folder; it cannot read variables or prompt,
                  so the token is left empty for you to fill in (or --token-from-env); the .mcpb bundle keeps
                  it in the OS keychain instead
`;

/** A usage problem (exit 2): a wrong flag or value. */
export class InitUsageError extends Error {
  override readonly name = 'InitUsageError';
}

/** The config file cannot be used (exit 1): unreadable, not JSON, not the expected shape. Nothing was written. */
export class InitFileError extends Error {
  override readonly name = 'InitFileError';
}

export interface InitOptions {
  client: InitClient;
  configPath: string | undefined;
  global: boolean;
  readOnly: boolean;
  accountId: string | undefined;
  tokenFromEnv: boolean;
  serverName: string;
}

/** What the host looks like: passed in so tests (and other OSes) need no real home folder. */
export interface InitHost {
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  homedir: string;
  cwd: string;
}

export interface InitReport {
  path: string;
  /** Where the previous file was copied; undefined when there was none or nothing changed. */
  backupPath: string | undefined;
  outcome: 'created' | 'updated' | 'unchanged';
  /** What the user should know or do next, for stderr. */
  notes: string[];
}

const SERVER_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;

function isInitClient(value: string): value is InitClient {
  return (INIT_CLIENTS as readonly string[]).includes(value);
}

/** Checks the parsed flags of `init`; throws InitUsageError naming the rule. */
export function initOptions(values: {
  client?: string | undefined;
  config?: string | undefined;
  global?: boolean | undefined;
  'read-only'?: boolean | undefined;
  'account-id'?: string | undefined;
  'token-from-env'?: boolean | undefined;
  name?: string | undefined;
}): InitOptions {
  const client = values.client;
  if (client === undefined) throw new InitUsageError(`init needs --client: one of ${INIT_CLIENTS.join(', ')}.`);
  if (!isInitClient(client)) throw new InitUsageError(`Unknown client ${JSON.stringify(client)}; --client takes one of ${INIT_CLIENTS.join(', ')}.`);
  const accountId = values['account-id']?.trim() || undefined;
  if (accountId !== undefined && !ACCOUNT_ID_PATTERN.test(accountId)) {
    throw new InitUsageError('--account-id must be 32 lowercase hex characters (dashboard: Account home > Overview, "Account ID").');
  }
  const serverName = values.name ?? DEFAULT_SERVER_NAME;
  if (!SERVER_NAME_PATTERN.test(serverName)) throw new InitUsageError('--name must start with a letter and hold only letters, digits, "-" and "_".');
  const tokenFromEnv = values['token-from-env'] ?? false;
  if (tokenFromEnv && client !== 'claude-desktop') {
    throw new InitUsageError(`--token-from-env is for claude-desktop only: ${client} reads the token at start-up, so no secret needs to be in its file.`);
  }
  const global = values.global ?? false;
  if (global && client === 'claude-code' && values.config === undefined) {
    // User scope lives in ~/.claude.json, which Claude Code rewrites itself: let it do the writing.
    throw new InitUsageError(
      `Claude Code keeps user-scope servers in its own state file (~/.claude.json); run instead:\n  ${claudeCodeAddCommand(serverName, values['read-only'] ?? false, accountId, 'user')}`,
    );
  }
  return { client, configPath: values.config, global, readOnly: values['read-only'] ?? false, accountId, tokenFromEnv, serverName };
}

/** The file each client reads, by OS. Project files (./.vscode, ./.cursor, ./.mcp.json) are relative to cwd. */
export function defaultConfigPath(client: InitClient, global: boolean, host: InitHost): string {
  const path = host.platform === 'win32' ? win32 : posix;
  const appData = host.env.APPDATA || path.join(host.homedir, 'AppData', 'Roaming');
  const xdgConfig = host.env.XDG_CONFIG_HOME || path.join(host.homedir, '.config');
  /** The per-user application settings folder of an Electron app (Claude, Code). */
  const userAppFolder = (app: string) =>
    host.platform === 'darwin'
      ? path.join(host.homedir, 'Library', 'Application Support', app)
      : host.platform === 'win32'
        ? path.join(appData, app)
        : path.join(xdgConfig, app);
  switch (client) {
    case 'claude-desktop':
      return path.join(userAppFolder('Claude'), 'claude_desktop_config.json');
    case 'cursor':
      return global ? path.join(host.homedir, '.cursor', 'mcp.json') : path.join(host.cwd, '.cursor', 'mcp.json');
    case 'vscode':
      return global ? path.join(userAppFolder('Code'), 'User', 'mcp.json') : path.join(host.cwd, '.vscode', 'mcp.json');
    case 'claude-code':
      return path.join(host.cwd, '.mcp.json');
  }
}

/**
 * The `claude mcp add` command for this server. Project scope writes .mcp.json, where Claude Code expands
 * `${VAR:-}` at start-up; user scope is documented with literal values, so the token is a placeholder there.
 */
export function claudeCodeAddCommand(name: string, readOnly: boolean, accountId: string | undefined, scope: 'user' | 'project'): string {
  const env =
    scope === 'project'
      ? [`-e 'CLOUDFLARE_API_TOKEN=\${CLOUDFLARE_API_TOKEN:-}'`, `-e 'CLOUDFLARE_ACCOUNT_ID=${accountId ?? '${CLOUDFLARE_ACCOUNT_ID:-}'}'`]
      : ['-e CLOUDFLARE_API_TOKEN=<your API token>', ...(accountId ? [`-e CLOUDFLARE_ACCOUNT_ID=${accountId}`] : [])];
  if (readOnly) env.push('-e CLOUDFLARE_READ_ONLY=true');
  return `claude mcp add --scope ${scope} ${name} ${env.join(' ')} -- npx -y ${PACKAGE_NAME}`;
}

type JsonObject = Record<string, unknown>;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The key holding the servers: VS Code's own format says `servers`, the others `mcpServers`. */
function serversKey(client: InitClient): 'servers' | 'mcpServers' {
  return client === 'vscode' ? 'servers' : 'mcpServers';
}

interface PlannedEntry {
  entry: JsonObject;
  /** VS Code prompts to declare (replacing any with the same id). */
  inputs: JsonObject[];
  notes: string[];
}

function planEntry(options: InitOptions, existing: unknown, host: InitHost): PlannedEntry {
  const env: Record<string, string> = {};
  const inputs: JsonObject[] = [];
  const notes: string[] = [];
  const previousEnv = isJsonObject(existing) && isJsonObject(existing.env) ? existing.env : {};
  const tokenInShell = Boolean(host.env.CLOUDFLARE_API_TOKEN?.trim());
  switch (options.client) {
    case 'vscode':
      env.CLOUDFLARE_API_TOKEN = `\${input:${VSCODE_TOKEN_INPUT}}`;
      inputs.push({ type: 'promptString', id: VSCODE_TOKEN_INPUT, description: 'Cloudflare API token', password: true });
      if (options.accountId) env.CLOUDFLARE_ACCOUNT_ID = options.accountId;
      else {
        env.CLOUDFLARE_ACCOUNT_ID = `\${input:${VSCODE_ACCOUNT_INPUT}}`;
        inputs.push({ type: 'promptString', id: VSCODE_ACCOUNT_INPUT, description: 'Cloudflare account ID (32 hex; empty: pass account_id per call)', password: false });
      }
      notes.push('VS Code asks for the token when the server first starts and keeps it in its secret storage; nothing secret is in the file.');
      break;
    case 'cursor':
      env.CLOUDFLARE_API_TOKEN = '${env:CLOUDFLARE_API_TOKEN}';
      env.CLOUDFLARE_ACCOUNT_ID = options.accountId ?? '${env:CLOUDFLARE_ACCOUNT_ID}';
      notes.push('Cursor fills in CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID) from the environment it starts with; nothing secret is in the file.');
      if (!tokenInShell) notes.push('CLOUDFLARE_API_TOKEN is not set in this shell: export it (e.g. in your shell profile) before starting Cursor.');
      break;
    case 'claude-code':
      // `:-` gives an empty value when the variable is unset (the server then says what to set) instead of the literal text.
      env.CLOUDFLARE_API_TOKEN = '${CLOUDFLARE_API_TOKEN:-}';
      env.CLOUDFLARE_ACCOUNT_ID = options.accountId ?? '${CLOUDFLARE_ACCOUNT_ID:-}';
      notes.push('Claude Code fills in CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID) from the shell that starts `claude`; nothing secret is in the file, which can be committed.');
      if (!tokenInShell) notes.push('CLOUDFLARE_API_TOKEN is not set in this shell: export it before starting `claude`.');
      notes.push(`The same without a file: ${claudeCodeAddCommand(options.serverName, options.readOnly, options.accountId, 'project')}`);
      break;
    case 'claude-desktop': {
      const previous = (key: string) => (typeof previousEnv[key] === 'string' && previousEnv[key] !== '' ? (previousEnv[key] as string) : undefined);
      if (options.tokenFromEnv) {
        const token = host.env.CLOUDFLARE_API_TOKEN?.trim();
        if (!token) throw new InitUsageError('--token-from-env: CLOUDFLARE_API_TOKEN is not set in this shell.');
        env.CLOUDFLARE_API_TOKEN = token;
        notes.push('Copied CLOUDFLARE_API_TOKEN from this shell into the file (readable by your user only).');
      } else if (previous('CLOUDFLARE_API_TOKEN')) {
        env.CLOUDFLARE_API_TOKEN = previous('CLOUDFLARE_API_TOKEN')!;
        notes.push('Kept the CLOUDFLARE_API_TOKEN already in the file.');
      } else {
        env.CLOUDFLARE_API_TOKEN = '';
        notes.push(
          'Claude Desktop cannot prompt for secrets or read environment variables, so CLOUDFLARE_API_TOKEN is empty: ' +
            'open the file and paste your API token there (https://dash.cloudflare.com/profile/api-tokens), ' +
            'or run init again with --token-from-env to copy it from this shell. Until then every tool call says what to set. ' +
            'The one-click bundle (npm run bundle) keeps the token in the OS keychain instead.',
        );
      }
      env.CLOUDFLARE_ACCOUNT_ID = options.accountId ?? previous('CLOUDFLARE_ACCOUNT_ID') ?? '';
      if (!env.CLOUDFLARE_ACCOUNT_ID) notes.push('CLOUDFLARE_ACCOUNT_ID is empty: fill it in too, or pass account_id per call.');
      notes.push('Restart Claude Desktop to load the change.');
      break;
    }
  }
  if (options.readOnly) env.CLOUDFLARE_READ_ONLY = 'true';
  // Settings of the existing entry that this run does not set (read-only, tool filters, a base URL) stay:
  // rerunning init to refresh a token must not quietly turn a read-only setup into a read-write one.
  const kept = Object.entries(previousEnv).filter((pair): pair is [string, string] => !(pair[0] in env) && typeof pair[1] === 'string');
  for (const [key, value] of kept) env[key] = value;
  if (kept.length > 0) notes.push(`Kept from the existing entry: ${kept.map(([key]) => key).join(', ')} (edit the file to change them).`);
  const launch = { command: 'npx', args: ['-y', PACKAGE_NAME], env };
  const entry = options.client === 'vscode' || options.client === 'claude-code' ? { type: 'stdio', ...launch } : launch;
  return { entry, inputs, notes };
}

/** The existing file as an object: {} when missing or blank; InitFileError when it is not a JSON object. */
function readConfig(path: string): { document: JsonObject; existed: boolean } {
  if (!existsSync(path)) return { document: {}, existed: false };
  let text: string;
  try {
    // Windows editors may start the file with a byte-order mark, which JSON.parse refuses.
    text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    throw new InitFileError(`Cannot read ${path}: ${error instanceof Error ? error.message : String(error)}. Nothing was changed.`);
  }
  if (text.trim() === '') return { document: {}, existed: true };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InitFileError(
      `${path} is not valid JSON (${error instanceof Error ? error.message : String(error)}); comments and trailing commas are not supported here. ` +
        'Nothing was changed: fix the file (or move it away) and run init again.',
    );
  }
  if (!isJsonObject(parsed)) throw new InitFileError(`${path} holds JSON but not an object at the top level. Nothing was changed.`);
  return { document: parsed, existed: true };
}

/** The first of <file>.bak, <file>.bak.1, … that does not exist: an earlier backup is never overwritten. */
function freeBackupPath(path: string): string {
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? `${path}.bak` : `${path}.bak.${n}`;
    if (!existsSync(candidate)) return candidate;
  }
}

/** Merges this server into the client's config file and writes it (backup first, then an atomic rename). */
export function runInit(options: InitOptions, host: InitHost): InitReport {
  const path = options.configPath !== undefined ? resolve(host.cwd, options.configPath) : defaultConfigPath(options.client, options.global, host);
  const { document, existed } = readConfig(path);
  const key = serversKey(options.client);
  const servers = document[key] ?? {};
  if (!isJsonObject(servers)) throw new InitFileError(`${path}: "${key}" is not an object. Nothing was changed.`);
  const existingInputs = document.inputs ?? [];
  if (options.client === 'vscode' && !Array.isArray(existingInputs)) throw new InitFileError(`${path}: "inputs" is not a list. Nothing was changed.`);

  const plan = planEntry(options, servers[options.serverName], host);
  // Spread keeps every other key and server, in their order; ours replaces an entry of the same name in place.
  const next: JsonObject = { ...document, [key]: { ...servers, [options.serverName]: plan.entry } };
  if (plan.inputs.length > 0 && Array.isArray(existingInputs)) {
    const ours = new Map(plan.inputs.map((input) => [input.id, input]));
    const kept = existingInputs.map((input: unknown) => (isJsonObject(input) && typeof input.id === 'string' && ours.has(input.id) ? ours.get(input.id)! : input));
    const added = plan.inputs.filter((input) => !kept.includes(input));
    next.inputs = [...kept, ...added];
  }

  const notes = [...plan.notes];
  if (isDeepStrictEqual(next, document) && existed) return { path, backupPath: undefined, outcome: 'unchanged', notes };
  if (servers[options.serverName] !== undefined) notes.unshift(`Replaced the existing "${options.serverName}" entry.`);

  let backupPath: string | undefined;
  // A file that may hold a token stays readable by this user only.
  let mode = 0o600;
  if (existed) {
    // A token copied in tightens an existing file to this user too; otherwise its mode is kept.
    mode = statSync(path).mode & (options.tokenFromEnv ? 0o700 : 0o777);
    backupPath = freeBackupPath(path);
    copyFileSync(path, backupPath, constants.COPYFILE_EXCL);
  } else {
    mkdirSync(dirname(path), { recursive: true });
  }
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`, { mode });
  renameSync(temporary, path);
  return { path, backupPath, outcome: existed ? 'updated' : 'created', notes };
}
