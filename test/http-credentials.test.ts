/**
 * Per-session Cloudflare credentials from request headers, over real loopback
 * HTTP against the emulator, whose request log is the witness: what each
 * upstream request carried.
 *
 * - stateful: bound at initialize; later requests without headers use them, a request with others gets
 *   403 and nothing upstream, the session staying as it was; the token header wins over email + key;
 *   without headers the server's own apply; with neither, the usual error and nothing upstream.
 * - stateless: per request. Legacy SSE: on GET /sse, bound like a session.
 * - 100 concurrent sessions, each with its own token and account, calling in parallel: every upstream
 *   request carried its own session's credentials and account, never another's or the server's.
 * - header credentials never appear in logs, errors, results or HTTP bodies.
 */
import { request as httpRequest } from 'node:http';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest, Emulator } from '../src/sandbox/emulator.js';
import { serveHttp, type HttpHandle } from '../src/transports/http.js';
import { buildWiring, READ_ONLY_TOKEN, startTestEmulator, TEST_EMAIL, TEST_KEY, TEST_TOKEN, type BuiltWiring } from './helpers/harness.js';
import { callBody, callTool, INITIALIZE, LIST, MCP_HEADERS, messagesOf, raw, sseClient, streamableClient, textOfResult } from './helpers/http.js';

const BEARER = 'mcp-bearer-LEAKCANARY-0a9b8c7d6e5f4a3b';
const ALICE = 'alice@corp.example';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(() => emulator.close());

interface Served {
  built: BuiltWiring;
  http: HttpHandle;
  close(): Promise<void>;
}

async function serve(options: { env?: Record<string, string>; stateless?: boolean; bearer?: string; defaultAccount?: null } = {}): Promise<Served> {
  const built = buildWiring(emulator, { credentials: options.env ?? { CLOUDFLARE_API_TOKEN: TEST_TOKEN }, defaultAccountId: options.defaultAccount });
  const http = await serveHttp({
    host: '127.0.0.1',
    port: 0,
    createServer: (session) => built.wired.createServer(session),
    logger: built.wired.logger,
    redactor: built.services.redactor,
    stateless: options.stateless,
    bearer: options.bearer,
  });
  return {
    built,
    http,
    async close() {
      await http.close();
      await built.closeNetwork();
    },
  };
}

/** What the emulator saw since `from`: whose credentials, which path. */
function upstreamSince(from: number): RecordedRequest[] {
  return emulator.requests.slice(from);
}
const credentialOf = (request: RecordedRequest): string =>
  String(request.headers.authorization ?? `key:${String(request.headers['x-auth-email'])}/${String(request.headers['x-auth-key'])}`);

const EMAIL_KEY = { 'x-auth-email': TEST_EMAIL, 'x-auth-key': TEST_KEY };

