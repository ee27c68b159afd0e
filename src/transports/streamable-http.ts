/**
 * Streamable HTTP on /mcp, stateful: one SDK Server and transport per session,
 * kept in the shared SessionTable. Host/Origin and body size are checked
 * before anything here runs (http.ts, http-guards.ts).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { readJsonBody, sendBodyError, sendJsonRpcError, SERVER_ERROR } from './http-guards.js';
import type { SessionTable, TrackedSession } from './http-sessions.js';

/** The SDK's code for an unknown session (its own 404s use it too). */
const SESSION_NOT_FOUND = -32001;

export class StreamableSession implements TrackedSession {
  readonly kind = 'streamable';
  constructor(
    readonly transport: StreamableHTTPServerTransport,
    readonly server: Server,
  ) {}

  private closing: Promise<void> | undefined;

  /** Idempotent: eviction, the stream's end and shutdown may all ask. */
  close(): Promise<void> {
    this.closing ??= this.transport.close().then(() => this.server.close());
    return this.closing;
  }
}

export interface StreamableHttpOptions {
  table: SessionTable;
  createServer: () => Server;
  maxBodyBytes: number;
}

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function createStreamableHttpHandler(options: StreamableHttpOptions): HttpHandler {
  const { table } = options;

  async function handleExisting(req: IncomingMessage, res: ServerResponse, id: string, session: StreamableSession): Promise<void> {
    // A POST is in flight until its response ends (it streams the JSON-RPC answer). The GET stream for
    // server notifications stays open indefinitely, so it only counts as use, or the session could never be evicted.
    const done = table.begin(id);
    if (req.method !== 'POST') {
      done();
      return session.transport.handleRequest(req, res);
    }
    res.once('close', done);
    const read = await readJsonBody(req, options.maxBodyBytes);
    if (!read.ok) return sendBodyError(res, read);
    await session.transport.handleRequest(req, res, read.value);
  }

  async function openSession(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    // Our own id, so the session is in the table (and counted against the cap) before the SDK answers.
    const id = randomUUID();
    const server = options.createServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => id });
    const session = new StreamableSession(transport, server);
    if (!table.add(id, session)) {
      return sendJsonRpcError(res, 503, SERVER_ERROR, 'Every session is busy; retry shortly');
    }
    transport.onclose = () => {
      table.remove(id);
      void server.close();
    };
    res.once('close', table.begin(id));
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    } finally {
      // The SDK refused the initialize (e.g. a bad Accept header) or failed: no client knows this id.
      if (transport.sessionId === undefined) {
        table.remove(id);
        await session.close();
      }
    }
  }

  return async (req, res) => {
    const header = req.headers['mcp-session-id'];
    const id = Array.isArray(header) ? header[0] : header;
    if (id !== undefined) {
      const session = table.get(id);
      if (session instanceof StreamableSession) return handleExisting(req, res, id, session);
      return sendJsonRpcError(res, 404, SESSION_NOT_FOUND, 'Unknown or expired session: reinitialize');
    }
    if (req.method !== 'POST') {
      return sendJsonRpcError(res, 400, SERVER_ERROR, 'Bad Request: no session; send an initialize request first');
    }
    const read = await readJsonBody(req, options.maxBodyBytes);
    if (!read.ok) return sendBodyError(res, read);
    if (!isInitializeRequest(read.value)) {
      return sendJsonRpcError(res, 400, SERVER_ERROR, 'Bad Request: no session; send an initialize request first');
    }
    await openSession(req, res, read.value);
  };
}
