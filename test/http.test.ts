/**
 * Streamable HTTP and legacy SSE from the same createServer(), in-process on a
 * random loopback port, plus the CLI's `--http --sandbox` as `npm run sandbox` runs it.
 */
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/sandbox/emulator.js';
import { listedHostPolicy } from '../src/http/hosts.js';
import { serveHttp, type HttpHandle } from '../src/transports/http.js';
import { buildWiring, startTestEmulator, TEST_TOKEN, textOf, type BuiltWiring } from './helpers/harness.js';
import { cleanEnv, SOURCE_ENTRY, spawnServer, stop } from './helpers/spawn.js';

let emulator: Emulator;
let built: BuiltWiring;
let http: HttpHandle;

beforeAll(async () => {
  emulator = await startTestEmulator();
  built = buildWiring(emulator);
  http = await serveHttp({ host: '127.0.0.1', port: 0, createServer: () => built.wired.createServer(), logger: built.wired.logger });
});
afterAll(async () => {
  await http.close();
  await built.closeNetwork();
  await emulator.close();
});

async function exercise(client: Client) {
  expect((await client.listTools()).tools).toHaveLength(13);
  const result = (await client.callTool({ name: 'list_access_users', arguments: { email: 'alice@corp.example' } })) as CallToolResult;
  expect(result.isError).toBeFalsy();
  expect(textOf(result)).toContain('alice@corp.example');
}

function rawRequest(path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${http.url}${path}`, { method: body ? 'POST' : 'GET', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

describe('Streamable HTTP (/mcp)', () => {
  it('serves the tools with sessions', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(`${http.url}/mcp`));
    const client = new Client({ name: 'http-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
      await exercise(client);
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });

  it('keeps two sessions apart', async () => {
    const clients = await Promise.all(
      [1, 2].map(async () => {
        const client = new Client({ name: 'http-test', version: '1.0.0' });
        await client.connect(new StreamableHTTPClientTransport(new URL(`${http.url}/mcp`)));
        return client;
      }),
    );
    try {
      await Promise.all(clients.map(exercise));
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('rejects a foreign Host header (DNS rebinding) and a foreign Origin', async () => {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const evilHost = await rawRequest('/mcp', { ...headers, host: `evil.example:${http.port}` }, INITIALIZE);
    expect(evilHost.status).toBe(403);
    const evilOrigin = await rawRequest('/mcp', { ...headers, origin: 'http://evil.example' }, INITIALIZE);
    expect(evilOrigin.status).toBe(403);
    const good = await rawRequest('/mcp', { ...headers, host: `localhost:${http.port}`, origin: `http://localhost:${http.port}` }, INITIALIZE);
    expect(good.status).toBe(200);
    const evilSse = await rawRequest('/sse', { host: `evil.example:${http.port}` });
    expect(evilSse.status).toBe(403);
    const evilMessages = await rawRequest('/messages?sessionId=x', { ...headers, host: `evil.example:${http.port}` }, INITIALIZE);
    expect(evilMessages.status).toBe(403);
  });

  it('answers requests without a session, with bad JSON, or for unknown sessions with clear errors', async () => {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const noSession = await rawRequest('/mcp', headers, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    expect(noSession.status).toBe(400);
    expect(noSession.body).toMatch(/initialize/);
    const badJson = await rawRequest('/mcp', headers, '{not json');
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 }, id: null });
    const unknown = await rawRequest('/mcp', { ...headers, 'mcp-session-id': 'nope' }, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    expect(unknown.status).toBe(404);
  });

  it('closes idle sessions, and makes room for a new one by closing the least recently used', async () => {
    const small = await serveHttp({
      host: '127.0.0.1',
      port: 0,
      createServer: () => built.wired.createServer(),
      logger: built.wired.logger,
      sessionIdleMs: 100,
      maxSessions: 1,
    });
    try {
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', host: `127.0.0.1:${small.port}` };
      const post = (extra: Record<string, string> = {}) =>
        new Promise<{ status: number; session?: string }>((resolve, reject) => {
          const req = request(`${small.url}/mcp`, { method: 'POST', headers: { ...headers, ...extra } }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, session: res.headers['mcp-session-id'] as string | undefined }));
          });
          req.on('error', reject);
          req.end(INITIALIZE);
        });
      const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
      const statusFor = (session: string) =>
        new Promise<number>((resolve, reject) => {
          const req = request(`${small.url}/mcp`, { method: 'POST', headers: { ...headers, 'mcp-session-id': session } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end(list);
        });
      const first = await post();
      expect(first.status).toBe(200);
      // Full of idle sessions: the new client gets in (it used to get 503 until the first went idle), the old one is gone.
      const second = await post();
      expect(second.status).toBe(200);
      expect(await statusFor(first.session!)).toBe(404);
      await new Promise((resolve) => setTimeout(resolve, 400));
      // The idle session was swept: its id is gone too.
      expect(await statusFor(second.session!)).toBe(404);
      expect((await post()).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('computes allowed hosts as exact host:port pairs', () => {
    const policy = listedHostPolicy('127.0.0.1', 8787);
    expect(policy.kind === 'listed' && [...policy.hosts]).toEqual(['127.0.0.1:8787', 'localhost:8787', '[::1]:8787']);
    const v6 = listedHostPolicy('::1', 9);
    expect(v6.kind === 'listed' && [...v6.hosts]).toContain('[::1]:9');
  });
});

describe('legacy SSE (/sse + /messages)', () => {
  it('serves the tools', async () => {
    const client = new Client({ name: 'sse-test', version: '1.0.0' });
    await client.connect(new SSEClientTransport(new URL(`${http.url}/sse`)));
    try {
      await exercise(client);
    } finally {
      await client.close();
    }
  });
});

describe('CLI --http --sandbox (npm run sandbox)', () => {
  it('prints the URL and client configs, serves demo data, and shuts down cleanly on SIGTERM', async () => {
    const server = spawnServer([...SOURCE_ENTRY, '--http', '--sandbox', '--port', '0'], cleanEnv());
    try {
      const listening = await server.waitForLog((record) => record.msg === 'listening');
      const url = String(listening.mcp);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const client = new Client({ name: 'sandbox-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      await exercise(client);
      await client.close();
      expect(server.stderr()).toContain('"mcpServers"');
      expect(server.stderr()).toContain('--sandbox');
      expect(server.stdout()).not.toContain(TEST_TOKEN);
    } finally {
      expect(await stop(server)).toBe(0);
    }
  });
});