describe('stateful sessions bound to their initialize', () => {
  let served: Served;
  beforeAll(async () => {
    // No default account on the server: the one used must come from the session's header.
    served = await serve({ defaultAccount: null });
  });
  afterAll(() => served.close());

  it('uses the initialize headers for every later request, refuses others with 403 and sends nothing, and stays bound', async () => {
    let headers: Record<string, string> = { ...EMAIL_KEY, 'x-cloudflare-account-id': emulator.accountId };
    const { client } = await streamableClient(served.http.url, () => headers);
    try {
      let from = emulator.requests.length;
      expect(textOfResult(await callTool(client, 'list_access_users', { email: ALICE }))).toContain(ALICE);
      const first = upstreamSince(from);
      expect(first.map(credentialOf)).toEqual([`key:${TEST_EMAIL}/${TEST_KEY}`]);
      expect(first[0]!.url).toContain(`/accounts/${emulator.accountId}/`);

      // No credential headers: the bound ones apply.
      headers = {};
      from = emulator.requests.length;
      expect((await callTool(client, 'get_current_user')).isError).toBeFalsy();
      expect(upstreamSince(from).map(credentialOf)).toEqual([`key:${TEST_EMAIL}/${TEST_KEY}`]);

      // Others: 403 before MCP, nothing upstream.
      const others: Array<Record<string, string>> = [{ 'x-cloudflare-api-token': READ_ONLY_TOKEN }, { ...EMAIL_KEY }, { 'x-cloudflare-account-id': 'f'.repeat(32) }];
      for (const other of others) {
        headers = other;
        from = emulator.requests.length;
        await expect(callTool(client, 'get_current_user'), JSON.stringify(other)).rejects.toMatchObject({ code: 403, message: /bound to the credentials/ });
        expect(emulator.requests.length).toBe(from);
      }

      headers = { ...EMAIL_KEY, 'x-cloudflare-account-id': emulator.accountId };
      from = emulator.requests.length;
      expect((await callTool(client, 'list_access_users', { email: ALICE })).isError).toBeFalsy();
      expect(upstreamSince(from).map(credentialOf)).toEqual([`key:${TEST_EMAIL}/${TEST_KEY}`]);
    } finally {
      await client.close();
    }
  });

  it('lets the token header win over email + key, and uses the server\'s own credentials without headers', async () => {
    const both = await streamableClient(served.http.url, { 'x-cloudflare-api-token': READ_ONLY_TOKEN, ...EMAIL_KEY });
    const none = await streamableClient(served.http.url);
    try {
      const from = emulator.requests.length;
      await callTool(both.client, 'get_current_user');
      await callTool(none.client, 'get_current_user');
      expect(upstreamSince(from).map(credentialOf)).toEqual([`Bearer ${READ_ONLY_TOKEN}`, `Bearer ${TEST_TOKEN}`]);
      expect(upstreamSince(from)[0]!.headers['x-auth-key']).toBeUndefined();
    } finally {
      await Promise.all([both.client.close(), none.client.close()]);
    }
  });

  it('answers malformed credential headers with 400, naming the header and not echoing its value', async () => {
    const malformed: Array<Record<string, string>> = [{ 'x-cloudflare-account-id': 'NOT-AN-ACCOUNT-ID' }, { 'x-auth-email': TEST_EMAIL }, { 'x-auth-key': TEST_KEY }];
    for (const headers of malformed) {
      const answer = await raw(`${served.http.url}/mcp`, { headers: { ...MCP_HEADERS, ...headers }, body: INITIALIZE });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatch(/X-Cloudflare-Account-Id|X-Auth-Email and X-Auth-Key/);
      for (const value of Object.values(headers)) expect(answer.body).not.toContain(value);
    }
  });
});

describe('no credentials at all', () => {
  it('gives the usual error and sends nothing upstream', async () => {
    const served = await serve({ env: {} });
    const { client } = await streamableClient(served.http.url);
    try {
      const from = emulator.requests.length;
      const result = await callTool(client, 'list_access_users', {});
      expect(result.isError).toBe(true);
      expect(textOfResult(result)).toMatch(/No Cloudflare credentials/);
      expect(emulator.requests.length).toBe(from);
    } finally {
      await client.close();
      await served.close();
    }
  });
});

describe('stateless (--stateless): credentials per request', () => {
  it('uses each request\'s own headers, with no session and no initialize', async () => {
    const served = await serve({ stateless: true, env: {} });
    try {
      const from = emulator.requests.length;
      const url = `${served.http.url}/mcp`;
      const asReader = await raw(url, { headers: { ...MCP_HEADERS, 'x-cloudflare-api-token': READ_ONLY_TOKEN }, body: callBody('get_current_user', {}) });
      const asOwner = await raw(url, { headers: { ...MCP_HEADERS, ...EMAIL_KEY }, body: callBody('get_current_user', {}) });
      const asNobody = await raw(url, { headers: MCP_HEADERS, body: callBody('get_current_user', {}) });
      for (const answer of [asReader, asOwner, asNobody]) {
        expect(answer.status).toBe(200);
        expect(answer.headers['mcp-session-id']).toBeUndefined();
      }
      expect(messagesOf(asNobody.body).at(-1)).toMatchObject({ result: { isError: true } });
      expect(upstreamSince(from).map(credentialOf)).toEqual([`Bearer ${READ_ONLY_TOKEN}`, `key:${TEST_EMAIL}/${TEST_KEY}`]);
    } finally {
      await served.close();
    }
  });
});

