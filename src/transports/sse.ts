/**
 * Legacy SSE: GET /sse opens a stream (one SDK Server per stream), POST
 * /messages?sessionId=… carries the client's messages. Sessions share the
 * SessionTable (and its cap) with Streamable HTTP.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
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
import { readJsonBody, sendBodyError, sendJsonRpcError, SERVER_ERROR } from './http-guards.js';
import type { SessionTable, TrackedSession } from './http-sessions.js';

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

export class SseSession implements TrackedSession {
  readonly kind = 'sse';
  constructor(
    readonly transport: SSEServerTransport,
    readonly server: Server,
  ) {}

  private closing: Promise<void> | undefined;

  /** Idempotent: eviction, the stream's end and shutdown may all ask. */
  close(): Promise<void> {
    this.closing ??= this.transport.close().then(() => this.server.close());
    return this.closing;
  }
}

export interface SseOptions {
  table: SessionTable;
  createServer: () => Server;
  maxBodyBytes: number;
}

export interface SseHandlers {
  /** GET /sse */
  openStream(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** POST /messages?sessionId=… */
  postMessage(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
}

export function createSseHandlers(options: SseOptions): SseHandlers {
  const { table } = options;

  async function openStream(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    let id = '';
    const transport = new TrackedSseTransport('/messages', res, () => table.begin(id));
    id = transport.sessionId;
    const server = options.createServer();
    const session = new SseSession(transport, server);
    if (!table.add(id, session)) {
      return sendJsonRpcError(res, 503, SERVER_ERROR, 'Every session is busy; retry shortly');
    }
    // The session ends with its stream, whichever side closes it.
    transport.onclose = () => table.remove(id);
    res.once('close', () => void session.close());
    try {
      await server.connect(transport);
    } catch (error) {
      table.remove(id);
      void session.close();
      throw error;
    }
  }

  async function postMessage(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const id = url.searchParams.get('sessionId') ?? '';
    const session = table.get(id);
    if (!(session instanceof SseSession)) {
      return sendJsonRpcError(res, 404, SERVER_ERROR, 'Unknown or expired SSE session: open GET /sse again');
    }
    res.once('close', table.begin(id));
    // Read and capped here: given no body, the SDK would read up to 4 MB itself.
    const read = await readJsonBody(req, options.maxBodyBytes);
    if (!read.ok) return sendBodyError(res, read);
    // The SDK reads the request itself when the parsed body is null or undefined; it is already consumed.
    if (read.value === null) return sendJsonRpcError(res, 400, -32600, 'Invalid Request: the body is null');
    await session.transport.handlePostMessage(req, res, read.value);
  }

  return { openStream, postMessage };
}
