/**
 * The checks every HTTP path shares, over real loopback HTTP: Host/Origin
 * refused with 403 on /mcp, GET /sse and POST /messages alike (our check, not
 * the SDK's deprecated options); bodies over the cap refused with 413 on both
 * POST paths; unparseable JSON answered with JSON-RPC -32700.
 */
import { request } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { serveHttp, type HttpHandle } from '../src/transports/http.js';

const MAX_BODY = 1024;
let http: HttpHandle;
let sseSessionId: string;
let closeSse: () => void;

function stubServer(): Server {
  const server = new Server({ name: 'stub', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [] }));
  return server;
}

interface RawResponse {
  status: number;
  body: string;
}

function send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${http.url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});
/** Valid JSON, just over the cap. */
const OVERSIZED = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(MAX_BODY) } });

beforeAll(async () => {
  http = await serveHttp({ host: '127.0.0.1', port: 0, createServer: stubServer, logger: silentLogger, maxBodyBytes: MAX_BODY });
  // One open SSE session, so /messages refusals are not just "unknown session".
  await new Promise<void>((resolve, reject) => {
    const req = request(`${http.url}/sse`, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        const match = /sessionId=([0-9a-f-]{36})/.exec(text);
        if (match) {
          sseSessionId = match[1]!;
          resolve();
        }
      });
    });
    closeSse = () => req.destroy();
    req.on('error', reject);
    req.end();
  });
});
afterAll(async () => {
  closeSse();
  await http.close();
});

function errorOf(response: RawResponse): { code: number; message: string } {
  const parsed = JSON.parse(response.body) as { jsonrpc: string; id: null; error: { code: number; message: string } };
  expect(parsed).toMatchObject({ jsonrpc: '2.0', id: null });
  return parsed.error;
}

describe('Host and Origin (DNS rebinding), one check for every path', () => {
  const cases = [
    { name: 'POST /mcp', method: 'POST' as const, path: () => '/mcp', body: INITIALIZE },
    { name: 'GET /sse', method: 'GET' as const, path: () => '/sse', body: undefined },
    { name: 'POST /messages', method: 'POST' as const, path: () => `/messages?sessionId=${sseSessionId}`, body: LIST },
  ];
  for (const { name, method, path, body } of cases) {
    it(`refuses a foreign Host or Origin on ${name} with 403`, async () => {
      const host = await send(method, path(), { ...JSON_HEADERS, host: `evil.example:${http.port}` }, body);
      expect(host.status).toBe(403);
      expect(errorOf(host).message).toMatch(/Host or Origin/);
      const origin = await send(method, path(), { ...JSON_HEADERS, origin: 'http://evil.example' }, body);
      expect(origin.status).toBe(403);
      // Same port, other name: still not this server's loopback name.
      const port = await send(method, path(), { ...JSON_HEADERS, host: `127.0.0.1:${http.port + 1}` }, body);
      expect(port.status).toBe(403);
    });
  }

  it('accepts the loopback names with a matching Origin', async () => {
    const ok = await send('POST', `/messages?sessionId=${sseSessionId}`, { ...JSON_HEADERS, host: `localhost:${http.port}`, origin: `http://localhost:${http.port}` }, LIST);
    expect(ok.status).toBe(202);
  });
});

describe('request bodies', () => {
  it('answers an unparseable body with JSON-RPC -32700 (HTTP 400) on /mcp and /messages', async () => {
    for (const path of ['/mcp', `/messages?sessionId=${sseSessionId}`]) {
      const response = await send('POST', path, JSON_HEADERS, '{not json');
      expect(response.status, path).toBe(400);
      expect(errorOf(response).code, path).toBe(-32700);
    }
  });

  it('refuses a body over maxBodyBytes with 413 on /messages and /mcp, chunked or with Content-Length', async () => {
    for (const path of ['/mcp', `/messages?sessionId=${sseSessionId}`]) {
      const declared = await send('POST', path, { ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(OVERSIZED)) }, OVERSIZED);
      expect(declared.status, path).toBe(413);
      expect(errorOf(declared).message, path).toMatch(/too large/);
      const chunked = await send('POST', path, { ...JSON_HEADERS, 'transfer-encoding': 'chunked' }, OVERSIZED);
      expect(chunked.status, path).toBe(413);
    }
  });

  it('passes a body within the cap through to the SSE session', async () => {
    expect((await send('POST', `/messages?sessionId=${sseSessionId}`, JSON_HEADERS, LIST)).status).toBe(202);
  });
});
