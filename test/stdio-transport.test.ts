/**
 * The bounded stdio transport: oversized and malformed lines are answered and
 * skipped, never the end of the session. In memory over PassThrough streams,
 * plus one spawned CLI for the real process.
 */
import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { BoundedStdioTransport, recoverRequestId, type StdioTransportOptions } from '../src/transports/stdio.js';
import { cleanEnv, SOURCE_ENTRY, spawnServer, stop, type Spawned } from './helpers/spawn.js';

const MB = 1024 * 1024;
const TOO_LARGE = `Message too large: over ${10 * MB} bytes; it was discarded. Send smaller messages.`;

interface Reply {
  jsonrpc: string;
  id: string | number | null;
  result?: { tools?: unknown[]; content?: Array<{ text: string }> };
  error?: { code: number; message: string };
}

/** A trivial server (not the project's core): one echo tool. */
function makeServer(): Server {
  const server = new Server({ name: 't', version: '1' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'echo', inputSchema: { type: 'object' as const } }] }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => ({
    content: [{ type: 'text' as const, text: String(request.params.arguments?.text ?? '') }],
  }));
  return server;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** Our transport between two PassThrough streams, the server connected, stdout parsed line by line. */
async function connectRaw(options: StdioTransportOptions = {}) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const transport = new BoundedStdioTransport({ stdin, stdout, ...options });
  const server = makeServer();
  await server.connect(transport);
  closers.push(() => server.close());
  const replies: Reply[] = [];
  let partial = '';
  stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) replies.push(JSON.parse(line) as Reply);
  });
  const send = (message: object) => stdin.write(`${JSON.stringify(message)}\n`);
  const waitFor = async (predicate: (reply: Reply) => boolean): Promise<Reply> => {
    for (let i = 0; i < 2_000; i++) {
      const found = replies.find(predicate);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`no matching reply; got ${JSON.stringify(replies)}`);
  };
  const initialize = async () => {
    send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    await waitFor((reply) => reply.id === 0);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  };
  return { stdin, stdout, transport, replies, send, waitFor, initialize };
}

