/**
 * The one wiring: settings → credential source → client → logger → server
 * factory. The CLI, the test harness and the bench all build the server
 * here, so what they run is what users run; a Workers entry can too (no Node
 * APIs: the network, the log sink and the clock are passed in).
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { resolveAuth, type CredentialInput, type CredentialSource } from './cloudflare/auth.js';
import { CloudflareClient, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, type FetchLike } from './cloudflare/client.js';
import { DEFAULT_MAX_CONCURRENCY } from './cloudflare/concurrency.js';
import { realClock, type RetryClock, type RetryPolicy } from './cloudflare/retry.js';
import { createLogger, type Logger, type LogLevel, type LogSink } from './log.js';
import { Redactor } from './redact.js';
import { createServer, type ServerOptions } from './server.js';
import { CallTracker, DEFAULT_RESOLVE_CACHE_SECONDS, UserCache, type ToolSelection, type ToolServices, type Toolset } from './tools/index.js';
import { DEFAULT_MAX_RESPONSE_CHARS } from './trim/index.js';
import { SERVER_NAME, SERVER_VERSION } from './version.js';

/** Everything that shapes behaviour, as plain values (the CLI reads them from argv and env). */
export interface Settings {
  baseUrl: string;
  /** Deadline for one tool call, every request and retry wait included. */
  timeoutMs?: number;
  maxResponseChars?: number;
  maxResponseBytes?: number;
  defaultAccountId?: string | undefined;
  readOnly?: boolean;
  /** `--tools` / `--toolsets`, already checked against the registry (checkToolSelection). */
  toolNames?: readonly string[] | undefined;
  toolsets?: readonly Toolset[] | undefined;
  logLevel?: LogLevel;
  retry?: Partial<RetryPolicy>;
  /** Requests one tool call may have in flight at once, for every fan-out (default 4). */
  maxConcurrency?: number;
  /** How long an email → user id resolution is reused (default 60; 0: never). */
  resolveCacheSeconds?: number;
}

export interface WiringInput {
  settings: Settings;
  /** The network: undici on Node, the platform fetch on Workers. */
  fetch: FetchLike;
  /** The server's own credentials (env), or a source that picks them per call. */
  credentials: CredentialInput | CredentialSource;
  logSink: LogSink;
  clock?: RetryClock;
}

export interface Wired {
  services: ToolServices;
  logger: Logger;
  /** A server for one connection (stdio) or one session (HTTP). */
  /** The tool selection comes from the settings only: a session cannot widen what the operator allowed. */
  createServer(options?: Omit<ServerOptions, keyof ToolSelection>): Server;
  /** Stops taking calls, lets those in flight finish for `graceMs`, cuts off the rest; returns how many. */
  drain(graceMs: number): Promise<number>;
}

export function wire(input: WiringInput): Wired {
  const { settings } = input;
  const clock = input.clock ?? realClock;
  let credentials: CredentialSource;
  let redactor: Redactor;
  if (typeof input.credentials === 'function') {
    // Per-call credentials are added to each call's own Redactor; the server holds none of them.
    credentials = input.credentials;
    redactor = new Redactor();
  } else {
    const auth = resolveAuth(input.credentials);
    credentials = () => auth;
    redactor = new Redactor(auth.secrets);
  }
  const logger = createLogger(input.logSink, settings.logLevel ?? 'info', { redactor });
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new CloudflareClient({
    baseUrl: settings.baseUrl,
    fetch: input.fetch,
    timeoutMs,
    maxResponseBytes: settings.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    retry: settings.retry,
    clock,
    logger,
    userAgent: `${SERVER_NAME}/${SERVER_VERSION}`,
  });
  const services: ToolServices = {
    client,
    credentials,
    defaultAccountId: settings.defaultAccountId,
    maxResponseChars: settings.maxResponseChars ?? DEFAULT_MAX_RESPONSE_CHARS,
    timeoutMs,
    logger,
    redactor,
    clock,
    calls: new CallTracker(),
    maxConcurrency: settings.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
    userCache: new UserCache((settings.resolveCacheSeconds ?? DEFAULT_RESOLVE_CACHE_SECONDS) * 1000, () => clock.now()),
  };
  return {
    services,
    logger,
    createServer: (options = {}) =>
      createServer(services, { ...options, readOnly: settings.readOnly ?? false, toolNames: settings.toolNames, toolsets: settings.toolsets }),
    drain: (graceMs) => services.calls.drain(graceMs),
  };
}
