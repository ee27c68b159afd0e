/**
 * Node edge: turns argv and the environment into a plain config object.
 * Nothing below this layer reads process.env or argv.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CredentialInput } from '../cloudflare/auth.js';
import { DEFAULT_BASE_URL } from '../cloudflare/client.js';
import { DEFAULT_MAX_CONCURRENCY } from '../cloudflare/concurrency.js';
import { DEFAULT_HTTP_LIMITS, parseAccessSettings, parseBearer, parseReadOnly, type AccessSettings } from '../http/settings.js';
import { HttpSettingsError, isLoopbackHost, parseAllowedHosts, parseAllowedOrigins } from '../http/hosts.js';
import type { LogLevel } from '../log.js';
import { checkToolSelection, TOOLSETS, ToolSelectionError, type ToolSelection, type Toolset } from '../tools/index.js';
import { DEFAULT_MAX_RESPONSE_CHARS } from '../trim/index.js';

export interface CliConfig {
  transport: 'stdio' | 'http';
  host: string;
  port: number;
  sandbox: boolean;
  readOnly: boolean;
  /** `--tools` / CLOUDFLARE_TOOLS: serve only these (checked against the registry); undefined: no allow-list. */
  toolNames: readonly string[] | undefined;
  /** `--toolsets` / CLOUDFLARE_TOOLSETS: serve only these groups; with toolNames, a tool in either is served. */
  toolsets: readonly Toolset[] | undefined;
  maxResponseChars: number;
  timeoutMs: number;
  /** On shutdown, how long calls in flight may still finish before they are cut off. */
  shutdownGraceMs: number;
  /** stdio: a longer line is discarded and answered with an error. */
  maxMessageBytes: number;
  /** `--max-concurrency` / CLOUDFLARE_MAX_CONCURRENCY: requests one tool call may have in flight (every fan-out). */
  maxConcurrency: number;
  /** `--resolve-cache-seconds`: how long an email → user id resolution is reused (0: never). */
  resolveCacheSeconds: number;
  logLevel: LogLevel;
  credentials: CredentialInput;
  accountId: string | undefined;
  baseUrl: string;
  help: boolean;
  version: boolean;
  /** --http only: endpoint auth, extra Host/Origin names, limits, stateless. */
  http: HttpConfig;
}

