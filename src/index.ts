#!/usr/bin/env node
/**
 * CLI entry: the Node edge. Reads argv and the environment, optionally starts
 * the sandbox emulator, wires the undici fetch into the one wiring
 * (src/wiring.ts), and serves its servers over stdio or HTTP. On the way out
 * it stops taking calls and lets those in flight finish (their writes are
 * audited either way). The shell subcommands (call, tools, init; see
 * src/node/commands.ts) are dispatched here too, on the same wiring.
 */
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveAuth, type CredentialInput } from './cloudflare/auth.js';
import type { Logger } from './log.js';
import { patternRedactor } from './redact.js';
import type { ParsedCommand } from './node/commands.js';
import { ConfigError, loadConfig, SERVER_FLAGS, USAGE, type CliConfig } from './node/config.js';
import { createUndiciFetch } from './node/undici-fetch.js';
import { serveStdio } from './transports/stdio.js';
import { SERVER_VERSION } from './version.js';
import { wire, type Wired } from './wiring.js';

/**
 * The shell commands (call, tools, init) are loaded only when the command line may name one: serving, the
 * common case, does not parse them (nor the SDK client they use). Any positional argument, or --help, loads them;
 * src/node/commands.ts then decides, with the real flag table, whether it is a command.
 */
type Commands = typeof import('./node/commands.js');
let commands: Commands | undefined;
async function loadCommands(): Promise<Commands> {
  commands ??= await import('./node/commands.js');
  return commands;
}
function mayNameCommand(argv: readonly string[]): boolean {
  if (argv.includes('--help') || argv.includes('-h')) return true;
  // Flag values (`--host 0.0.0.0`, `--port 8787`) are not positionals: a server start loads no commands.
  return parseArgs({ args: [...argv], options: SERVER_FLAGS, strict: false, allowPositionals: true }).positionals.length > 0;
}

interface Closable {
  /** Shutdown began: take no new sessions (HTTP), before calls in flight are drained. */
  stopAccepting?(): void;
  close(): Promise<void>;
}

/** Ready-to-paste client configs for the sandbox, so trying it takes one copy. */
function sandboxBanner(mcpUrl: string): string {
  const self = fileURLToPath(import.meta.url);
  const fromSource = self.endsWith('.ts');
  const stdioArgs = fromSource ? [createRequire(import.meta.url).resolve('tsx/cli'), self, '--sandbox'] : [self, '--sandbox'];
  const httpConfig = { mcpServers: { 'cloudflare-users-sandbox': { type: 'http', url: mcpUrl } } };
  const stdioConfig = { mcpServers: { 'cloudflare-users-sandbox': { command: process.execPath, args: stdioArgs } } };
  return [
    '',
    `cloudflare-users-mcp sandbox: demo data from a local Cloudflare API emulator (no real account is touched).`,
    `  Streamable HTTP: ${mcpUrl}`,
    `  Legacy SSE:      ${mcpUrl.replace(/\/mcp$/, '/sse')}`,
    '',
    'HTTP clients (Claude Code, Cursor, VS Code):',
    JSON.stringify(httpConfig, null, 2),
    '',
    'stdio (Claude Desktop: claude_desktop_config.json):',
    JSON.stringify(stdioConfig, null, 2),
    '',
    'Press Ctrl+C to stop.',
    '',
  ].join('\n');
}

interface Running {
  wired: Wired;
  /** Closed in order on the way out: the transport first, the network and the emulator last. */
  closables: Closable[];
}

