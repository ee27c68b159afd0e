/**
 * The shared session table: one cap for Streamable HTTP and SSE, least recently
 * used idle sessions evicted to make room, 503 only when every session is busy.
 * Unit tests on a fake clock, then real SDK clients over loopback HTTP against a
 * stub server whose `hold` tool stays in flight until the test releases it
 * (the transports only see a Server factory, so no Cloudflare tools are needed).
 */
import { request, type ClientRequest } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { SessionTable, type TrackedSession } from '../src/http/sessions.js';
import { serveHttp, type HttpHandle } from '../src/transports/http.js';

describe('SessionTable', () => {
  function setup(maxSessions: number) {
    let time = 1_000;
    const closed: string[] = [];
    const table = new SessionTable({ maxSessions, idleMs: 100, logger: silentLogger, now: () => time });
    const session = (name: string): TrackedSession => ({ kind: 'test', close: async () => void closed.push(name) });
    return { table, session, closed, advance: (ms: number) => (time += ms) };
  }

  it('evicts the least recently used idle session when full, not the oldest', () => {
    const { table, session, closed } = setup(2);
    expect(table.add('a', session('a'))).toBe(true);
    expect(table.add('b', session('b'))).toBe(true);
    table.begin('a')(); // a used after b: b is now the least recently used
    expect(table.add('c', session('c'))).toBe(true);
    expect(closed).toEqual(['b']);
    expect(table.get('b')).toBeUndefined();
    expect(table.size).toBe(2);
  });

  it('never evicts a session with a request in flight, and refuses only when all are busy', () => {
    const { table, session, closed } = setup(2);
    table.add('a', session('a'));
    table.add('b', session('b'));
    const doneA = table.begin('a');
    const doneB = table.begin('b');
    expect(table.add('c', session('c'))).toBe(false);
    doneB();
    doneB(); // idempotent: a's request still counts
    expect(table.add('c', session('c'))).toBe(true);
    expect(closed).toEqual(['b']);
    doneA();
  });

  it('sweeps sessions idle past idleMs, but not busy ones', () => {
    const { table, session, closed, advance } = setup(5);
    table.add('idle', session('idle'));
    table.add('busy', session('busy'));
    const done = table.begin('busy');
    advance(150);
    table.sweep();
    expect(closed).toEqual(['idle']);
    done();
    table.sweep(); // just used: not idle yet
    expect(closed).toEqual(['idle']);
    advance(150);
    table.sweep();
    expect(closed).toEqual(['idle', 'busy']);
  });
});

// ---- over HTTP ----