export interface HttpConfig {
  /** MCP_HTTP_BEARER, or the contents of --bearer-file; a secret, never logged. */
  bearer: string | undefined;
  access: AccessSettings | undefined;
  allowedHosts: string[];
  allowedOrigins: string[];
  maxBodyBytes: number;
  sessionIdleMs: number;
  maxSessions: number;
  stateless: boolean;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const USAGE = `Usage: cloudflare-users-mcp [options]

Options:
  --http                      Serve Streamable HTTP (/mcp) and legacy SSE (/sse) instead of stdio
  --host <addr>               HTTP bind address (default 127.0.0.1)
  --port <n>                  HTTP port (default 8787; 0 picks a free port)
  --sandbox                   Serve demo data from the built-in Cloudflare API emulator (no account needed)
  --read-only                 Register only the read tools (also CLOUDFLARE_READ_ONLY=true or 1)
  --tools <names>             Serve only these tools, comma-separated (also CLOUDFLARE_TOOLS)
  --toolsets <names>          Serve only these groups: ${TOOLSETS.join(', ')} (also CLOUDFLARE_TOOLSETS);
                              with --tools, a tool in either is served; --read-only still drops writes
  --max-response-chars <n>    Budget for one tool result (default ${DEFAULT_MAX_RESPONSE_CHARS})
  --timeout-ms <n>            Deadline for one tool call, requests and retry waits included (default 60000)
  --shutdown-grace-seconds <n>  On exit (stdin closed, SIGTERM, SIGINT), calls in flight may finish this long (default 10)
  --max-message-bytes <n>     stdio: longest JSON-RPC line; a longer one is discarded with an error (default 10485760)
  --max-concurrency <n>       Requests one tool call may have in flight: overview, batches, all pages (default ${DEFAULT_MAX_CONCURRENCY}; also CLOUDFLARE_MAX_CONCURRENCY)
  --resolve-cache-seconds <n> Reuse an email → user id lookup this long; any write drops it (default 60; 0: never)
  --stateless                 HTTP: no sessions, a fresh server per request (for replicas behind a load balancer)
  --bearer-file <path>        HTTP: clients must send Authorization: Bearer <the file's content> (also MCP_HTTP_BEARER)
  --access-team-domain <url>  HTTP: verify Cloudflare Access JWTs from this team (https://<team>.cloudflareaccess.com)
  --access-aud <tag>          HTTP: the Access application's AUD tag (with --access-team-domain)
  --allowed-hosts <list>      HTTP: Host names served besides loopback, host or host:port (also MCP_ALLOWED_HOSTS)
  --allowed-origins <list>    HTTP: browser Origins accepted besides those names (also MCP_ALLOWED_ORIGINS)
  --max-body-bytes <n>        HTTP: largest POST body (default ${DEFAULT_HTTP_LIMITS.maxBodyBytes}); larger ones get 413
  --session-idle-seconds <n>  HTTP: close sessions unused this long (default ${DEFAULT_HTTP_LIMITS.sessionIdleMs / 1000})
  --max-sessions <n>          HTTP: open sessions, Streamable HTTP and SSE together (default ${DEFAULT_HTTP_LIMITS.maxSessions})
  --log-level <level>         debug | info | warning | error (default info), logs go to stderr
  -h, --help                  Show this help
  -v, --version               Show the version

Environment:
  CLOUDFLARE_API_TOKEN        API token (preferred)
  CLOUDFLARE_EMAIL, CLOUDFLARE_API_KEY   Email + Global API Key (used when no token is set)
  CLOUDFLARE_ACCOUNT_ID       Default account_id for the Zero Trust user tools (32 hex)
  CLOUDFLARE_BASE_URL         API base (default ${DEFAULT_BASE_URL})
  MCP_HTTP_BEARER             HTTP: the bearer clients must send (required with a --host beyond loopback, or Access)
  CLOUDFLARE_ACCESS_TEAM_DOMAIN, CLOUDFLARE_ACCESS_AUD  As --access-team-domain and --access-aud
  CLOUDFLARE_READ_ONLY        true or 1: as --read-only
  CLOUDFLARE_TOOLS, CLOUDFLARE_TOOLSETS  As --tools and --toolsets (for hosts that set env, such as bundles)
  CLOUDFLARE_MAX_CONCURRENCY  As --max-concurrency
`;

export const ACCOUNT_ID_PATTERN = /^[0-9a-f]{32}$/;
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error'];

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function integerOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)}).`);
  }
  return value;
}

/** CLOUDFLARE_READ_ONLY by the rule the Worker shares (src/http/settings.ts), as a startup error. */
function readOnlyFromEnv(raw: string | undefined): boolean {
  try {
    return parseReadOnly(raw);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
}

/** "a, b,,c" → ['a', 'b', 'c']; an empty list (an unset bundle field) is no allow-list at all. */
function nameList(raw: string | undefined): string[] | undefined {
  const names = (raw ?? '').split(/[\s,]+/).filter(Boolean);
  return names.length > 0 ? names : undefined;
}

/** --read-only, --tools and --toolsets (a flag wins over its environment variable), checked against the registry. */
function toolSelection(values: { 'read-only'?: boolean; tools?: string; toolsets?: string }, env: Readonly<Record<string, string | undefined>>): ToolSelection {
  const readOnlyEnv = readOnlyFromEnv(env.CLOUDFLARE_READ_ONLY);
  const namesFlag = nameList(values.tools);
  const setsFlag = nameList(values.toolsets);
  try {
    return checkToolSelection({
      readOnly: (values['read-only'] ?? false) || readOnlyEnv,
      toolNames: namesFlag ?? nameList(env.CLOUDFLARE_TOOLS),
      toolNamesFrom: namesFlag ? '--tools' : 'CLOUDFLARE_TOOLS',
      toolsets: setsFlag ?? nameList(env.CLOUDFLARE_TOOLSETS),
      toolsetsFrom: setsFlag ? '--toolsets' : 'CLOUDFLARE_TOOLSETS',
    });
  } catch (error) {
    if (error instanceof ToolSelectionError) throw new ConfigError(error.message);
    throw error;
  }
}

/** Every flag the server takes; the subcommands (src/node/commands.ts) accept these too and add their own. */
export const SERVER_FLAGS = {
  http: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  sandbox: { type: 'boolean' },
  'read-only': { type: 'boolean' },
  tools: { type: 'string' },
  toolsets: { type: 'string' },
  'max-response-chars': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'shutdown-grace-seconds': { type: 'string' },
  'max-message-bytes': { type: 'string' },
  'max-concurrency': { type: 'string' },
  'resolve-cache-seconds': { type: 'string' },
  'log-level': { type: 'string' },
  stateless: { type: 'boolean' },
  'bearer-file': { type: 'string' },
  'access-team-domain': { type: 'string' },
  'access-aud': { type: 'string' },
  'allowed-hosts': { type: 'string' },
  'allowed-origins': { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'session-idle-seconds': { type: 'string' },
  'max-sessions': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** --bearer-file wins over MCP_HTTP_BEARER; one trailing newline (what editors add) is not part of it. */
function bearerFrom(file: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  let bearer = env.MCP_HTTP_BEARER;
  let from = 'MCP_HTTP_BEARER';
  if (file !== undefined) {
    try {
      bearer = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new ConfigError(`--bearer-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
    }
    from = '--bearer-file';
    // Asked for a bearer and got none: refusing beats serving without the check the operator meant.
    if (bearer === '') throw new ConfigError(`--bearer-file: ${file} is empty.`);
  }
  return parseBearer(bearer, from);
}

