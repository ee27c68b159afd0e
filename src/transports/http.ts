/**
 * HTTP transports on one node:http server:
 *   /mcp            Streamable HTTP, stateful (streamable-http.ts)
 *   GET /sse        legacy SSE stream, POST /messages?sessionId=… its messages (sse.ts)
 * Both build their Server from the same factory and share one session table
 * (http-sessions.ts) and its cap. Host/Origin is checked here, once, for every
 * path (http-guards.ts); the SDK transports' own, deprecated check is not used.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as NodeHttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Logger } from '../log.js';
import { allowedHostsFor, isAllowedHostAndOrigin, sendJsonRpcError, SERVER_ERROR, type AllowedHosts } from './http-guards.js';
import { SessionTable } from './http-sessions.js';
import { createSseHandlers, type SseHandlers } from './sse.js';
import { createStreamableHttpHandler, type HttpHandler } from './streamable-http.js';

export { allowedHostsFor } from './http-guards.js';

export interface HttpOptions {
  host: string;
  port: number;
  createServer: () => Server;
  logger: Logger;
  /** Request body cap for POST /mcp and POST /messages (JSON-RPC messages are small). Default 1 MiB. */
  maxBodyBytes?: number;
  /** Sessions (either transport) with nothing in flight unused this long are closed. Default 30 min. */
  sessionIdleMs?: number;
  /**
   * At most this many sessions at once, Streamable HTTP and SSE together. Beyond it the least recently
   * used idle session is closed; only if every session is busy does a new one get 503. Default 100.
   */
  maxSessions?: number;
}

export interface HttpHandle {
  /** Base URL, e.g. http://127.0.0.1:8787 */
  url: string;
  port: number;
  close(): Promise<void>;
}

interface Routes {
  streamable: HttpHandler;
  sse: SseHandlers;
}

const NOT_FOUND = JSON.stringify({ error: 'Not found. MCP endpoints: /mcp (Streamable HTTP), /sse + /messages (legacy SSE)' });

function route(routes: Routes, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (url.pathname === '/mcp') return routes.streamable(req, res);
  if (url.pathname === '/sse' && req.method === 'GET') return routes.sse.openStream(req, res);
  if (url.pathname === '/messages' && req.method === 'POST') return routes.sse.postMessage(req, res, url);
  const found = url.pathname === '/healthz' && req.method === 'GET';
  res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
  res.end(found ? '{"ok":true}' : NOT_FOUND);
  return Promise.resolve();
}

function listen(server: NodeHttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function serveHttp(options: HttpOptions): Promise<HttpHandle> {
  const { logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const sessionIdleMs = options.sessionIdleMs ?? 30 * 60_000;
  const table = new SessionTable({ maxSessions: options.maxSessions ?? 100, idleMs: sessionIdleMs, logger });
  const shared = { table, createServer: options.createServer, maxBodyBytes };
  const routes: Routes = { streamable: createStreamableHttpHandler(shared), sse: createSseHandlers(shared) };
  // Empty until the port is known: nothing is accepted before then.
  let allowed: AllowedHosts = { hosts: [], origins: [] };

  const httpServer = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!isAllowedHostAndOrigin(req, allowed)) {
      return sendJsonRpcError(res, 403, SERVER_ERROR, 'Forbidden: Host or Origin is not a loopback name of this server');
    }
    route(routes, req, res, url).catch((error: unknown) => {
      logger.error('http request failed', { path: url.pathname, error: error instanceof Error ? error.message : String(error) });
      sendJsonRpcError(res, 500, SERVER_ERROR, 'Internal server error');
    });
  });

  // Sessions whose client vanished without closing would otherwise live as long as the process.
  const sweeper = setInterval(() => table.sweep(), Math.min(60_000, Math.max(10, Math.floor(sessionIdleMs / 2))));
  sweeper.unref();

  let port: number;
  try {
    port = await listen(httpServer, options.port, options.host);
  } catch (error) {
    clearInterval(sweeper);
    throw error;
  }
  allowed = allowedHostsFor(options.host, port);
  const displayHost = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${displayHost}:${port}`,
    port,
    async close() {
      clearInterval(sweeper);
      await table.closeAll();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