/** A stub MCP server: `hold` answers only when the test calls release(). */
function stubFactory() {
  const held: Array<() => void> = [];
  const closed: Promise<void>[] = [];
  const createServer = () => {
    const server = new Server({ name: 'stub', version: '1.0.0' }, { capabilities: { tools: {} } });
    closed.push(new Promise((resolve) => (server.onclose = resolve)));
    server.setRequestHandler(ListToolsRequestSchema, () => ({
      tools: [{ name: 'hold', inputSchema: { type: 'object' as const } }],
    }));
    server.setRequestHandler(CallToolRequestSchema, async (): Promise<CallToolResult> => {
      await new Promise<void>((resolve) => held.push(resolve));
      return { content: [{ type: 'text', text: 'released' }] };
    });
    return server;
  };
  return { createServer, held, closed };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Fails instead of hanging until the test timeout when a stream is never closed. */
function within(promise: Promise<void>, what: string, ms = 2_000): Promise<void> {
  return Promise.race([promise, new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms))]);
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function post(http: HttpHandle, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${http.url}${path}`, { method: 'POST', headers: { ...MCP_HEADERS, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw GET /sse stream (no EventSource: it would reconnect when evicted). */
function openRawSse(http: HttpHandle): Promise<{ status: number; sessionId?: string; ended: Promise<void>; req: ClientRequest }> {
  return new Promise((resolve, reject) => {
    const req = request(`${http.url}/sse`, { headers: { accept: 'text/event-stream' } }, (res) => {
      const ended = new Promise<void>((done) => res.once('close', () => done()));
      if (res.statusCode !== 200) {
        res.resume();
        return resolve({ status: res.statusCode ?? 0, ended, req });
      }
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        const match = /sessionId=([0-9a-f-]{36})/.exec(text);
        if (match) resolve({ status: 200, sessionId: match[1], ended, req });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const LIST = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' });

async function streamableClient(http: HttpHandle) {
  const transport = new StreamableHTTPClientTransport(new URL(`${http.url}/mcp`));
  const client = new Client({ name: 'http-sessions-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, sessionId: transport.sessionId! };
}

async function sseClient(http: HttpHandle) {
  const client = new Client({ name: 'http-sessions-test', version: '1.0.0' });
  await client.connect(new SSEClientTransport(new URL(`${http.url}/sse`)));
  return client;
}

describe('one session cap for Streamable HTTP and SSE', () => {
  const handles: HttpHandle[] = [];
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((c) => c.close()));
    await Promise.all(handles.splice(0).map((h) => h.close()));
  });
  async function serve(maxSessions: number) {
    const stub = stubFactory();
    const http = await serveHttp({ host: '127.0.0.1', port: 0, createServer: stub.createServer, logger: silentLogger, maxSessions });
    handles.push(http);
    return { http, held: stub.held };
  }

  it('counts SSE streams against the same cap: a Streamable HTTP session evicts an idle SSE stream', async () => {
    const { http } = await serve(2);
    const first = await openRawSse(http);
    const second = await openRawSse(http);
    const { client } = await streamableClient(http);
    clients.push(client);
    // The first stream was the least recently used: closed, and its session id is gone.
    await within(first.ended, 'first SSE stream closed');
    expect((await post(http, `/messages?sessionId=${first.sessionId}`, LIST)).status).toBe(404);
    expect((await post(http, `/messages?sessionId=${second.sessionId}`, LIST)).status).toBe(202);
    expect((await client.listTools()).tools).toHaveLength(1);
    // And a third SSE stream evicts the second: never more than two sessions, whatever the mix.
    await openRawSse(http);
    await within(second.ended, 'second SSE stream closed');
  });

  it('lets a new client in when the table is full of idle sessions, closing the least recently used', async () => {
    const { http } = await serve(2);
    const a = await streamableClient(http);
    const b = await streamableClient(http);
    clients.push(a.client, b.client);
    await a.client.listTools(); // a is now more recent than b
    const c = await streamableClient(http);
    clients.push(c.client);
    expect((await c.client.listTools()).tools).toHaveLength(1);
    const evicted = await post(http, '/mcp', LIST, { 'mcp-session-id': b.sessionId, 'mcp-protocol-version': '2025-06-18' });
    expect(evicted.status).toBe(404);
    expect(JSON.parse(evicted.body)).toMatchObject({ error: { code: -32001 } });
    expect((await a.client.listTools()).tools).toHaveLength(1);
  });

  it('answers 503 only while every session has a request in flight (Streamable HTTP and SSE)', async () => {
    const { http, held } = await serve(2);
    const streamable = await streamableClient(http);
    const sse = await sseClient(http);
    clients.push(streamable.client, sse);
    const calls = [streamable.client.callTool({ name: 'hold', arguments: {} }), sse.callTool({ name: 'hold', arguments: {} })];
    await waitFor(() => held.length === 2, 'both calls in flight');

    const refused = await post(http, '/mcp', INITIALIZE);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
    expect((await openRawSse(http)).status).toBe(503);

    // Neither busy session was evicted: both calls complete.
    held.splice(0).forEach((release) => release());
    const results = (await Promise.all(calls)) as CallToolResult[];
    expect(results.map((r) => r.content[0])).toEqual([
      { type: 'text', text: 'released' },
      { type: 'text', text: 'released' },
    ]);
    // Idle again: a new client gets in.
    expect((await post(http, '/mcp', INITIALIZE)).status).toBe(200);
  });

  it('close() closes every session, Streamable HTTP and SSE', async () => {
    const stub = stubFactory();
    const http = await serveHttp({ host: '127.0.0.1', port: 0, createServer: stub.createServer, logger: silentLogger });
    const stream = await openRawSse(http);
    const { client } = await streamableClient(http);
    clients.push(client);
    expect(stub.closed).toHaveLength(2);
    await http.close();
    // Both servers saw their transport close; the SSE stream ended.
    await within(Promise.all([...stub.closed, stream.ended]).then(() => {}), 'every session closed');
  });
});
