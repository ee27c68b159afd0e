/**
 * Endpoint auth over real loopback HTTP: the shared bearer (401 +
 * WWW-Authenticate before any MCP processing, constant-time compare, never
 * forwarded upstream) and Cloudflare Access JWTs verified with jose against a
 * loopback key server, with tokens signed here (valid, expired, wrong
 * audience, wrong issuer, unknown key, missing header); the verified email is
 * the audit `actor`. Also Host/Origin extensions, health outside auth, and the
 * refusal to serve beyond loopback without auth.
 */
import { createServer as createNodeServer, type Server as NodeServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessVerifier } from '../src/http/access.js';
import { parseAccessSettings } from '../src/http/settings.js';
import { constantTimeEqual } from '../src/http/auth.js';
import type { ServerFactory } from '../src/http/credentials.js';
import type { Emulator } from '../src/sandbox/emulator.js';
import { serveHttp, type HttpHandle } from '../src/transports/http.js';
import { buildWiring, startTestEmulator, TEST_TOKEN, type BuiltWiring } from './helpers/harness.js';
import { callTool, INITIALIZE, LIST, MCP_HEADERS, raw, streamableClient, textOfResult } from './helpers/http.js';

const BEARER = 'mcp-bearer-LEAKCANARY-5f1e2d3c4b5a6978';
const AUD = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';

let emulator: Emulator;
let built: BuiltWiring;
let created = 0;
const factory = (): ServerFactory => (session) => {
  created += 1;
  return built.wired.createServer(session);
};

beforeAll(async () => {
  emulator = await startTestEmulator();
  built = buildWiring(emulator);
});
afterAll(async () => {
  await built.closeNetwork();
  await emulator.close();
});

// ---------- a Cloudflare Access team on loopback ----------

interface KeyServer {
  origin: string;
  fetches: () => number;
  /** Publishes these keys from now on. */
  publish(keys: JWK[]): void;
  close(): Promise<void>;
}

async function startKeyServer(keys: JWK[]): Promise<KeyServer> {
  let published = keys;
  let fetches = 0;
  const server: NodeServer = createNodeServer((req, res) => {
    if (req.url !== '/cdn-cgi/access/certs') return void res.writeHead(404).end();
    fetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fetches: () => fetches,
    publish: (next) => void (published = next),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function signingKey(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, jwk, privateKey };
}
type SigningKey = Awaited<ReturnType<typeof signingKey>>;

interface TokenOptions {
  key: SigningKey;
  issuer: string;
  audience?: string;
  email?: string;
  /** Seconds from now; negative: already expired. */
  expiresIn?: number;
}

function token({ key, issuer, audience = AUD, email = 'alice@corp.example', expiresIn = 300 }: TokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ email, type: 'app' })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject('7335d417-61da-459d-899c-0a01c76a2f94')
    .setIssuedAt(now - 60)
    .setExpirationTime(now + expiresIn)
    .sign(key.privateKey);
}

// ---------- bearer ----------

