#!/usr/bin/env node
/**
 * CLI entry: the Node edge. Reads argv and the environment, optionally starts
 * the sandbox emulator, wires the undici fetch into the client, and serves the
 * one createServer() over stdio or HTTP.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { resolveAuth, type CredentialInput } from './cloudflare/auth.js';
import { CloudflareClient } from './cloudflare/client.js';
import { createLogger, type Logger } from './log.js';
import { redactText } from './redact.js';
import { ConfigError, loadConfig, USAGE, type CliConfig } from './node/config.js';
import { createUndiciFetch } from './node/undici-fetch.js';
import { createServer } from './server.js';
import type { ToolDeps } from './tools/index.js';
import { serveStdio } from './transports/stdio.js';
import { SERVER_NAME, SERVER_VERSION } from './version.js';

interface Closable {
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

async function start(config: CliConfig, logger: Logger): Promise<Closable[]> {
  const closables: Closable[] = [];
  let credentials: CredentialInput = config.credentials;
  let baseUrl = config.baseUrl;
  let accountId = config.accountId;

  if (config.sandbox) {
    // Loaded only on demand: the emulator is a feature of the CLI, not of the server.
    const { startEmulator } = await import('./sandbox/emulator.js');
    const emulator = await startEmulator();
    closables.push(emulator);
    credentials = { CLOUDFLARE_API_TOKEN: emulator.credentials.apiToken };
    baseUrl = emulator.baseUrl;
    accountId = emulator.accountId;
    logger.warn('sandbox mode: serving demo data from the built-in Cloudflare API emulator; no real account is used', {
      emulator: emulator.baseUrl,
      account_id: emulator.accountId,
    });
  }

  const auth = resolveAuth(credentials);
  for (const warning of auth.warnings) logger.warn(warning);
  if (auth.kind === 'none') logger.warn(auth.message);

  const network = createUndiciFetch();
  closables.push(network);
  const client = new CloudflareClient({
    baseUrl,
    fetch: network.fetch,
    timeoutMs: config.timeoutMs,
    logger,
    userAgent: `${SERVER_NAME}/${SERVER_VERSION}`,
  });
  const deps: ToolDeps = { client, auth, defaultAccountId: accountId, maxResponseChars: config.maxResponseChars, logger };
  const makeServer = () => createServer(deps, { readOnly: config.readOnly });

  if (config.transport === 'http') {
    // Loaded only for --http: stdio start-up should not pay for the HTTP transports.
    const { serveHttp } = await import('./transports/http.js');
    const handle = await serveHttp({ host: config.host, port: config.port, createServer: makeServer, logger });
    closables.unshift(handle);
    logger.info('listening', { mcp: `${handle.url}/mcp`, sse: `${handle.url}/sse` });
    if (config.sandbox) process.stderr.write(sandboxBanner(`${handle.url}/mcp`));
  } else {
    closables.unshift(await serveStdio(makeServer()));
    logger.info('serving MCP on stdio', { version: SERVER_VERSION, read_only: config.readOnly });
  }
  return closables;
}

async function main(): Promise<void> {
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
  if (config.help) return void process.stdout.write(USAGE);
  if (config.version) return void process.stdout.write(`${SERVER_VERSION}\n`);

  const logger = createLogger((line) => process.stderr.write(`${line}\n`), config.logLevel);
  const closables = await start(config, logger);

  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { why });
    // Close in order (transport first), and never hang on the way out.
    const forced = setTimeout(() => process.exit(0), 3_000);
    forced.unref();
    void closables
      .reduce<Promise<unknown>>((previous, item) => previous.then(() => item.close().catch(() => {})), Promise.resolve())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // On stdio the client closing our stdin is the end of the session.
  if (config.transport === 'stdio') process.stdin.on('end', () => stop('stdin closed'));
}

main().catch((error: unknown) => {
  process.stderr.write(`cloudflare-users-mcp: failed to start: ${redactText(error instanceof Error ? error.message : String(error))}\n`);
  process.exit(1);
});