describe('BoundedStdioTransport in memory', () => {
  it('carries a real SDK Client session; an oversized call fails with -32600 and the next request works', async () => {
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const server = makeServer();
    await server.connect(new BoundedStdioTransport({ stdin: toServer, stdout: toClient }));
    const client = new Client({ name: 'c', version: '1' });
    // The same transport on the client side: it is symmetric newline-delimited JSON-RPC.
    await client.connect(new BoundedStdioTransport({ stdin: toClient, stdout: toServer }));
    closers.push(() => client.close(), () => server.close());

    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['echo']);
    // The TypeScript SDK writes the id last; the transport finds it in the line's tail.
    const oversized = client.callTool({ name: 'echo', arguments: { text: 'x'.repeat(12 * MB) } });
    await expect(oversized).rejects.toBeInstanceOf(McpError);
    await expect(oversized).rejects.toMatchObject({ code: ErrorCode.InvalidRequest });
    expect((await client.listTools()).tools).toHaveLength(1);
    expect(await client.callTool({ name: 'echo', arguments: { text: 'still here' } })).toMatchObject({ content: [{ text: 'still here' }] });
  });

  it('answers initialize and tools/list', async () => {
    const { send, waitFor, initialize } = await connectRaw();
    await initialize();
    send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect((await waitFor((reply) => reply.id === 1)).result?.tools).toHaveLength(1);
  });

  it('discards a 12 MB line with one -32600 error, reports it, and answers the next request', async () => {
    const oversize: number[] = [];
    const { stdin, send, waitFor, initialize, replies, transport } = await connectRaw({ onOversize: (bytes) => oversize.push(bytes) });
    await initialize();
    const line = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${'a'.repeat(12 * MB)}"}}}`;
    stdin.write(`${line}\n`);
    send({ jsonrpc: '2.0', id: 8, method: 'tools/list' });
    expect((await waitFor((reply) => reply.id === 8)).result?.tools).toHaveLength(1);
    expect(replies.filter((reply) => reply.error)).toEqual([{ jsonrpc: '2.0', id: 7, error: { code: -32600, message: TOO_LARGE } }]);
    expect(oversize).toEqual([Buffer.byteLength(line)]);
    expect(transport.bufferedBytes).toBe(0);
  });

  it('answers an oversized line whose id cannot be found with id null', async () => {
    const { stdin, send, waitFor, initialize } = await connectRaw({ maxMessageBytes: 1_000 });
    await initialize();
    stdin.write(`${'z'.repeat(5_000)}\n`);
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(await waitFor((reply) => reply.id === null)).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'Message too large: over 1000 bytes; it was discarded. Send smaller messages.' },
    });
    await waitFor((reply) => reply.id === 2);
  });

  it('parses a line split across many chunks, including a multi-byte character cut in two, and CRLF', async () => {
    const { stdin, waitFor, initialize } = await connectRaw();
    await initialize();
    const text = 'héllo € 😀 done';
    const bytes = Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text } } })}\r\n`);
    const euro = bytes.indexOf(Buffer.from('€'));
    // Cut inside '€' (3 bytes), then feed the rest a few bytes at a time.
    stdin.write(bytes.subarray(0, euro + 1));
    await tick();
    for (let at = euro + 1; at < bytes.length; at += 3) {
      stdin.write(bytes.subarray(at, at + 3));
      await tick();
    }
    expect((await waitFor((reply) => reply.id === 3)).result?.content?.[0]?.text).toBe(text);
  });

  it('answers garbage with -32700, a non-JSON-RPC object with -32600, and keeps going', async () => {
    const { stdin, send, waitFor, initialize, replies } = await connectRaw();
    await initialize();
    stdin.write('this is not json\n');
    stdin.write('{"hello":"world"}\n');
    stdin.write('{"jsonrpc":"1.0","id":41,"method":"tools/list"}\n');
    stdin.write('\n');
    send({ jsonrpc: '2.0', id: 4, method: 'tools/list' });
    expect((await waitFor((reply) => reply.id === 4)).result?.tools).toHaveLength(1);
    expect(replies.filter((reply) => reply.error).map(({ id, error }) => [id, error?.code])).toEqual([
      [null, -32700],
      [null, -32600],
      [41, -32600],
    ]);
  });

  it('keeps memory bounded: a 50 MB line fed in 64 KB chunks never buffers more than the limit', async () => {
    const { stdin, send, waitFor, initialize, transport } = await connectRaw();
    await initialize();
    const chunk = Buffer.alloc(64 * 1024, 'a');
    stdin.write('{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"echo","arguments":{"text":"');
    let peak = 0;
    for (let sent = 0; sent < 50 * MB; sent += chunk.length) {
      stdin.write(chunk);
      await tick();
      peak = Math.max(peak, transport.bufferedBytes);
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(10 * MB);
    stdin.write('"}}}\n');
    send({ jsonrpc: '2.0', id: 12, method: 'tools/list' });
    expect((await waitFor((reply) => reply.id === 11)).error).toEqual({ code: -32600, message: TOO_LARGE });
    await waitFor((reply) => reply.id === 12);
    expect(transport.bufferedBytes).toBe(0);
  });

  it('send() waits for drain when stdout is full', async () => {
    const stdout = new PassThrough({ highWaterMark: 16 });
    const transport = new BoundedStdioTransport({ stdin: new PassThrough(), stdout });
    await transport.start();
    let sent = false;
    const sending = transport.send({ jsonrpc: '2.0', id: 1, result: { pad: 'x'.repeat(1_000) } }).then(() => (sent = true));
    await tick();
    expect(sent).toBe(false);
    stdout.resume();
    await sending;
    expect(sent).toBe(true);
    await transport.close();
  });

  it('close() stops reading and calls onclose; stdin end alone closes nothing', async () => {
    const stdin = new PassThrough();
    const transport = new BoundedStdioTransport({ stdin, stdout: new PassThrough() });
    let closed = 0;
    const messages: unknown[] = [];
    transport.onclose = () => closed++;
    transport.onmessage = (message) => messages.push(message);
    await transport.start();
    stdin.write('{"jsonrpc":"2.0","method":"a"}\n');
    await tick();
    stdin.end();
    await tick();
    expect(closed).toBe(0);
    await transport.close();
    await transport.close();
    expect(closed).toBe(1);
    expect(stdin.listenerCount('data')).toBe(0);
    expect(messages).toHaveLength(1);
  });
});

describe('recoverRequestId', () => {
  const id = (head: string, tail = head) => recoverRequestId(Buffer.from(head), Buffer.from(tail));
  it('reads the id of a request from its start or (method first) from its end', () => {
    expect(id('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"a":"')).toBe(7);
    expect(id('{ "jsonrpc": "2.0", "id": "abc\\"d", "method": "x"')).toBe('abc"d');
    expect(id('{"method":"tools/call","params":{"x":"', 'aaaa"}},"jsonrpc":"2.0","id":42}\r')).toBe(42);
  });
  it('gives null for responses and anything unclear, so a client request of the same id is not failed', () => {
    expect(id('{"jsonrpc":"2.0","id":7,"result":{"a":"')).toBeNull();
    expect(id('{"result":{"x":"', 'aaaa"}},"jsonrpc":"2.0","id":0}')).toBeNull();
    expect(id('{"method":"x","params":{"x":"', 'aaaa","id":3}}}')).toBeNull();
    expect(id('zzzz')).toBeNull();
  });
});

describe('the CLI over stdio (spawned, --sandbox)', () => {
  let spawned: Spawned | undefined;
  afterEach(async () => {
    if (spawned) await stop(spawned);
    spawned = undefined;
  });

  it('survives an 11 MB line: answers it with -32600, stays up, answers tools/list', async () => {
    spawned = spawnServer([...SOURCE_ENTRY, '--sandbox'], cleanEnv());
    const { child } = spawned;
    // If the process dies, writes fail with EPIPE: the assertions below say why, not an uncaught error.
    child.stdin.on('error', () => {});
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    child.stdin.write(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_current_user","arguments":{"pad":"${'a'.repeat(11 * MB)}"}}}\n`);
    send({ jsonrpc: '2.0', id: 3, method: 'tools/list' });

    const replies = () =>
      spawned!
        .stdout()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Reply);
    const deadline = Date.now() + 25_000;
    while (Date.now() < deadline && child.exitCode === null && !replies().some((reply) => reply.id === 3)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    expect(child.exitCode, `the server exited; stderr:\n${spawned.stderr()}`).toBeNull();
    expect(replies().find((reply) => reply.id === 2)).toEqual({ jsonrpc: '2.0', id: 2, error: { code: -32600, message: TOO_LARGE } });
    expect(replies().find((reply) => reply.id === 3)?.result?.tools).toHaveLength(13);
  });
});