type ServerFlagValues = ReturnType<typeof parseArgs<{ options: typeof SERVER_FLAGS; strict: true; allowPositionals: false }>>['values'];

/**
 * The --http settings. Beyond loopback, some endpoint auth is required: the Host check only stops browsers
 * (any other client sends whatever Host it likes), so without it anyone who can reach the port could use
 * the server's Cloudflare credentials.
 */
function httpConfig(values: ServerFlagValues, env: Readonly<Record<string, string | undefined>>, host: string, transport: 'stdio' | 'http'): HttpConfig {
  let http: HttpConfig;
  try {
    http = {
      bearer: bearerFrom(values['bearer-file'], env),
      access: parseAccessSettings(values['access-team-domain'] ?? env.CLOUDFLARE_ACCESS_TEAM_DOMAIN, values['access-aud'] ?? env.CLOUDFLARE_ACCESS_AUD),
      allowedHosts: parseAllowedHosts(values['allowed-hosts'] ?? env.MCP_ALLOWED_HOSTS),
      allowedOrigins: parseAllowedOrigins(values['allowed-origins'] ?? env.MCP_ALLOWED_ORIGINS),
      maxBodyBytes: integerOption('--max-body-bytes', values['max-body-bytes'], DEFAULT_HTTP_LIMITS.maxBodyBytes, 1024, 64 * 1024 * 1024),
      sessionIdleMs: integerOption('--session-idle-seconds', values['session-idle-seconds'], DEFAULT_HTTP_LIMITS.sessionIdleMs / 1000, 1, 7 * 24 * 3600) * 1000,
      maxSessions: integerOption('--max-sessions', values['max-sessions'], DEFAULT_HTTP_LIMITS.maxSessions, 1, 100_000),
      stateless: values.stateless ?? false,
    };
  } catch (error) {
    if (error instanceof HttpSettingsError) throw new ConfigError(error.message);
    throw error;
  }
  if (transport === 'http' && !isLoopbackHost(host) && !http.bearer && !http.access) {
    throw new ConfigError(
      `--host ${host} is reachable from other machines, and nothing would check who calls: anyone who reaches it could use this server's Cloudflare credentials. ` +
        'Set MCP_HTTP_BEARER (or --bearer-file PATH) so clients must send Authorization: Bearer <it>, and/or put Cloudflare Access in front with ' +
        '--access-team-domain and --access-aud (CLOUDFLARE_ACCESS_TEAM_DOMAIN, CLOUDFLARE_ACCESS_AUD). Or bind --host 127.0.0.1.',
    );
  }
  return http;
}