/** The sandbox (when asked), the network and the one wiring: what serving and the shell commands share. */
async function openWiring(config: CliConfig): Promise<Running> {
  const closables: Closable[] = [];
  let credentials: CredentialInput = config.credentials;
  let baseUrl = config.baseUrl;
  let accountId = config.accountId;
  const sandboxNotes: Record<string, unknown>[] = [];

  if (config.sandbox) {
    // Loaded only on demand: the emulator is a feature of the CLI, not of the server.
    const { startEmulator } = await import('./sandbox/emulator.js');
    const emulator = await startEmulator();
    closables.push(emulator);
    credentials = { CLOUDFLARE_API_TOKEN: emulator.credentials.apiToken };
    baseUrl = emulator.baseUrl;
    accountId = emulator.accountId;
    sandboxNotes.push({ emulator: emulator.baseUrl, account_id: emulator.accountId });
  }

  const network = createUndiciFetch();
  closables.push(network);
  const wired = wire({
    settings: {
      baseUrl,
      timeoutMs: config.timeoutMs,
      maxResponseChars: config.maxResponseChars,
      maxConcurrency: config.maxConcurrency,
      resolveCacheSeconds: config.resolveCacheSeconds,
      defaultAccountId: accountId,
      readOnly: config.readOnly,
      toolNames: config.toolNames,
      toolsets: config.toolsets,
      logLevel: config.logLevel,
    },
    fetch: network.fetch,
    credentials,
    logSink: (line) => process.stderr.write(`${line}\n`),
  });
  const { logger } = wired;
  for (const notes of sandboxNotes) {
    logger.warn('sandbox mode: serving demo data from the built-in Cloudflare API emulator; no real account is used', notes);
  }
  const auth = resolveAuth(credentials);
  for (const warning of auth.warnings) logger.warn(warning);
  if (auth.kind === 'none') logger.warn(auth.message);
  return { wired, closables };
}

async function start(config: CliConfig): Promise<Running> {
  const { wired, closables } = await openWiring(config);
  const { logger } = wired;

  if (config.transport === 'http') {
    // Loaded only for --http: stdio start-up should not pay for the HTTP transports.
    const { serveHttp } = await import('./transports/http.js');
    const handle = await serveHttp({
      ...config.http,
      host: config.host,
      port: config.port,
      createServer: (session) => wired.createServer(session),
      logger,
      redactor: wired.services.redactor,
    });
    closables.unshift(handle);
    // Which checks are on, never their values.
    const endpointAuth = [config.http.bearer ? 'bearer' : '', config.http.access ? 'cloudflare-access' : ''].filter(Boolean);
    const sse = config.http.stateless ? {} : { sse: `${handle.url}/sse` };
    logger.info('listening', { mcp: `${handle.url}/mcp`, ...sse, stateless: config.http.stateless, endpoint_auth: endpointAuth.length ? endpointAuth : 'none (loopback only)' });
    if (config.sandbox) process.stderr.write(sandboxBanner(`${handle.url}/mcp`));
  } else {
    const onOversize = (bytes: number) =>
      logger.warn('discarded a JSON-RPC message over the size limit and answered it with an error', { bytes, limit: config.maxMessageBytes });
    closables.unshift(await serveStdio(wired.createServer(), { maxMessageBytes: config.maxMessageBytes, onOversize }));
    logger.info('serving MCP on stdio', { version: SERVER_VERSION, read_only: config.readOnly });
  }
  return { wired, closables };
}

/** Stop taking calls, let those in flight finish (up to the grace period), then close everything in order. */
async function shutdown(running: Running, config: CliConfig, logger: Logger, why: string): Promise<void> {
  const { wired, closables } = running;
  logger.info('shutting down', { why, calls_in_flight: wired.services.calls.size, grace_ms: config.shutdownGraceMs });
  for (const item of closables) item.stopAccepting?.();
  const cutOff = await wired.drain(config.shutdownGraceMs);
  // A call counts as done when its handler returns; the SDK writes its answer a few microtasks later. Let those
  // answers out before the transports close (a call still loading undici at EOF would otherwise lose its answer).
  await new Promise((resolve) => setImmediate(resolve));
  if (cutOff > 0) logger.warn('cut off calls still in flight after the grace period; their writes are audited with outcome unknown', { calls: cutOff });
  for (const item of closables) await item.close().catch(() => {});
}

