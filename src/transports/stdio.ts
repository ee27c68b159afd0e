/**
 * stdio: stdout carries only JSON-RPC; everything else goes to stderr through the logger.
 *
 * Our own transport instead of the SDK's StdioServerTransport: past its 10 MiB
 * buffer the SDK's closes itself, which pauses stdin, and Node then exits 0
 * as if the session had ended normally. Here an oversized line is skipped
 * without being buffered, answered with a JSON-RPC error, and reading goes on.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, JSONRPCMessageSchema, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';

export const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export interface StdioTransportOptions {
  stdin?: Readable;
  stdout?: Writable;
  /** Longest accepted line in bytes, without its newline. Default 10 MiB. */
  maxMessageBytes?: number;
  /** Called once per discarded oversized line with its size in bytes (the CLI logs it to stderr). */
  onOversize?: (bytes: number) => void;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/** How much of an oversized line's start and end we keep to find its request id. */
const ID_PROBE_BYTES = 256;

const ID = String.raw`(-?\d+|"(?:[^"\\]|\\.)*")`;
/** `{"jsonrpc":"2.0","id":7,"method":…`: the order most clients (and the spec's examples) use. */
const ID_FIRST = new RegExp(String.raw`^\s*\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*${ID}\s*,\s*"method"\s*:`);
/** The TypeScript SDK writes `{"method":…,"params":…,"jsonrpc":"2.0","id":7}`: the id is at the very end. */
const METHOD_FIRST = /^\s*\{\s*"method"\s*:\s*"/;
const ID_LAST = new RegExp(String.raw`,\s*"id"\s*:\s*${ID}\s*\}\s*$`);

/**
 * The request id of a line we did not read in full, from its first and last
 * bytes, only when the line is clearly a request: answering a client's
 * (response) message with its id would fail the client's own request of that id.
 */
export function recoverRequestId(head: Buffer, tail: Buffer): RequestId | null {
  const start = head.toString('utf8');
  const match = ID_FIRST.exec(start) ?? (METHOD_FIRST.test(start) ? ID_LAST.exec(tail.toString('utf8')) : null);
  return match?.[1] === undefined ? null : parseId(match[1]);
}

function parseId(token: string): RequestId | null {
  try {
    const id: unknown = JSON.parse(token);
    return typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)) ? id : null;
  } catch {
    return null;
  }
}

/** A copy of the last `count` bytes of a list of buffers, touching only the buffers needed. */
function lastBytes(buffers: Buffer[], count: number): Buffer {
  const picked: Buffer[] = [];
  let total = 0;
  for (let i = buffers.length - 1; i >= 0 && total < count; i--) {
    const buffer = buffers[i]!;
    picked.unshift(buffer);
    total += buffer.length;
  }
  const joined = Buffer.concat(picked);
  return Buffer.from(joined.subarray(Math.max(0, joined.length - count)));
}

/** The id of a parsed but invalid message, when it is a request (has a method); see recoverRequestId. */
function requestIdOf(value: unknown): RequestId | null {
  if (typeof value !== 'object' || value === null || !('method' in value) || typeof value.method !== 'string') return null;
  const id = 'id' in value ? value.id : undefined;
  return typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)) ? id : null;
}

/**
 * Newline-delimited JSON-RPC over a pair of streams, with a hard cap on line
 * size. Bytes are split on '\n' before decoding, so a UTF-8 character cut
 * across chunks is never decoded in halves.
 */
