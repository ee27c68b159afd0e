/**
 * Node edge: turns argv and the environment into a plain config object.
 * Nothing below this layer reads process.env or argv.
 */
import { parseArgs } from 'node:util';
import type { CredentialInput } from '../cloudflare/auth.js';
import { DEFAULT_BASE_URL } from '../cloudflare/client.js';
import type { LogLevel } from '../log.js';
import { DEFAULT_MAX_RESPONSE_CHARS } from '../trim/index.js';

export interface CliConfig {
  transport: 'stdio' | 'http';
  host: string;
  port: number;
  sandbox: boolean;
  readOnly: boolean;
  maxResponseChars: number;
  timeoutMs: number;
  /** On shutdown, how long calls in flight may still finish before they are cut off. */
  shutdownGraceMs: number;
  /** stdio: a longer line is discarded and answered with an error. */
  maxMessageBytes: number;
  logLevel: LogLevel;
  credentials: CredentialInput;
  accountId: string | undefined;
  baseUrl: string;
  help: boolean;
  version: boolean;
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
  --read-only                 Register only the read tools (also CLOUDFLARE_READ_ONLY=true)
  --max-response-chars <n>    Budget for one tool result (default ${DEFAULT_MAX_RESPONSE_CHARS})
  --timeout-ms <n>            Deadline for one tool call, requests and retry waits included (default 60000)
  --shutdown-grace-seconds <n>  On exit (stdin closed, SIGTERM, SIGINT), calls in flight may finish this long (default 10)
  --max-message-bytes <n>     stdio: longest JSON-RPC line; a longer one is discarded with an error (default 10485760)
  --log-level <level>         debug | info | warning | error (default info), logs go to stderr
  -h, --help                  Show this help
  -v, --version               Show the version

Environment:
  CLOUDFLARE_API_TOKEN        API token (preferred)
  CLOUDFLARE_EMAIL, CLOUDFLARE_API_KEY   Email + Global API Key (used when no token is set)
  CLOUDFLARE_ACCOUNT_ID       Default account_id for the Zero Trust user tools (32 hex)
  CLOUDFLARE_BASE_URL         API base (default ${DEFAULT_BASE_URL})
`;

const ACCOUNT_ID_PATTERN = /^[0-9a-f]{32}$/;
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error'];

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** 127.0.0.0/8, ::1 and localhost: the only hosts plain http may reach. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function integerOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)}).`);
  }
  return value;
}

export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliConfig {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        http: { type: 'boolean' },
        host: { type: 'string' },
        port: { type: 'string' },
        sandbox: { type: 'boolean' },
        'read-only': { type: 'boolean' },
        'max-response-chars': { type: 'string' },
        'timeout-ms': { type: 'string' },
        'shutdown-grace-seconds': { type: 'string' },
        'max-message-bytes': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
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
  const logLevel = (values['log-level'] ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}.`);

  return {
    transport: values.http ? 'http' : 'stdio',
    host: values.host ?? '127.0.0.1',
    port: integerOption('--port', values.port, 8787, 0, 65535),
    sandbox: values.sandbox ?? false,
    readOnly: (values['read-only'] ?? false) || /^(1|true|yes)$/i.test(env.CLOUDFLARE_READ_ONLY ?? ''),
    maxResponseChars: integerOption('--max-response-chars', values['max-response-chars'], DEFAULT_MAX_RESPONSE_CHARS, 1_000, 1_000_000),
    timeoutMs: integerOption('--timeout-ms', values['timeout-ms'], 60_000, 1_000, 600_000),
    shutdownGraceMs: integerOption('--shutdown-grace-seconds', values['shutdown-grace-seconds'], 10, 0, 600) * 1000,
    maxMessageBytes: integerOption('--max-message-bytes', values['max-message-bytes'], 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
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
  };
}