export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliConfig {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: SERVER_FLAGS,
    });
  } catch (error) {
    throw new ConfigError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  const values = parsed.values;

  const accountId = nonEmpty(env.CLOUDFLARE_ACCOUNT_ID);
  if (accountId !== undefined && !ACCOUNT_ID_PATTERN.test(accountId)) {
    throw new ConfigError(
      'CLOUDFLARE_ACCOUNT_ID must be 32 lowercase hex characters (the Account ID from the Cloudflare dashboard: Account home > Overview). ' +
        `The value set has ${accountId.length} characters and does not match.`,
    );
  }
  const baseUrl = nonEmpty(env.CLOUDFLARE_BASE_URL) ?? DEFAULT_BASE_URL;
  let parsedBase: URL;
  try {
    parsedBase = new URL(baseUrl);
  } catch {
    throw new ConfigError('CLOUDFLARE_BASE_URL must be an absolute http(s) URL such as https://api.cloudflare.com/client/v4.');
  }
  if (parsedBase.protocol !== 'https:' && parsedBase.protocol !== 'http:') {
    throw new ConfigError('CLOUDFLARE_BASE_URL must use http or https.');
  }
  // Credentials go in headers: over plain http they would cross the network readable by anyone on the path.
  if (parsedBase.protocol === 'http:' && !isLoopbackHost(parsedBase.hostname)) {
    throw new ConfigError(
      `CLOUDFLARE_BASE_URL must use https for a host that is not this machine (got http://${parsedBase.host}); plain http is allowed only for loopback (127.0.0.1, ::1, localhost).`,
    );
  }
  const selection = toolSelection(values, env);
  const logLevel = (values['log-level'] ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}.`);

  const transport = values.http ? 'http' : 'stdio';
  const host = values.host ?? '127.0.0.1';
  const http = httpConfig(values, env, host, transport);

  return {
    transport,
    host,
    port: integerOption('--port', values.port, 8787, 0, 65535),
    sandbox: values.sandbox ?? false,
    readOnly: selection.readOnly ?? false,
    toolNames: selection.toolNames,
    toolsets: selection.toolsets,
    maxResponseChars: integerOption('--max-response-chars', values['max-response-chars'], DEFAULT_MAX_RESPONSE_CHARS, 1_000, 1_000_000),
    timeoutMs: integerOption('--timeout-ms', values['timeout-ms'], 60_000, 1_000, 600_000),
    shutdownGraceMs: integerOption('--shutdown-grace-seconds', values['shutdown-grace-seconds'], 10, 0, 600) * 1000,
    maxMessageBytes: integerOption('--max-message-bytes', values['max-message-bytes'], 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    // The flag wins over the variable; an empty variable (an unset bundle field) is unset.
    maxConcurrency: integerOption(
      values['max-concurrency'] !== undefined ? '--max-concurrency' : 'CLOUDFLARE_MAX_CONCURRENCY',
      values['max-concurrency'] ?? nonEmpty(env.CLOUDFLARE_MAX_CONCURRENCY),
      DEFAULT_MAX_CONCURRENCY,
      1,
      32,
    ),
    resolveCacheSeconds: integerOption('--resolve-cache-seconds', values['resolve-cache-seconds'], 60, 0, 3_600),
    logLevel,
    credentials: {
      CLOUDFLARE_API_TOKEN: env.CLOUDFLARE_API_TOKEN,
      CLOUDFLARE_EMAIL: env.CLOUDFLARE_EMAIL,
      CLOUDFLARE_API_KEY: env.CLOUDFLARE_API_KEY,
    },
    accountId,
    baseUrl,
    help: values.help ?? false,
    version: values.version ?? false,
    http,
  };
}
