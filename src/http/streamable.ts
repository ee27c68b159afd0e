/**
 * Streamable HTTP on /mcp with the SDK's web-standard transport, the same
 * code on Node and Workers.
 *
 * - stateful: one Server and transport per session, kept in the shared SessionTable; the session is bound
 *   to the credentials and caller of its initialize (SessionBinding).
 * - stateless (--stateless, Workers): a fresh Server and transport per POST, no Mcp-Session-Id, so any
 *   replica can answer any request; nothing can be asked of the client (no elicitation).
 *
 * Host/Origin, endpoint auth and the credential headers are checked by the app (app.ts) before this runs.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { jsonRpcError, readJsonBody, SERVER_ERROR, SESSION_NOT_FOUND } from './body.js';
import { SessionBinding, sessionServerOptions, type RequestCredentials, type ServerFactory } from './credentials.js';
import { TransportSession, type SessionTable, type TrackedSession } from './sessions.js';

/** One request to /mcp, past the app's checks. */
export interface McpCall {
  request: Request;
  credentials: RequestCredentials;
  /** The caller endpoint auth verified (Access email), if any. */
  actor: string | undefined;
  /** Calls `done` once `response` has been sent, or the client went away (its in-flight time ends then). */
  settle(response: Response, done: () => void): Response;
}

export type McpHandler = (call: McpCall) => Promise<Response>;

export interface StreamableOptions {
  createServer: ServerFactory;
  maxBodyBytes: number;
  /** False once shutdown began: no new session (or stateless request) is started. */
  accepting: () => boolean;
  /** Marks a stateless answer in flight until it has been written; call the returned function then. */
  begin: () => () => void;
}

export class StreamableSession extends TransportSession<WebStandardStreamableHTTPServerTransport> {
  readonly kind = 'streamable';
}

export function shuttingDown(): Response {
  return jsonRpcError(503, SERVER_ERROR, 'The server is shutting down; connect again', { 'retry-after': '1' });
}

export function rebindRefused(): Response {
  return jsonRpcError(
    403,
    SERVER_ERROR,
    'Forbidden: this session is bound to the credentials (and caller) it was initialized with, and this request carries others. Nothing was sent to Cloudflare. Open a new session for other credentials.',
  );
}

const NO_SESSION = 'Bad Request: no session; send an initialize request first';

export function statefulMcp(options: StreamableOptions & { table: SessionTable }): McpHandler {
  const { table } = options;

  /** A POST is in flight until its (streamed) answer ends; a GET stream only counts as use, or it could never be evicted. */
  async function handleExisting(call: McpCall, id: string, session: StreamableSession): Promise<Response> {
    const { request } = call;
    const done = table.begin(id);
    try {
      if (request.method !== 'POST') {
        done();
        return await session.transport.handleRequest(request);
      }
      const read = await readJsonBody(request, options.maxBodyBytes);
      if (!read.ok) {
        done();
        return read.response;
      }
      return call.settle(await session.transport.handleRequest(request, { parsedBody: read.value }), done);
    } catch (error) {
      done();
      throw error;
    }
  }

  async function openSession(body: unknown, call: McpCall): Promise<Response> {
    const { request } = call;
    // Our own id, so the session is in the table (and counted against the cap) before the SDK answers.
    const id = crypto.randomUUID();
    const server = options.createServer(sessionServerOptions(call.credentials, call.actor, true));
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: () => id });
    const session = new StreamableSession(transport, server, SessionBinding.of(call.credentials, call.actor));
    if (!table.add(id, session)) {
      void server.close();
      return jsonRpcError(503, SERVER_ERROR, 'Every session is busy; retry shortly', { 'retry-after': '1' });
    }
    // Set before connect(): the SDK chains its own handler after ours.
    transport.onclose = () => {
      table.remove(id);
      void server.close();
    };
    const done = table.begin(id);
    try {
      await server.connect(transport);
      const response = await transport.handleRequest(request, { parsedBody: body });
      if (transport.sessionId !== undefined) return call.settle(response, done);
      // The SDK refused the initialize (e.g. a bad Accept header): no client knows this id.
      done();
      table.remove(id);
      await session.close();
      return response;
    } catch (error) {
      done();
      table.remove(id);
      await session.close();
      throw error;
    }
  }

  return async (call) => {
    const { request } = call;
    const id = request.headers.get('mcp-session-id');
    if (id !== null) {
      const session = table.get(id);
      if (!(session instanceof StreamableSession)) return jsonRpcError(404, SESSION_NOT_FOUND, 'Unknown or expired session: reinitialize');
      if (!session.binding.admits(call.credentials, call.actor)) return rebindRefused();
      return handleExisting(call, id, session);
    }
    if (request.method !== 'POST') return jsonRpcError(400, SERVER_ERROR, NO_SESSION);
    const read = await readJsonBody(request, options.maxBodyBytes);
    if (!read.ok) return read.response;
    if (!isInitializeRequest(read.value)) return jsonRpcError(400, SERVER_ERROR, NO_SESSION);
    if (!options.accepting()) return shuttingDown();
    return openSession(read.value, call);
  };
}

export function statelessMcp(options: StreamableOptions): McpHandler {
  return async (call) => {
    const { request } = call;
    // No session, so no stream for server-initiated messages (GET) and nothing to end (DELETE).
    if (request.method !== 'POST') {
      return jsonRpcError(405, SERVER_ERROR, 'Method not allowed: this server is stateless; POST JSON-RPC messages to /mcp', { allow: 'POST' });
    }
    const read = await readJsonBody(request, options.maxBodyBytes);
    if (!read.ok) return read.response;
    if (!options.accepting()) return shuttingDown();
    const server = options.createServer(sessionServerOptions(call.credentials, call.actor, false));
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const done = options.begin();
    let released = false;
    // Both live exactly as long as this one answer.
    const release = () => {
      if (released) return;
      released = true;
      done();
      void transport.close().then(() => server.close());
    };
    try {
      await server.connect(transport);
      return call.settle(await transport.handleRequest(request, { parsedBody: read.value }), release);
    } catch (error) {
      release();
      throw error;
    }
  };
}
