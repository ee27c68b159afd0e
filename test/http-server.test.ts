/**
 * The HTTP server's modes and life cycle: --stateless (no session ids, a
 * fresh server per request, calls without initialize, no elicitation so a
 * delete needs confirm: true), the default body limit, graceful shutdown of
 * the real CLI on SIGTERM (a new initialize gets no session while calls in
 * flight finish), and the container's command (Dockerfile CMD), run as is.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ElicitRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionServerOptions } from '../src/http/credentials.js';
import { loadConfig } from '../src/node/config.js';
import type { Emulator } from '../src/sandbox/emulator.js';
import { serveHttp, type HttpHandle } from '../src/transports/http.js';
import { buildWiring, startTestEmulator, TEST_TOKEN, type BuiltWiring } from './helpers/harness.js';
import { callBody, callTool, INITIALIZE, LIST, MCP_HEADERS, messagesOf, raw, textOfResult } from './helpers/http.js';
import { cleanEnv, PROJECT_ROOT, SOURCE_ENTRY, spawnServer, stop } from './helpers/spawn.js';

let emulator: Emulator;
let built: BuiltWiring;
beforeAll(async () => {
  emulator = await startTestEmulator();
  built = buildWiring(emulator);
});
afterAll(async () => {
  await built.closeNetwork();
  await emulator.close();
});

describe('--stateless', () => {
  let http: HttpHandle;
  const servers: Array<{ options: SessionServerOptions; closed: boolean }> = [];
  beforeAll(async () => {
    const createServer = (options: SessionServerOptions): Server => {
      const server = built.wired.createServer(options);
      const record = { options, closed: false };
      servers.push(record);
      server.onclose = () => void (record.closed = true);
      return server;
    };
    http = await serveHttp({ host: '127.0.0.1', port: 0, createServer, logger: built.wired.logger, stateless: true });
  });
  afterAll(() => http.close());

  it('answers a tools/call with no initialize and no session id, from a fresh server it closes afterwards', async () => {
    const before = servers.length;
    const answer = await raw(`${http.url}/mcp`, { headers: MCP_HEADERS, body: callBody('list_access_users', { email: 'alice@corp.example' }) });
    expect(answer.status).toBe(200);
    expect(answer.headers['mcp-session-id']).toBeUndefined();
    expect(JSON.stringify(messagesOf(answer.body).at(-1))).toContain('alice@corp.example');
    const list = await raw(`${http.url}/mcp`, { headers: MCP_HEADERS, body: LIST });
    expect(messagesOf(list.body).at(-1)).toMatchObject({ result: { tools: expect.any(Array) } });
    expect(servers.length - before).toBe(2);
    await expect.poll(() => servers.slice(before).every((s) => s.closed)).toBe(true);
    expect(servers.slice(before).every((s) => !s.options.canAskClient)).toBe(true);
  });

  it('serves the SDK client (which finds no session), refuses GET and DELETE with 405, and has no legacy SSE', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(`${http.url}/mcp`));
    const client = new Client({ name: 'stateless', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect(transport.sessionId).toBeUndefined();
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('get_current_user');
    } finally {
      await client.close();
    }
    expect((await raw(`${http.url}/mcp`, { headers: { accept: 'text/event-stream' } })).status).toBe(405);
    expect((await raw(`${http.url}/mcp`, { method: 'DELETE', headers: MCP_HEADERS })).status).toBe(405);
    expect((await raw(`${http.url}/sse`, { headers: { accept: 'text/event-stream' } })).status).toBe(404);
  });

  it('cannot ask the person (no elicitation): a delete needs confirm: true, even from a client that declares elicitation; the audit notification still arrives', async () => {
    const client = new Client({ name: 'stateless', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
    let asked = 0;
    client.setRequestHandler(ElicitRequestSchema, () => {
      asked += 1;
      return { action: 'accept', content: { confirm: true } };
    });
    const audits: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      if ((n.params.data as { msg?: string }).msg === 'audit') audits.push(n.params.data);
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${http.url}/mcp`)));
    try {
      const user = [...emulator.state.users.values()].find((u) => u.email.startsWith('carol'))!;
      const from = emulator.requests.length;
      const refused = await callTool(client, 'delete_access_user', { user_id: user.id });
      expect(refused.isError).toBe(true);
      expect(textOfResult(refused)).toMatch(/confirm: true/);
      expect(emulator.requests.slice(from).filter((r) => r.method === 'DELETE')).toHaveLength(0);
      const deleted = await callTool(client, 'delete_access_user', { user_id: user.id, confirm: true });
      expect(deleted.isError).toBeFalsy();
      expect(asked).toBe(0);
      // What a call says on the way still reaches its caller, on the call's own response stream.
      expect(audits).toEqual([expect.objectContaining({ tool: 'delete_access_user', outcome: 'ok' })]);
    } finally {
      await client.close();
    }
  });

  it('answers 503 to new requests once shutdown began', async () => {
    const stopping = await serveHttp({ host: '127.0.0.1', port: 0, createServer: (o) => built.wired.createServer(o), logger: built.wired.logger, stateless: true });
    try {
      stopping.stopAccepting();
      const answer = await raw(`${stopping.url}/mcp`, { headers: MCP_HEADERS, body: LIST });
      expect(answer.status).toBe(503);
    } finally {
      await stopping.close();
    }
  });
});

describe('--max-body-bytes default (1 MiB)', () => {
  it('refuses 1 MiB + 1 byte on /mcp with 413, and reads a body just under it', async () => {
    const http = await serveHttp({ host: '127.0.0.1', port: 0, createServer: (o) => built.wired.createServer(o), logger: built.wired.logger });
    try {
      const pad = (bytes: number) => {
        const shell = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: '' } });
        return JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(bytes - shell.length) } });
      };
      const over = await raw(`${http.url}/mcp`, { headers: MCP_HEADERS, body: pad(1_048_577) });
      expect(over.status).toBe(413);
      const under = await raw(`${http.url}/mcp`, { headers: MCP_HEADERS, body: pad(1_048_576) });
      // Read and parsed: refused only because it is not an initialize.
      expect(under.status).toBe(400);
      expect(under.body).toMatch(/initialize/);
    } finally {
      await http.close();
    }
  });
});

describe('graceful shutdown of the CLI (--http)', () => {
  it('on SIGTERM: a new initialize gets 503 and no session, the call in flight finishes, exit 0', async () => {
    // The upstream answer to the call takes a while: the call is in flight when the signal comes.
    emulator.inject({ fault: { kind: 'delay', phase: 'headers', ms: 1_500 }, pathIncludes: '/access/users' });
    const server = spawnServer(
      [...SOURCE_ENTRY, '--http', '--port', '0', '--shutdown-grace-seconds', '10'],
      cleanEnv({ CLOUDFLARE_API_TOKEN: TEST_TOKEN, CLOUDFLARE_BASE_URL: emulator.baseUrl, CLOUDFLARE_ACCOUNT_ID: emulator.accountId }),
    );
    try {
      const listening = await server.waitForLog((record) => record.msg === 'listening');
      const mcpUrl = String(listening.mcp);
      const base = mcpUrl.replace(/\/mcp$/, '');
      const client = new Client({ name: 'shutdown', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
      const from = emulator.requests.length;
      const inFlight = callTool(client, 'list_access_users', { email: 'alice@corp.example' });
      await expect.poll(() => emulator.requests.length > from, { timeout: 10_000 }).toBe(true);

      server.child.kill('SIGTERM');
      await server.waitForLog((record) => record.msg === 'shutting down');
      const refused = await raw(`${base}/mcp`, { headers: MCP_HEADERS, body: INITIALIZE });
      expect(refused.status).toBe(503);
      expect(refused.headers['mcp-session-id']).toBeUndefined();
      expect((await raw(`${base}/readyz`)).status).toBe(503);

      const result = await inFlight;
      expect(result.isError).toBeFalsy();
      expect(textOfResult(result)).toContain('alice@corp.example');
      await client.close().catch(() => {});
      expect(await server.exited).toBe(0);
    } finally {
      emulator.clearFaults();
      await stop(server);
    }
  });
});

describe('the container (Dockerfile)', () => {
  const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];

  it('builds in one stage and runs on node:20-slim as a non-root user, the bin of package.json', () => {
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.at(-1)).toBe('node:20-slim');
    expect(dockerfile).toMatch(/npm ci[^\n]*\n[\s\S]*npm run build/);
    const user = /^USER (\S+)$/m.exec(dockerfile)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(cmd.slice(0, 2)).toEqual(['node', Object.values(pkg.bin)[0]]);
    expect(cmd.slice(2)).toEqual(['--http', '--host', '0.0.0.0']);
  });

  it('runs its command: without endpoint auth it exits 2 at once, naming what to set; with MCP_HTTP_BEARER the same flags are accepted', async () => {
    // The same flags on the source entry (dist/ may be rebuilt by another test right now).
    const refused = spawnServer([...SOURCE_ENTRY, ...cmd.slice(2)], cleanEnv({ CLOUDFLARE_API_TOKEN: TEST_TOKEN }));
    expect(await refused.exited).toBe(2);
    expect(refused.stderr()).toMatch(/--host 0\.0\.0\.0 is reachable from other machines/);
    expect(refused.stderr()).toMatch(/MCP_HTTP_BEARER/);
    expect(refused.stderr()).not.toContain(TEST_TOKEN);
    const accepted = loadConfig(cmd.slice(2), { MCP_HTTP_BEARER: 'container-bearer-0123456789abcdef' });
    expect(accepted).toMatchObject({ transport: 'http', host: '0.0.0.0', http: { bearer: 'container-bearer-0123456789abcdef' } });
  });
});