describe('MCP_HTTP_BEARER', () => {
  let http: HttpHandle;
  beforeAll(async () => {
    http = await serveHttp({ host: '127.0.0.1', port: 0, createServer: factory(), logger: built.wired.logger, bearer: BEARER, maxBodyBytes: 1024 });
  });
  afterAll(() => http.close());

  it('answers 401 with WWW-Authenticate on /mcp, /sse and /messages without it or with a wrong one, before any MCP processing', async () => {
    const before = created;
    const requests = [
      { path: '/mcp', body: INITIALIZE },
      { path: '/sse', body: undefined },
      { path: '/messages?sessionId=x', body: LIST },
      // Over the body cap: 401, not 413, because the body is never read.
      { path: '/mcp', body: JSON.stringify({ pad: 'x'.repeat(4096) }) },
    ];
    for (const { path, body } of requests) {
      for (const authorization of [undefined, 'Bearer wrong-bearer-0000000000', `Bearer ${BEARER}x`, `Basic ${BEARER}`, BEARER]) {
        const headers: Record<string, string> = { ...MCP_HEADERS, ...(authorization ? { authorization } : {}) };
        const answer = await raw(`${http.url}${path}`, { headers, body });
        expect(answer.status, `${path} with ${authorization}`).toBe(401);
        expect(answer.headers['www-authenticate']).toBe('Bearer realm="cloudflare-users-mcp"');
        expect(answer.body).not.toContain(BEARER);
      }
    }
    expect(created).toBe(before);
  });

  it('serves a client that sends it, and never forwards it upstream', async () => {
    emulator.resetRequests();
    const { client } = await streamableClient(http.url, { authorization: `Bearer ${BEARER}` });
    try {
      const result = await callTool(client, 'list_access_users', { email: 'alice@corp.example' });
      expect(textOfResult(result)).toContain('alice@corp.example');
    } finally {
      await client.close();
    }
    expect(emulator.requests.length).toBeGreaterThan(0);
    for (const request of emulator.requests) {
      expect(JSON.stringify(request.headers)).not.toContain(BEARER);
      expect(request.headers.authorization).toBe(`Bearer ${TEST_TOKEN}`);
    }
  });

  it('compares in constant time, whatever the guess', () => {
    expect(constantTimeEqual(BEARER, BEARER)).toBe(true);
    for (const guess of ['', BEARER.slice(0, -1), `${BEARER}x`, BEARER.toUpperCase(), 'x'.repeat(BEARER.length)]) {
      expect(constantTimeEqual(guess, BEARER), guess).toBe(false);
    }
  });
});

// ---------- Cloudflare Access ----------

