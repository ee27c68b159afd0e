/**
 * Legacy SSE (Node only: the SDK's SSE transport writes to Node's response
 * object): GET /sse opens a stream (one SDK Server per stream), POST
 * /messages?sessionId=… carries the client's messages. Plugged into the shared
 * app (src/http/app.ts), which has already checked Host/Origin, endpoint auth
 * and the credential headers, read the body under the cap and checked the
 * session's binding. Sessions share the app's SessionTable (and its cap) with
 * Streamable HTTP.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { LegacyOpen, LegacyRoutes } from '../http/app.js';
import { jsonRpcError, SERVER_ERROR } from '../http/body.js';
import type { SessionBinding } from '../http/credentials.js';
import { TransportSession, type SessionTable, type TrackedSession } from '../http/sessions.js';

/**
 * POST /messages is answered 202 as soon as the message is dispatched; the
 * result comes later on the stream. So "in flight" here means from a JSON-RPC
 * request arriving until its response is sent: a session mid tool call is
 * never evicted. The open stream alone is not in flight, or no SSE session
 * could ever be evicted.
 */
class TrackedSseTransport extends SSEServerTransport {
  private readonly pending = new Map<RequestId, () => void>();

  constructor(
    endpoint: string,
    res: ServerResponse,
    private readonly startRequest: () => () => void,
  ) {
    super(endpoint, res);
  }

  override async handleMessage(message: unknown, extra?: MessageExtraInfo): Promise<void> {
    if (isJSONRPCRequest(message)) {
      this.settle(message.id);
      this.pending.set(message.id, this.startRequest());
    }
    try {
      await super.handleMessage(message, extra);
    } catch (error) {
      if (isJSONRPCRequest(message)) this.settle(message.id);
      throw error;
    }
  }

  override async send(message: JSONRPCMessage): Promise<void> {
    try {
      await super.send(message);
    } finally {
      if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id !== undefined) this.settle(message.id);
    }
  }

  override async close(): Promise<void> {
    for (const id of [...this.pending.keys()]) this.settle(id);
    await super.close();
  }

  private settle(id: RequestId): void {
    this.pending.get(id)?.();
    this.pending.delete(id);
  }
}

export class SseSession extends TransportSession<SSEServerTransport> {
  readonly kind = 'sse';
}

interface NodeBindings {
  incoming: IncomingMessage;
  outgoing: ServerResponse;
}

/** What @hono/node-server passes as the app's env: Node's own request and response. */
export function nodeBindings(env: unknown): NodeBindings {
  if (typeof env === 'object' && env !== null && 'incoming' in env && 'outgoing' in env) {
    const { incoming, outgoing } = env;
    if (incoming instanceof IncomingMessage && outgoing instanceof ServerResponse) return { incoming, outgoing };
  }
  throw new Error('legacy SSE is served only by the Node HTTP server');
}

/**
 * Runs `done` once the response has closed. Node emits 'close' only once: a client that hung up before we
 * listened must still count as gone, or its request would stay "in flight" for ever (never evicted or swept).
 */
export function onceClosed(outgoing: ServerResponse, done: () => void): void {
  if (outgoing.closed || outgoing.destroyed) done();
  else outgoing.once('close', done);
}

export function createSseRoutes(table: SessionTable): LegacyRoutes {
  async function openStream(_request: Request, env: unknown, open: LegacyOpen): Promise<Response> {
    const { outgoing } = nodeBindings(env);
    let id = '';
    const transport = new TrackedSseTransport('/messages', outgoing, () => table.begin(id));
    id = transport.sessionId;
    const server = open.createServer();
    const session = new SseSession(transport, server, open.binding);
    if (!table.add(id, session)) {
      void server.close();
      return jsonRpcError(503, SERVER_ERROR, 'Every session is busy; retry shortly', { 'retry-after': '1' });
    }
    // The session ends with its stream, whichever side closes it.
    transport.onclose = () => table.remove(id);
    onceClosed(outgoing, () => void session.close());
    try {
      await server.connect(transport);
    } catch (error) {
      table.remove(id);
      void session.close();
      throw error;
    }
    // The transport wrote the stream's headers and keeps writing to Node's response itself.
    return RESPONSE_ALREADY_SENT;
  }

  async function postMessage(_request: Request, env: unknown, session: TrackedSession, body: unknown): Promise<Response> {
    if (!(session instanceof SseSession)) return jsonRpcError(404, SERVER_ERROR, 'Unknown or expired SSE session: open GET /sse again');
    const { incoming, outgoing } = nodeBindings(env);
    onceClosed(outgoing, table.begin(session.transport.sessionId));
    await session.transport.handlePostMessage(incoming, outgoing, body);
    return RESPONSE_ALREADY_SENT;
  }

  return { openStream, postMessage };
}
