/**
 * HTTP transports on one node:http server:
 *   /mcp            Streamable HTTP, stateful (one server + transport per session)
 *   GET /sse        legacy SSE stream, POST /messages?sessionId=… its messages
 * Both build their Server from the same factory. Host and Origin headers
 * are checked against loopback names by the SDK (DNS-rebinding protection).
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log.js';

export interface HttpOptions {
  host: string;
  port: number;
  createServer: () => Server;
  logger: Logger;
  /** Request body cap for POSTs (JSON-RPC messages are small). */
  maxBodyBytes?: number;
  /** Streamable HTTP sessions unused this long are closed (clients that never send DELETE). Default 30 min. */
  sessionIdleMs?: number;
  /** At most this many Streamable HTTP sessions at once; a new one beyond it gets 503. Default 100. */
  maxSessions?: number;
}

export interface HttpHandle {
  /** Base URL, e.g. http://127.0.0.1:8787 */
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** Host header values (host:port, matched exactly by the SDK) and Origins we accept. */
export function allowedHostsFor(host: string, port: number): { hosts: string[]; origins: string[] } {
  const names = new Set(LOOPBACK_NAMES);
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  if (!['0.0.0.0', '[::]', '::'].includes(host)) names.add(bracketed);
  const hosts = [...names].map((name) => `${name}:${port}`);
  const origins = hosts.flatMap((h) => [`http://${h}`, `https://${h}`]);
  return { hosts, origins };
}

class BodyTooLargeError extends Error {}

async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) throw new BodyTooLargeError();
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

function sendJsonRpcError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

export async function serveHttp(options: HttpOptions): Promise<HttpHandle> {
  const { logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const sessionIdleMs = options.sessionIdleMs ?? 30 * 60_000;
  const maxSessions = options.maxSessions ?? 100;
  const streamable = new Map<string, { transport: StreamableHTTPServerTransport; server: Server; lastUsed: number }>();
  const sse = new Map<string, { transport: SSEServerTransport; server: Server }>();
  let guard = { hosts: [] as string[], origins: [] as string[] };
  const protection = () => ({ enableDnsRebindingProtection: true, allowedHosts: guard.hosts, allowedOrigins: guard.origins });

  async function handleStreamable(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionHeader = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader;
    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = await readJsonBody(req, maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) return sendJsonRpcError(res, 413, 'Request body too large');
        return sendJsonRpcError(res, 400, 'Parse error: body is not valid JSON');
      }
    }
    const existing = sessionId ? streamable.get(sessionId) : undefined;
    if (existing) {
      existing.lastUsed = Date.now();
      return existing.transport.handleRequest(req, res, body);
    }
    if (sessionId) return sendJsonRpcError(res, 404, 'Unknown or expired session: reinitialize');
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      return sendJsonRpcError(res, 400, 'Bad Request: no session; send an initialize request first');
    }
    if (streamable.size >= maxSessions) {
      return sendJsonRpcError(res, 503, `Too many open sessions (${maxSessions}); close one (DELETE /mcp) or retry later`);
    }
    const server = options.createServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        streamable.set(id, { transport, server, lastUsed: Date.now() });
      },
      ...protection(),
    });
    transport.onclose = () => {
      if (transport.sessionId) streamable.delete(transport.sessionId);
      void server.close();
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  async function handleSseStream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const transport = new SSEServerTransport('/messages', res, protection());
    const server = options.createServer();
    sse.set(transport.sessionId, { transport, server });
    res.on('close', () => {
      sse.delete(transport.sessionId);
      void server.close();
    });
    await server.connect(transport);
  }

  async function handleSseMessage(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const entry = sse.get(url.searchParams.get('sessionId') ?? '');
    if (!entry) return sendJsonRpcError(res, 404, 'Unknown SSE session: open GET /sse first');
    await entry.transport.handlePostMessage(req, res);
  }

  const httpServer = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // The SDK checks Host/Origin on MCP messages; the SSE stream (GET /sse) is opened before any message,
    // so the same check runs here too, for every path.
    const origin = req.headers.origin;
    if (!guard.hosts.includes(req.headers.host ?? '') || (origin !== undefined && !guard.origins.includes(origin))) {
      return sendJsonRpcError(res, 403, 'Forbidden: Host or Origin is not a loopback name of this server');
    }
    const route = async () => {
      if (url.pathname === '/mcp') return handleStreamable(req, res);
      if (url.pathname === '/sse' && req.method === 'GET') return handleSseStream(req, res);
      if (url.pathname === '/messages' && req.method === 'POST') return handleSseMessage(req, res, url);
      if (url.pathname === '/healthz' && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"ok":true}');
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'Not found. MCP endpoints: /mcp (Streamable HTTP), /sse + /messages (legacy SSE)' }));
    };
    route().catch((error: unknown) => {
      logger.error('http request failed', { path: url.pathname, error: error instanceof Error ? error.message : String(error) });
      sendJsonRpcError(res, 500, 'Internal server error');
    });
  });

  // Sessions whose client vanished without DELETE would otherwise live as long as the process.
  const sweeper = setInterval(() => {
    const idleSince = Date.now() - sessionIdleMs;
    for (const [id, entry] of streamable) {
      if (entry.lastUsed >= idleSince) continue;
      streamable.delete(id);
      logger.info('closing idle session', { session: id });
      void entry.transport.close().then(() => entry.server.close());
    }
  }, Math.min(60_000, Math.max(10, Math.floor(sessionIdleMs / 2))));
  sweeper.unref();

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  guard = allowedHostsFor(options.host, port);
  const displayHost = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${displayHost}:${port}`,
    port,
    async close() {
      clearInterval(sweeper);
      const sessions = [...streamable.values(), ...sse.values()];
      streamable.clear();
      sse.clear();
      await Promise.allSettled(sessions.map(({ transport, server }) => transport.close().then(() => server.close())));
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
