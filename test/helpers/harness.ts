/**
 * Test harness: the real server (createServer) behind an in-memory MCP
 * transport, talking through the real client and undici to the emulator on a
 * random loopback port. Only the clock is fake, so retry waits are instant
 * but still measured.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LoggingMessageNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CredentialInput, CredentialSource } from '../../src/cloudflare/auth.js';
import type { FetchLike } from '../../src/cloudflare/client.js';
import type { RetryClock, RetryPolicy } from '../../src/cloudflare/retry.js';
import { createUndiciFetch } from '../../src/node/undici-fetch.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/sandbox/emulator.js';
import { runTool, type CallChannel, type ToolDefinition, type ToolServices } from '../../src/tools/index.js';
import { wire, type Settings, type Wired } from '../../src/wiring.js';

// Distinctive values: the leak tests grep every output for them.
export const TEST_TOKEN = 'cfut_LEAKCANARY_token_7f3a9c1e5b2d4f60';
export const TEST_EMAIL = 'owner@corp.example';
export const TEST_KEY = 'LEAKCANARYglobalkey0123456789abcdef';
export const READ_ONLY_TOKEN = 'cfut_LEAKCANARY_readonly_9e8d7c6b5a';

/** Wires an MCP client to a server (ours, or the SDK's McpServer) through a linked in-memory transport pair. */
export async function connectInMemory(server: { connect(transport: Transport): Promise<void> }, client: Client): Promise<void> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
}

export interface FakeClock extends RetryClock {
  readonly sleeps: number[];
  totalSlept(): number;
}

export function fakeClock(start = Date.now()): FakeClock {
  let offset = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => start + offset,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
      offset += ms;
    },
    totalSlept: () => sleeps.reduce((sum, ms) => sum + ms, 0),
  };
}

export interface HarnessOptions {
  credentials?: CredentialInput | CredentialSource;
  /** undefined: use the emulator's account; null: no default account. */
  defaultAccountId?: string | null;
  readOnly?: boolean;
  /** `--tools` / `--toolsets`, as the CLI passes them to the wiring. */
  toolNames?: readonly string[];
  toolsets?: Settings['toolsets'];
  maxResponseChars?: number;
  timeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  maxResponseBytes?: number;
  retry?: Partial<RetryPolicy>;
  /** Settings.maxConcurrency (default 4) and Settings.resolveCacheSeconds (default 60). */
  maxConcurrency?: number;
  resolveCacheSeconds?: number;
  /** Wraps the undici fetch (e.g. to hide a header); the client still goes through the wiring. */
  wrapFetch?: (fetch: FetchLike) => FetchLike;
  /** Passed to createServer (e.g. test-only tools). */
  server?: Parameters<Wired['createServer']>[0];
  /** A clock of the test's own (e.g. one whose sleep waits for the test); default: fakeClock(). */
  clock?: FakeClock;
  /** Client capabilities the harness client declares (e.g. elicitation). */
  clientCapabilities?: ConstructorParameters<typeof Client>[1];
  emulator?: EmulatorOptions;
  /** Reuse a running emulator instead of starting one. */
  sharedEmulator?: Emulator;
}