/** A raw GET /sse stream: its session id, and a way to end it. */
function openSse(url: string, headers: Record<string, string>): Promise<{ sessionId: string; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/sse`, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        const match = /sessionId=([0-9a-f-]{36})/.exec(text);
        if (match) resolve({ sessionId: match[1]!, close: () => req.destroy() });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('legacy SSE honours the headers on GET /sse', () => {
  it('binds the stream\'s session to them: its calls use them, /messages with others gets 403', async () => {
    const served = await serve({ defaultAccount: null });
    const client = await sseClient(served.http.url, { ...EMAIL_KEY, 'x-cloudflare-account-id': emulator.accountId });
    const stream = await openSse(served.http.url, EMAIL_KEY);
    try {
      const from = emulator.requests.length;
      expect(textOfResult(await callTool(client, 'list_access_users', { email: ALICE }))).toContain(ALICE);
      expect(upstreamSince(from).map(credentialOf)).toEqual([`key:${TEST_EMAIL}/${TEST_KEY}`]);
      const messages = `${served.http.url}/messages?sessionId=${stream.sessionId}`;
      expect((await raw(messages, { headers: { ...MCP_HEADERS, 'x-cloudflare-api-token': READ_ONLY_TOKEN }, body: LIST })).status).toBe(403);
      expect((await raw(messages, { headers: { ...MCP_HEADERS, ...EMAIL_KEY }, body: LIST })).status).toBe(202);
      expect((await raw(messages, { headers: MCP_HEADERS, body: LIST })).status).toBe(202);
    } finally {
      stream.close();
      await client.close();
      await served.close();
    }
  });
});

describe('header credentials never leak', () => {
  const TOKEN_CANARY = 'cfut_LEAKCANARY_header_token_4e5d6c7b8a90';
  const KEY_CANARY = 'LEAKCANARYheaderkey_9f8e7d6c5b4a3210fedc';

  it('not in logs, tool errors, results, or any HTTP body, even when Cloudflare echoes them back', async () => {
    const served = await serve();
    const bodies: string[] = [];
    const withToken = await streamableClient(served.http.url, { 'x-cloudflare-api-token': TOKEN_CANARY }, bodies);
    const withKey = await streamableClient(served.http.url, { 'x-auth-email': TEST_EMAIL, 'x-auth-key': KEY_CANARY }, bodies);
    const results: CallToolResult[] = [];
    try {
      for (const [client, secret] of [
        [withToken.client, TOKEN_CANARY],
        [withKey.client, KEY_CANARY],
      ] as Array<[Client, string]>) {
        // Unknown to the emulator: a plain refusal; then an upstream error that quotes the credential.
        results.push(await callTool(client, 'get_current_user'));
        emulator.inject({ fault: { kind: 'status', status: 400, body: JSON.stringify({ success: false, errors: [{ code: 6003, message: `Invalid request headers: ${secret}` }], messages: [], result: null }) } });
        results.push(await callTool(client, 'list_access_users', {}));
        results.push(await callTool(client, 'create_access_user', { email: 'leak.test@corp.example' }));
      }
      // A refused change of credentials: its 403 body too.
      const rebind = await raw(`${served.http.url}/mcp`, {
        headers: { ...MCP_HEADERS, 'mcp-session-id': withToken.transport.sessionId!, 'x-cloudflare-api-token': `${TOKEN_CANARY}-other` },
        body: LIST,
      });
      expect(rebind.status).toBe(403);
      bodies.push(rebind.body);
    } finally {
      await Promise.all([withToken.client.close(), withKey.client.close()]);
      await served.close();
    }
    expect(results.every((result) => result.isError)).toBe(true);
    expect(results.map(textOfResult).join('\n')).toContain('[REDACTED]');
    const everything = [...served.built.logLines, ...results.map((result) => JSON.stringify(result)), ...bodies].join('\n');
    expect(bodies.length).toBeGreaterThan(6);
    expect(everything).not.toContain(TOKEN_CANARY);
    expect(everything).not.toContain(KEY_CANARY);
  });
});

describe('isolation: 100 concurrent sessions', () => {
  const SESSIONS = 100;
  const ENV_TOKEN = 'cfut_LEAKCANARY_server_env_token_00000';
  const USER_ID = '3f0c6a52-9d1e-4b7a-a3c5-7e2d8f1b6049';

  it('every upstream request carries its own session\'s credentials and account, never another\'s or the server\'s', { timeout: 60_000 }, async () => {
    const served = await serve({ env: { CLOUDFLARE_API_TOKEN: ENV_TOKEN }, bearer: BEARER, defaultAccount: null });
    // Session 0 holds the emulator's token and session 1 its email + key (their calls succeed); the rest hold
    // tokens the emulator refuses, which still show in its log. Each has its own account.
    const sessions = Array.from({ length: SESSIONS }, (_, i) => {
      const accountId = i < 2 ? emulator.accountId : (0xa000 + i).toString(16).padStart(32, '0');
      const credential: Record<string, string> =
        i === 0 ? { 'x-cloudflare-api-token': TEST_TOKEN } : i === 1 ? { ...EMAIL_KEY } : { 'x-cloudflare-api-token': `cfut_isolation_${i}_LEAKCANARY` };
      const expected = i === 0 ? `Bearer ${TEST_TOKEN}` : i === 1 ? `key:${TEST_EMAIL}/${TEST_KEY}` : `Bearer cfut_isolation_${i}_LEAKCANARY`;
      return { accountId, expected, headers: { authorization: `Bearer ${BEARER}`, ...credential, 'x-cloudflare-account-id': accountId } };
    });
    const from = emulator.requests.length;
    const started = performance.now();
    const outcomes = await Promise.all(
      sessions.map(async (session) => {
        const { client } = await streamableClient(served.http.url, session.headers);
        try {
          // In parallel within the session too.
          return await Promise.all([
            callTool(client, 'get_current_user'),
            callTool(client, 'list_access_users', { per_page: 5 }),
            callTool(client, 'get_access_user', { user_id: USER_ID }),
          ]);
        } finally {
          await client.close();
        }
      }),
    );
    const elapsedMs = performance.now() - started;
    await served.close();

    const upstream = upstreamSince(from);
    expect(upstream).toHaveLength(SESSIONS * 3);
    const byCredential = new Map(sessions.map((session) => [session.expected, session]));
    const counts = new Map<string, number>();
    for (const request of upstream) {
      const credential = credentialOf(request);
      const session = byCredential.get(credential);
      expect(session, `request with an unknown credential: ${request.method} ${request.url}`).toBeDefined();
      counts.set(credential, (counts.get(credential) ?? 0) + 1);
      const account = /\/accounts\/([0-9a-f]{32})\//.exec(request.url)?.[1];
      if (account !== undefined) expect(account).toBe(session!.accountId);
      const headers = JSON.stringify(request.headers);
      expect(headers).not.toContain(ENV_TOKEN);
      expect(headers).not.toContain(BEARER);
    }
    expect([...counts.values()]).toEqual(Array.from({ length: SESSIONS }, () => 3));
    // The two sessions with real credentials got their data; no result names another session's token.
    for (const result of [...outcomes[0]!, ...outcomes[1]!]) expect(result.isError).toBeFalsy();
    outcomes.forEach((results, i) => {
      const text = results.map((result) => JSON.stringify(result)).join('\n');
      for (const other of [3, 50, 99].filter((j) => j !== i)) expect(text).not.toContain(`cfut_isolation_${other}_`);
    });
    expect(served.built.logLines.join('\n')).not.toContain('cfut_isolation_');
    // Printed for the record; bench/http.ts measures it properly.
    console.info(`isolation: ${SESSIONS} sessions × 3 parallel calls in ${Math.round(elapsedMs)} ms`);
  });
});