describe('Cloudflare Access (Cf-Access-Jwt-Assertion)', () => {
  let keys: KeyServer;
  let current: SigningKey;
  let stranger: SigningKey;
  let http: HttpHandle;

  beforeAll(async () => {
    [current, stranger] = await Promise.all([signingKey('team-key-1'), signingKey('not-published')]);
    keys = await startKeyServer([current.jwk]);
    const access = parseAccessSettings(keys.origin, AUD)!;
    http = await serveHttp({ host: '127.0.0.1', port: 0, createServer: factory(), logger: built.wired.logger, access });
  });
  afterAll(async () => {
    await http.close();
    await keys.close();
  });

  it('serves a valid token, names its email as the actor of every audit line, and caches the keys', async () => {
    const jwt = await token({ key: current, issuer: keys.origin });
    const auditNotifications: unknown[] = [];
    const { client } = await streamableClient(http.url, { 'cf-access-jwt-assertion': jwt });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      if ((n.params.data as { msg?: string }).msg === 'audit') auditNotifications.push(n.params.data);
    });
    try {
      const result = await callTool(client, 'create_access_user', { email: 'access.actor@corp.example', name: 'Via Access' });
      expect(result.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    const audit = built.logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((r) => r.msg === 'audit' && r.email === 'access.actor@corp.example');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'alice@corp.example', outcome: 'ok', tool: 'create_access_user' });
    expect(auditNotifications).toEqual([expect.objectContaining({ actor: 'alice@corp.example' })]);
    // initialize, initialized, the GET stream, tools/call, …: one fetch of the keys for all of them.
    expect(keys.fetches()).toBe(1);
  });

  it('refuses expired, wrong-audience, wrong-issuer, unknown-key, malformed and missing tokens before any MCP processing', async () => {
    const before = created;
    const cases: Array<[string, string | undefined, number]> = [
      ['expired', await token({ key: current, issuer: keys.origin, expiresIn: -120 }), 401],
      ['wrong audience', await token({ key: current, issuer: keys.origin, audience: 'f'.repeat(64) }), 403],
      ['wrong issuer', await token({ key: current, issuer: 'https://other-team.cloudflareaccess.com' }), 403],
      ['unknown key', await token({ key: stranger, issuer: keys.origin }), 403],
      ['malformed', 'not.a.jwt', 403],
      ['missing', undefined, 401],
    ];
    for (const [name, jwt, status] of cases) {
      const headers: Record<string, string> = { ...MCP_HEADERS, ...(jwt ? { 'cf-access-jwt-assertion': jwt } : {}) };
      const answer = await raw(`${http.url}/mcp`, { headers, body: INITIALIZE });
      expect(answer.status, name).toBe(status);
      if (status === 401) expect(answer.headers['www-authenticate'], name).toBe(`CloudflareAccess realm="${keys.origin}"`);
      if (jwt) expect(answer.body).not.toContain(jwt);
    }
    expect(created).toBe(before);
    // The unknown key came right after a fetch: no refetch within the cooldown.
    expect(keys.fetches()).toBe(1);
  });

  it('keeps a session to the person who opened it: another valid caller on its id gets 403', async () => {
    const alice = await token({ key: current, issuer: keys.origin, email: 'alice@corp.example' });
    const bob = await token({ key: current, issuer: keys.origin, email: 'bob@corp.example' });
    const opened = await raw(`${http.url}/mcp`, { headers: { ...MCP_HEADERS, 'cf-access-jwt-assertion': alice }, body: INITIALIZE });
    const session = String(opened.headers['mcp-session-id']);
    const headers = { ...MCP_HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' };
    expect((await raw(`${http.url}/mcp`, { headers: { ...headers, 'cf-access-jwt-assertion': bob }, body: LIST })).status).toBe(403);
    expect((await raw(`${http.url}/mcp`, { headers: { ...headers, 'cf-access-jwt-assertion': alice }, body: LIST })).status).toBe(200);
  });

  it('refetches the keys on an unknown key id at most once per cooldown (key rotation)', async () => {
    const next = await signingKey('team-key-2');
    const rotating = await startKeyServer([current.jwk]);
    try {
      const verify = createAccessVerifier({ teamDomain: rotating.origin, audience: AUD }, { refetchCooldownMs: 300 });
      expect(await verify(await token({ key: current, issuer: rotating.origin }))).toEqual({ ok: true, actor: 'alice@corp.example' });
      expect(rotating.fetches()).toBe(1);
      rotating.publish([current.jwk, next.jwk]);
      const rotated = await token({ key: next, issuer: rotating.origin });
      // Within the cooldown the new key id is unknown and nothing is fetched.
      expect(await verify(rotated)).toMatchObject({ ok: false, status: 403 });
      expect(rotating.fetches()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 350));
      expect(await verify(rotated)).toEqual({ ok: true, actor: 'alice@corp.example' });
      expect(rotating.fetches()).toBe(2);
      // A key nobody publishes, right after: refused without asking again.
      expect(await verify(await token({ key: stranger, issuer: rotating.origin }))).toMatchObject({ ok: false, status: 403 });
      expect(rotating.fetches()).toBe(2);
    } finally {
      await rotating.close();
    }
  });

  it('answers 503 (not the caller\'s fault) when the team\'s keys cannot be fetched', async () => {
    const verify = createAccessVerifier({ teamDomain: 'http://127.0.0.1:9', audience: AUD });
    expect(await verify(await token({ key: current, issuer: 'http://127.0.0.1:9' }))).toMatchObject({ ok: false, status: 503 });
  });

  it('requires both checks when both the bearer and Access are configured', async () => {
    const both = await serveHttp({ host: '127.0.0.1', port: 0, createServer: factory(), logger: built.wired.logger, bearer: BEARER, access: parseAccessSettings(keys.origin, AUD) });
    try {
      const jwt = await token({ key: current, issuer: keys.origin });
      const url = `${both.url}/mcp`;
      expect((await raw(url, { headers: { ...MCP_HEADERS, 'cf-access-jwt-assertion': jwt }, body: INITIALIZE })).status).toBe(401);
      expect((await raw(url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${BEARER}` }, body: INITIALIZE })).status).toBe(401);
      expect((await raw(url, { headers: { ...MCP_HEADERS, authorization: `Bearer ${BEARER}`, 'cf-access-jwt-assertion': jwt }, body: INITIALIZE })).status).toBe(200);
    } finally {
      await both.close();
    }
  });

  it('checks the settings: both or neither, https unless loopback, the team domain alone', () => {
    expect(parseAccessSettings(undefined, undefined)).toBeUndefined();
    expect(parseAccessSettings('acme.cloudflareaccess.com', AUD)).toEqual({ teamDomain: 'https://acme.cloudflareaccess.com', audience: AUD });
    expect(parseAccessSettings('https://acme.cloudflareaccess.com/', ` ${AUD} `)).toEqual({ teamDomain: 'https://acme.cloudflareaccess.com', audience: AUD });
    expect(parseAccessSettings('http://[::1]:8443', AUD)?.teamDomain).toBe('http://[::1]:8443');
    expect(() => parseAccessSettings('http://acme.cloudflareaccess.com', AUD)).toThrow(/https/);
    expect(() => parseAccessSettings('https://acme.cloudflareaccess.com/cdn-cgi/access/certs', AUD)).toThrow(/without a path/);
    expect(() => parseAccessSettings('https://acme.cloudflareaccess.com', undefined)).toThrow(/both/);
    expect(() => parseAccessSettings(undefined, AUD)).toThrow(/both/);
  });
});

// ---------- Host/Origin, health, open binds ----------

describe('Host and Origin beyond loopback (--allowed-hosts, --allowed-origins)', () => {
  it('accepts the listed names (any port for a bare name, exactly for host:port) and origins, and nothing else', async () => {
    const http = await serveHttp({
      host: '127.0.0.1',
      port: 0,
      createServer: factory(),
      logger: built.wired.logger,
      allowedHosts: ['mcp.example.com', 'lan.example:9443'],
      allowedOrigins: ['https://app.example'],
    });
    try {
      const status = async (headers: Record<string, string>) => (await raw(`${http.url}/mcp`, { headers: { ...MCP_HEADERS, ...headers }, body: INITIALIZE })).status;
      expect(await status({ host: 'mcp.example.com' })).toBe(200);
      expect(await status({ host: 'mcp.example.com:443', origin: 'https://mcp.example.com' })).toBe(200);
      expect(await status({ host: 'lan.example:9443' })).toBe(200);
      expect(await status({ host: `127.0.0.1:${http.port}`, origin: 'https://app.example' })).toBe(200);
      expect(await status({ host: 'lan.example:9444' })).toBe(403);
      expect(await status({ host: 'evil.example' })).toBe(403);
      expect(await status({ host: 'mcp.example.com', origin: 'https://evil.example' })).toBe(403);
    } finally {
      await http.close();
    }
  });
});

describe('health', () => {
  it('answers /healthz and /readyz outside auth and the Host check, saying nothing about the setup; /readyz is 503 once shutdown began', async () => {
    const http = await serveHttp({ host: '127.0.0.1', port: 0, createServer: factory(), logger: built.wired.logger, bearer: BEARER });
    try {
      const healthz = await raw(`${http.url}/healthz`, { headers: { host: 'probe.internal:1' } });
      expect([healthz.status, healthz.body]).toEqual([200, '{"ok":true}']);
      const readyz = await raw(`${http.url}/readyz`);
      expect([readyz.status, readyz.body]).toEqual([200, '{"ready":true}']);
      http.stopAccepting();
      const stopping = await raw(`${http.url}/readyz`);
      expect([stopping.status, stopping.body]).toEqual([503, '{"ready":false}']);
      // Only GET: the rest of the app (auth first) answers anything else.
      expect((await raw(`${http.url}/healthz`, { method: 'POST', body: '{}' })).status).toBe(401);
    } finally {
      await http.close();
    }
  });
});

describe('binding beyond loopback', () => {
  it('refuses to serve a non-loopback address without endpoint auth, before listening', async () => {
    await expect(serveHttp({ host: '0.0.0.0', port: 0, createServer: factory(), logger: built.wired.logger })).rejects.toThrow(/MCP_HTTP_BEARER/);
  });
});