export interface Harness {
  emulator: Emulator;
  wired: Wired;
  mcp: Client;
  clock: FakeClock;
  /** Every stderr line the server logged. */
  logLines: string[];
  /** Every logging notification the client received. */
  notifications: unknown[];
  /** Every tool result returned through this harness. */
  results: CallToolResult[];
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Parsed structuredContent of a successful call; fails the test on isError. */
  ok<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** The text of an isError result; fails the test on success. */
  fails(name: string, args?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export interface BuiltWiring {
  wired: Wired;
  services: ToolServices;
  clock: FakeClock;
  logLines: string[];
  /** runTool without an MCP client: a channel that cannot be cancelled, asks nothing and logs nowhere. */
  run(tool: ToolDefinition, args: unknown, channel?: Partial<CallChannel>): ReturnType<typeof runTool>;
  closeNetwork(): Promise<void>;
}

/** A CallChannel for calling runTool directly; override what a test needs (a signal, an elicit function). */
export function detachedChannel(overrides: Partial<CallChannel> = {}): CallChannel {
  return {
    signal: new AbortController().signal,
    identity: {},
    notify: async () => {},
    log: async () => {},
    ...overrides,
  };
}

/** The server's wiring (src/wiring.ts, as the CLI builds it) pointed at an emulator, with a fake clock. */
export function buildWiring(emulator: Emulator, options: HarnessOptions = {}): BuiltWiring {
  const network = createUndiciFetch({
    headersTimeoutMs: options.headersTimeoutMs ?? 2_000,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 2_000,
    connectTimeoutMs: 2_000,
  });
  const logLines: string[] = [];
  const clock = options.clock ?? fakeClock();
  const wired = wire({
    settings: {
      baseUrl: emulator.baseUrl,
      timeoutMs: options.timeoutMs ?? 20_000,
      maxResponseChars: options.maxResponseChars ?? 24_000,
      maxResponseBytes: options.maxResponseBytes,
      defaultAccountId: options.defaultAccountId === null ? undefined : (options.defaultAccountId ?? emulator.accountId),
      readOnly: options.readOnly ?? false,
      toolNames: options.toolNames,
      toolsets: options.toolsets,
      logLevel: 'debug',
      retry: options.retry,
      maxConcurrency: options.maxConcurrency,
      resolveCacheSeconds: options.resolveCacheSeconds,
    },
    fetch: options.wrapFetch ? options.wrapFetch(network.fetch) : network.fetch,
    credentials: options.credentials ?? { CLOUDFLARE_API_TOKEN: TEST_TOKEN },
    logSink: (line) => logLines.push(line),
    clock,
  });
  return {
    wired,
    services: wired.services,
    clock,
    logLines,
    run: (tool, args, channel) => runTool(tool, args, wired.services, detachedChannel(channel)),
    closeNetwork: () => network.close(),
  };
}

export function startTestEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ apiToken: TEST_TOKEN, email: TEST_EMAIL, apiKey: TEST_KEY, readOnlyToken: READ_ONLY_TOKEN, ...options });
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const emulator = options.sharedEmulator ?? (await startTestEmulator(options.emulator));
  const { wired, clock, logLines, closeNetwork } = buildWiring(emulator, options);
  const server = wired.createServer(options.server);
  const mcp = new Client({ name: 'harness', version: '1.0.0' }, options.clientCapabilities);
  const notifications: unknown[] = [];
  mcp.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    notifications.push(notification.params);
  });
  await connectInMemory(server, mcp);
  const results: CallToolResult[] = [];

  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = (await mcp.callTool({ name, arguments: args })) as CallToolResult;
    results.push(result);
    return result;
  };
  const textOf = (result: CallToolResult) => result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');

  return {
    emulator,
    wired,
    mcp,
    clock,
    logLines,
    notifications,
    results,
    call,
    async ok<T>(name: string, args: Record<string, unknown> = {}) {
      const result = await call(name, args);
      if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
      // The text is the same object, minified: keep both honest.
      if (JSON.stringify(result.structuredContent) !== textOf(result)) throw new Error(`${name}: text and structuredContent differ`);
      return result.structuredContent as T;
    },
    async fails(name: string, args: Record<string, unknown> = {}) {
      const result = await call(name, args);
      if (!result.isError) throw new Error(`${name} unexpectedly succeeded: ${textOf(result)}`);
      return textOf(result);
    },
    async close() {
      await mcp.close();
      await server.close();
      await closeNetwork();
      if (!options.sharedEmulator) await emulator.close();
    },
  };
}

export function textOf(result: CallToolResult): string {
  return result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** Rebuilds row objects from the columnar list layout (fields + rows + same). */
export function rowsOf(data: Record<string, unknown>): Record<string, unknown>[] {
  const fields = (data.fields ?? []) as string[];
  const rows = (data.rows ?? []) as unknown[][];
  const same = (data.same ?? {}) as Record<string, unknown>;
  return rows.map((row) => ({ ...same, ...Object.fromEntries(fields.map((field, i) => [field, row[i]])) }));
}