/** A usage or config error: the message on stderr, exit 2. */
function usageExit(error: unknown): never {
  if (error instanceof ConfigError || (commands !== undefined && error instanceof commands.CommandUsageError)) {
    process.stderr.write(`cloudflare-users-mcp: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

/** call / tools: one in-process server on the same wiring, a real client on it, then everything closed. */
async function runToolCommand(command: Extract<ParsedCommand, { command: 'call' | 'tools' }>): Promise<number> {
  let config: CliConfig;
  try {
    config = loadConfig(command.serverArgv, process.env);
  } catch (error) {
    usageExit(error);
  }
  const { wired, closables } = await openWiring(config);
  const output = { stdout: (text: string) => process.stdout.write(text), stderr: (text: string) => process.stderr.write(text) };
  try {
    const server = wired.createServer();
    const { runCall, runTools } = await loadCommands();
    return command.command === 'call' ? await runCall(command, server, output) : await runTools(server, output);
  } finally {
    await wired.drain(0);
    for (const item of closables) await item.close().catch(() => {});
  }
}

async function runCommand(command: ParsedCommand): Promise<number> {
  switch (command.command) {
    case 'help':
      process.stdout.write(command.text);
      return 0;
    case 'version':
      process.stdout.write(`${SERVER_VERSION}\n`);
      return 0;
    case 'init': {
      const { InitFileError, InitUsageError, runInit } = await import('./node/init.js');
      const { CommandUsageError } = await loadCommands();
      try {
        const report = runInit(command.options, { env: process.env, platform: process.platform, homedir: homedir(), cwd: process.cwd() });
        process.stdout.write(`${report.path}\n`);
        const what = { created: 'Created', updated: 'Updated', unchanged: 'Already up to date:' }[report.outcome];
        const lines = [`${what} ${report.path}${report.backupPath ? ` (previous version saved as ${report.backupPath})` : ''}`, ...report.notes];
        process.stderr.write(lines.map((line) => `cloudflare-users-mcp init: ${line}\n`).join(''));
        return 0;
      } catch (error) {
        if (error instanceof InitFileError) {
          process.stderr.write(`cloudflare-users-mcp init: ${error.message}\n`);
          return 1;
        }
        if (error instanceof InitUsageError) usageExit(new CommandUsageError(error.message));
        throw error;
      }
    }
    case 'call':
    case 'tools':
      return runToolCommand(command);
  }
}

async function main(): Promise<void> {
  let command: ParsedCommand | undefined;
  const argv = process.argv.slice(2);
  if (mayNameCommand(argv)) {
    const { parseCommand } = await loadCommands();
    try {
      command = parseCommand(argv);
    } catch (error) {
      usageExit(error);
    }
  }
  if (command) {
    // exitCode, not exit(): stdout may be a pipe still draining the result.
    process.exitCode = await runCommand(command);
    return;
  }

  let config: CliConfig;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`cloudflare-users-mcp: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (config.help) return void process.stdout.write(`${USAGE}\n${(await loadCommands()).COMMANDS_USAGE}`);
  if (config.version) return void process.stdout.write(`${SERVER_VERSION}\n`);

  const running = await start(config);
  const { logger } = running.wired;
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    // Never hang on the way out: the grace period, then a few seconds for audits and closing.
    const forced = setTimeout(() => process.exit(0), config.shutdownGraceMs + 5_000);
    forced.unref();
    void shutdown(running, config, logger, why).then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // On stdio the client closing our stdin is the end of the session.
  if (config.transport === 'stdio') process.stdin.on('end', () => stop('stdin closed'));
}

main().catch((error: unknown) => {
  process.stderr.write(`cloudflare-users-mcp: failed to start: ${patternRedactor.text(error instanceof Error ? error.message : String(error))}\n`);
  process.exit(1);
});