export class BoundedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly stdin: Readable;
  private readonly stdout: Writable;
  private readonly maxMessageBytes: number;
  private readonly onOversize: ((bytes: number) => void) | undefined;

  /** The unfinished line so far, as received (concatenated only once its newline arrives). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Set while skipping the rest of an oversized line. */
  private discarding = false;
  private discardedBytes = 0;
  private discardHead: Buffer = Buffer.alloc(0);
  private discardTail: Buffer = Buffer.alloc(0);

  private started = false;
  private closed = false;

  constructor(options: StdioTransportOptions = {}) {
    this.stdin = options.stdin ?? process.stdin;
    this.stdout = options.stdout ?? process.stdout;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.onOversize = options.onOversize;
    this.handleData = this.handleData.bind(this);
    this.handleStreamError = this.handleStreamError.bind(this);
  }

  /** Bytes of the unfinished line held in memory; never more than maxMessageBytes. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('BoundedStdioTransport already started (Server.connect() starts it)');
    this.started = true;
    this.stdin.on('data', this.handleData);
    this.stdin.on('error', this.handleStreamError);
    // stdin 'end' is deliberately not handled: what EOF means is the CLI's decision.
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.writeLine(serializeMessage(message));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off('data', this.handleData);
    this.stdin.off('error', this.handleStreamError);
    // Stop the flow only if nobody else reads stdin, so the process can exit once we are done.
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.resetLine();
    this.onclose?.();
  }

  private handleData(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (let newline = bytes.indexOf(NEWLINE); newline !== -1; newline = bytes.indexOf(NEWLINE, start)) {
      this.finishLine(bytes.subarray(start, newline));
      start = newline + 1;
      if (this.closed) return; // a handler closed us mid-chunk
    }
    if (start < bytes.length) this.appendPartial(bytes.subarray(start));
  }

  private handleStreamError(error: Error): void {
    this.onerror?.(error);
  }

  /** A piece of a line whose newline has not arrived yet. */
  private appendPartial(piece: Buffer): void {
    if (this.discarding) return this.skip(piece);
    if (this.pendingBytes + piece.length > this.maxMessageBytes) return this.startDiscarding(piece);
    // A copy: a subarray would keep the whole (possibly large) chunk alive.
    this.pending.push(Buffer.from(piece));
    this.pendingBytes += piece.length;
  }

  /** The last piece of a line (its newline just arrived). */
  private finishLine(piece: Buffer): void {
    if (!this.discarding && this.pendingBytes + piece.length <= this.maxMessageBytes) {
      const line = this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece]);
      this.resetLine();
      return this.handleLine(line);
    }
    if (this.discarding) this.skip(piece);
    else this.startDiscarding(piece);
    const { discardedBytes, discardHead, discardTail } = this;
    this.resetLine();
    this.rejectOversize(discardedBytes, recoverRequestId(discardHead, discardTail));
  }

  /** Drops what was buffered of this line, keeping only its first and last bytes (for the request id). */
  private startDiscarding(piece: Buffer): void {
    const seen = [...this.pending, piece];
    // concat with a total length copies only that many bytes, not the whole buffered line.
    this.discardHead = Buffer.concat(seen, Math.min(ID_PROBE_BYTES, this.pendingBytes + piece.length));
    this.discardTail = lastBytes(this.pending, ID_PROBE_BYTES);
    this.discardedBytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.discarding = true;
    this.skip(piece);
  }

  /** Counts skipped bytes and keeps the last few (the TypeScript SDK puts the id last). */
  private skip(piece: Buffer): void {
    this.discardedBytes += piece.length;
    const tail = piece.length >= ID_PROBE_BYTES ? piece : Buffer.concat([this.discardTail, piece]);
    this.discardTail = Buffer.from(tail.subarray(Math.max(0, tail.length - ID_PROBE_BYTES)));
  }

  private resetLine(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.discarding = false;
    this.discardedBytes = 0;
    this.discardHead = Buffer.alloc(0);
    this.discardTail = Buffer.alloc(0);
  }

  private rejectOversize(bytes: number, id: RequestId | null): void {
    this.reply(id, ErrorCode.InvalidRequest, `Message too large: over ${this.maxMessageBytes} bytes; it was discarded. Send smaller messages.`);
    this.onOversize?.(bytes);
  }

  private handleLine(raw: Buffer): void {
    const line = raw.length > 0 && raw[raw.length - 1] === CARRIAGE_RETURN ? raw.subarray(0, -1) : raw;
    const text = line.toString('utf8');
    if (text.trim() === '') return; // blank lines between messages are harmless
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
      return this.reply(null, ErrorCode.ParseError, 'Parse error: the line is not valid JSON.');
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (!parsed.success) {
      // JSON-RPC 2.0: valid JSON that is not a valid message is an Invalid Request, not a parse error.
      this.onerror?.(new Error(`invalid JSON-RPC message: ${parsed.error.message}`));
      return this.reply(requestIdOf(value), ErrorCode.InvalidRequest, 'Invalid Request: the line is JSON but not a JSON-RPC 2.0 message.');
    }
    try {
      this.onmessage?.(parsed.data);
    } catch (error) {
      // A throwing handler must not stop us reading the next line.
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** An error response written directly: JSONRPCMessage has no `id: null`, which JSON-RPC requires when the id is unknown. */
  private reply(id: RequestId | null, code: number, message: string): void {
    const line = `${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`;
    this.writeLine(line).catch((error: unknown) => this.onerror?.(error instanceof Error ? error : new Error(String(error))));
  }

  /** Resolves once the line is handed to the OS, waiting for 'drain' when the pipe is full (once() rejects on 'error'). */
  private async writeLine(line: string): Promise<void> {
    if (!this.stdout.write(line)) await once(this.stdout, 'drain');
  }
}

export type ServeStdioOptions = StdioTransportOptions;

export async function serveStdio(server: Server, options: ServeStdioOptions = {}): Promise<{ close(): Promise<void> }> {
  const transport = new BoundedStdioTransport(options);
  await server.connect(transport);
  return { close: () => server.close() };
}
