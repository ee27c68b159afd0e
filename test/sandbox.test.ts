/**
 * The sandbox emulator: endpoints, Cloudflare-style errors, demo data, fault
 * injection, and response shapes checked against the upstream OpenAPI file.
 * Requests go through node:http with `agent: false` so raw paths (`..`,
 * `%2e%2e`) reach the server unnormalised and no pooled socket outlives a fault.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  SANDBOX_ACCOUNT_ID,
  SANDBOX_ALICE,
  SANDBOX_BOB,
  SANDBOX_CAROL,
  startEmulator,
  type AccessUser,
  type ActiveSession,
  type Emulator,
  type FailedLogin,
  type Identity,
} from '../src/sandbox/emulator.js';

// ---------------------------------------------------------------------------
// HTTP helpers

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

interface V4Message {
  code: number;
  message: string;
  error_chain?: V4Message[];
}

interface V4Body {
  success: boolean;
  errors: V4Message[];
  messages: V4Message[];
  result?: unknown;
  result_info?: Record<string, number>;
  [extra: string]: unknown;
}

interface ApiResult extends RawResponse {
  body: V4Body;
}

const TOKEN_AUTH = { authorization: 'Bearer sandbox-token' };

function send(
  emulator: Emulator,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: emulator.port, method, path, headers: options.headers ?? TOKEN_AUTH, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(new Error('response closed before it was complete'));
        });
      },
    );
    req.on('error', reject);
    if (options.timeoutMs !== undefined) req.setTimeout(options.timeoutMs, () => req.destroy(new Error('client timeout')));
    req.end(options.body);
  });
}

async function api(
  emulator: Emulator,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; json?: unknown; body?: string } = {},
): Promise<ApiResult> {
  const headers = { ...(options.headers ?? TOKEN_AUTH), ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}) };
  const body = options.json !== undefined ? JSON.stringify(options.json) : options.body;
  const raw = await send(emulator, method, path.startsWith('/client/v4') ? path : `/client/v4${path}`, { headers, ...(body !== undefined ? { body } : {}) });
  return { ...raw, body: JSON.parse(raw.text) as V4Body };
}

const usersPath = (accountId = SANDBOX_ACCOUNT_ID) => `/accounts/${accountId}/access/users`;
const userPath = (userId: string, suffix = '') => `${usersPath()}/${userId}${suffix}`;

function expectError(result: ApiResult, status: number, code: number) {
  expect(result.status).toBe(status);
  expect(result.headers['content-type']).toContain('application/json');
  expect(result.body.success).toBe(false);
  expect(result.body.result).toBeNull();
  expect(result.body.errors[0]?.code).toBe(code);
}

// ---------------------------------------------------------------------------
// A small OpenAPI checker: $ref, allOf, anyOf, type, nullable, enum, required,
// properties, additionalProperties, items, minimum. Enough for these schemas.

type Schema = Record<string, unknown>;
const spec = JSON.parse(readFileSync(new URL('../spec/cloudflare-users.openapi.json', import.meta.url), 'utf8')) as Schema;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deref(schema: Schema): Schema {
  let current = schema;
  for (let hops = 0; typeof current['$ref'] === 'string'; hops++) {
    if (hops > 20) throw new Error('$ref loop');
    const pointer = (current['$ref'] as string).replace(/^#\//, '').split('/');
    let target: unknown = spec;
    for (const key of pointer) target = isRecord(target) ? target[key] : undefined;
    if (!isRecord(target)) throw new Error(`unresolved $ref ${String(current['$ref'])}`);
    current = target;
  }
  return current;
}

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return isRecord(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

function checkSchema(input: unknown, value: unknown, at: string, problems: string[]): void {
  if (!isRecord(input)) return;
  const schema = deref(input);
  for (const sub of Array.isArray(schema['allOf']) ? schema['allOf'] : []) checkSchema(sub, value, at, problems);
  if (Array.isArray(schema['anyOf'])) {
    const anyMatches = schema['anyOf'].some((sub) => {
      const subProblems: string[] = [];
      checkSchema(sub, value, at, subProblems);
      return subProblems.length === 0;
    });
    if (!anyMatches) problems.push(`${at}: matches none of anyOf`);
  }
  const enumValues = Array.isArray(schema['enum']) ? schema['enum'] : undefined;
  if (value === null) {
    if (schema['type'] !== undefined && schema['nullable'] !== true && !enumValues?.includes(null)) problems.push(`${at}: null not allowed`);
    return;
  }
  if (typeof schema['type'] === 'string' && !typeMatches(schema['type'], value)) {
    problems.push(`${at}: expected ${schema['type']}, got ${JSON.stringify(value)?.slice(0, 60)}`);
    return;
  }
  if (enumValues && !enumValues.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if (typeof schema['minimum'] === 'number' && typeof value === 'number' && value < schema['minimum']) problems.push(`${at}: below minimum`);
  if (isRecord(value)) {
    for (const key of Array.isArray(schema['required']) ? schema['required'] : []) {
      if (typeof key === 'string' && !(key in value)) problems.push(`${at}: missing required ${key}`);
    }
    const properties = isRecord(schema['properties']) ? schema['properties'] : {};
    for (const [key, child] of Object.entries(value)) {
      if (key in properties) checkSchema(properties[key], child, `${at}.${key}`, problems);
      else if (isRecord(schema['additionalProperties'])) checkSchema(schema['additionalProperties'], child, `${at}.${key}`, problems);
    }
  }
  if (Array.isArray(value) && isRecord(schema['items'])) value.forEach((item, i) => checkSchema(schema['items'], item, `${at}[${i}]`, problems));
}

/** The problems of `body` against the schema the spec declares for that operation and status. */
function schemaProblems(specPath: string, method: string, status: string, body: unknown): string[] {
  const paths = spec['paths'] as Record<string, Record<string, Schema>>;
  const responses = paths[specPath]?.[method]?.['responses'];
  const response = isRecord(responses) ? responses[status] : undefined;
  const content = isRecord(response) && isRecord(response['content']) ? response['content']['application/json'] : undefined;
  const schema = isRecord(content) ? content['schema'] : undefined;
  if (!isRecord(schema)) throw new Error(`no schema for ${method} ${specPath} ${status}`);
  const problems: string[] = [];
  checkSchema(schema, body, '$', problems);
  return problems;
}

const USERS_SPEC = '/accounts/{account_id}/access/users';
const USER_SPEC = `${USERS_SPEC}/{user_id}`;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MICROSECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const USER_KEYS = ['id', 'uid', 'seat_uid', 'email', 'name', 'access_seat', 'gateway_seat', 'active_device_count', 'created_at', 'updated_at'];
const IDENTITY_KEYS = [
  'account_id', 'auth_status', 'common_name', 'devicePosture', 'device_id', 'device_sessions', 'email', 'geo', 'iat', 'idp', 'ip',
  'is_gateway', 'is_warp', 'mtls_auth', 'service_token_id', 'service_token_status', 'user_uuid', 'version',
];

// ---------------------------------------------------------------------------

let em: Emulator;

beforeAll(async () => {
  em = await startEmulator({ readOnlyToken: 'sandbox-read-only-token' });
});

afterAll(async () => {
  await em.close();
});

afterEach(() => {
  em.clearFaults();
});

describe('schema checker', () => {
  it('catches wrong shapes, so the passing checks below mean something', () => {
    expect(schemaProblems(USERS_SPEC, 'get', '200', { success: true, errors: [], messages: [], result: [{ email: 7, active_device_count: 'two' }] })).toEqual([
      '$.result[0].email: expected string, got 7',
      '$.result[0].active_device_count: expected number, got "two"',
    ]);
    expect(schemaProblems(USER_SPEC, 'get', '200', { success: false, errors: [{ code: 1 }] })).toEqual(
      expect.arrayContaining(['$: missing required messages', '$.success: false not in enum', '$.errors[0]: missing required message', '$.errors[0].code: below minimum']),
    );
    expect(schemaProblems(`${USER_SPEC}/active_sessions/{nonce}`, 'get', '200', { success: true, errors: [], messages: [], result: { isActive: 'yes', devicePosture: { r: { success: 1 } } } })).toEqual([
      '$.result.devicePosture.r.success: expected boolean, got 1',
      '$.result.isActive: expected boolean, got "yes"',
    ]);
  });
});

describe('GET /user', () => {
  it('returns the token owner with an API token or email + global key', async () => {
    for (const headers of [TOKEN_AUTH, { 'x-auth-email': 'admin@example.com', 'x-auth-key': 'sandbox-global-key' }]) {
      const res = await api(em, 'GET', '/user', { headers });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toContain('application/json');
      expect(schemaProblems('/user', 'get', '200', res.body)).toEqual([]);
      const owner = res.body.result as Record<string, unknown>;
      expect(owner['id']).toMatch(/^[0-9a-f]{32}$/);
      expect(owner['email']).toBe('admin@example.com');
      expect(owner).toHaveProperty('two_factor_authentication_enabled');
      expect(owner['created_on']).toMatch(MICROSECONDS);
      expect(owner['organizations']).toEqual([expect.objectContaining({ id: SANDBOX_ACCOUNT_ID, status: 'member' })]);
    }
  });

  it('works through the global fetch too', async () => {
    const res = await fetch(`${em.baseUrl}/user`, { headers: TOKEN_AUTH });
    expect(res.status).toBe(200);
    expect(((await res.json()) as V4Body).success).toBe(true);
  });
});

describe('credentials', () => {
  it('rejects missing, wrong and malformed credentials like Cloudflare', async () => {
    expectError(await api(em, 'GET', '/user', { headers: {} }), 400, 9106);
    expectError(await api(em, 'GET', usersPath(), { headers: { 'x-auth-email': 'admin@example.com' } }), 400, 9106);
    expectError(await api(em, 'GET', usersPath(), { headers: { 'x-auth-key': 'sandbox-global-key' } }), 400, 9106);
    const badToken = await api(em, 'GET', usersPath(), { headers: { authorization: 'Bearer not-the-right-token-1234' } });
    expectError(badToken, 403, 10000);
    expect(badToken.body.errors[0]?.message).toBe('Authentication error');
    const badKey = await api(em, 'GET', '/user', { headers: { 'x-auth-email': 'admin@example.com', 'x-auth-key': 'wrong-global-key-5678' } });
    expectError(badKey, 403, 9103);
    expectError(await api(em, 'GET', '/user', { headers: { 'x-auth-email': 'other@example.com', 'x-auth-key': 'sandbox-global-key' } }), 403, 9103);
    const malformed = await api(em, 'GET', '/user', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expectError(malformed, 400, 6003);
    expect(malformed.body.errors[0]?.error_chain?.[0]?.code).toBe(6111);
    expect(schemaProblems(USERS_SPEC, 'get', '4XX', badToken.body)).toEqual([]);
    // Nothing the client sent as a secret comes back.
    for (const res of [badToken, badKey]) expect(res.text).not.toMatch(/not-the-right-token|wrong-global-key|sandbox-token|sandbox-global-key/);
  });

  it('lets a read-only token GET but not write', async () => {
    const headers = { authorization: 'Bearer sandbox-read-only-token' };
    expect((await api(em, 'GET', usersPath(), { headers })).status).toBe(200);
    const before = em.state.users.size;
    expectError(await api(em, 'POST', usersPath(), { headers, json: { email: 'ro@corp.example' } }), 403, 10000);
    expectError(await api(em, 'DELETE', userPath(SANDBOX_BOB.id), { headers }), 403, 10000);
    expect(em.state.users.size).toBe(before);
  });
});

describe('GET users (list)', () => {
  it('pages through every user in a stable created_at order', async () => {
    const first = await api(em, 'GET', usersPath());
    expect(first.status).toBe(200);
    expect(schemaProblems(USERS_SPEC, 'get', '200', first.body)).toEqual([]);
    expect(first.body.result_info).toEqual({ page: 1, per_page: 25, count: 25, total_count: 60, total_pages: 3 });

    const seen: AccessUser[] = [];
    for (let page = 1; page <= 3; page++) {
      const res = await api(em, 'GET', `${usersPath()}?page=${page}&per_page=25`);
      seen.push(...(res.body.result as AccessUser[]));
      expect(res.body.result_info?.['count']).toBe(page < 3 ? 25 : 10);
    }
    expect(new Set(seen.map((u) => u.id)).size).toBe(60);
    const order = seen.map((u) => `${u.created_at}|${u.id}`);
    expect(order).toEqual([...order].sort());

    const beyond = await api(em, 'GET', `${usersPath()}?page=4`);
    expect(beyond.body.result).toEqual([]);
    expect(beyond.body.result_info).toMatchObject({ page: 4, count: 0, total_count: 60 });
    const all = await api(em, 'GET', `${usersPath()}?per_page=1000`);
    expect(all.body.result_info).toEqual({ page: 1, per_page: 1000, count: 60, total_count: 60, total_pages: 1 });
  });

  it('filters by email (exact, case-insensitive), name and search, while total_count ignores filters', async () => {
    const byEmail = await api(em, 'GET', `${usersPath()}?email=ALICE%40Corp.Example`);
    expect((byEmail.body.result as AccessUser[]).map((u) => u.id)).toEqual([SANDBOX_ALICE.id]);
    expect(byEmail.body.result_info).toEqual({ page: 1, per_page: 25, count: 1, total_count: 60, total_pages: 3 });
    expect((await api(em, 'GET', `${usersPath()}?email=alice%40corp`)).body.result).toEqual([]);

    const byName = (await api(em, 'GET', `${usersPath()}?name=nakamu`)).body.result as AccessUser[];
    expect(byName.map((u) => u.email)).toEqual([SANDBOX_ALICE.email]);

    const bySearch = (await api(em, 'GET', `${usersPath()}?search=%40EXAMPLE.COM&per_page=1000`)).body.result as AccessUser[];
    expect(bySearch.length).toBeGreaterThan(3);
    expect(bySearch.every((u) => u.email.endsWith('@example.com'))).toBe(true);
    expect(bySearch.map((u) => u.email)).toContain(SANDBOX_CAROL.email);
    const bySearchName = (await api(em, 'GET', `${usersPath()}?search=lindqvist`)).body.result as AccessUser[];
    expect(bySearchName.map((u) => u.id)).toEqual([SANDBOX_BOB.id]);
  });

  it('refuses out-of-range paging with 400', async () => {
    for (const query of ['per_page=0', 'per_page=1001', 'per_page=abc', 'page=0', 'page=-1', 'page=1.5']) {
      const res = await api(em, 'GET', `${usersPath()}?${query}`);
      expectError(res, 400, 12130);
      expect(schemaProblems(USERS_SPEC, 'get', '4XX', res.body)).toEqual([]);
    }
  });
});

describe('ids and routing', () => {
  it('answers bad and foreign account ids, bad and unknown user ids', async () => {
    const badAccount = await api(em, 'GET', usersPath('not-hex'));
    expectError(badAccount, 400, 7003);
    expect(badAccount.body.errors[0]?.message).toMatch(/^Could not route to \/client\/v4\/accounts\/not-hex\/access\/users, perhaps your object identifier is invalid\?$/);
    expectError(await api(em, 'GET', usersPath(SANDBOX_ACCOUNT_ID.toUpperCase())), 400, 7003);
    expectError(await api(em, 'GET', usersPath('0123456789abcdef0123456789abcdef')), 403, 9109);
    expectError(await api(em, 'GET', userPath('not-a-uuid')), 400, 7003);
    expectError(await api(em, 'GET', userPath('abc%2Fdef')), 400, 7003);
    const unknown = await api(em, 'GET', userPath('00000000-0000-4000-8000-000000000000'));
    expectError(unknown, 404, 12130);
    expect(unknown.body.errors[0]?.message).toBe('User not found');
    expectError(await api(em, 'GET', userPath('00000000-0000-4000-8000-000000000000', '/active_sessions')), 404, 12130);
  });

  it('never routes dot segments, bad encodings or unknown paths, and keeps serving', async () => {
    const base = `/client/v4${usersPath()}`;
    for (const path of [
      `${base}/..`,
      `${base}/%2e%2e`,
      `${base}/%2E%2E/active_sessions`,
      `${base}/./${SANDBOX_ALICE.id}`,
      `/client/v4/accounts/${SANDBOX_ACCOUNT_ID}/access/users/${SANDBOX_ALICE.id}/../../../../user`,
      `/client/v4/accounts/%2e%2e/user`,
      `${base}/%zz`,
      `${base}//`,
      '/client/v4/zones',
      '/client/v4',
      '/',
      `/client/v4/${'a/'.repeat(500)}`,
    ]) {
      const res = await api(em, 'GET', path);
      expectError(res, 404, 7003);
      expect(res.body.errors[0]?.message).toBe('No route for the URI');
    }
    expectError(await api(em, 'PATCH', userPath(SANDBOX_ALICE.id)), 404, 7003);
    expectError(await api(em, 'POST', '/user'), 404, 7003);
    expectError(await api(em, 'GET', '/nothing', { headers: {} }), 404, 7003);
    // An uppercase UUID is the same user.
    expect((await api(em, 'GET', userPath(SANDBOX_ALICE.id.toUpperCase()))).status).toBe(200);
    expect((await api(em, 'GET', '/user')).status).toBe(200);
  });

  it('survives garbage HTTP and oversized bodies', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(em.port, '127.0.0.1', () => socket.write('GARBAGE \x00\x01 nonsense\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    const huge = await api(em, 'POST', usersPath(), { headers: { ...TOKEN_AUTH, 'content-type': 'application/json' }, body: 'x'.repeat(1024 * 1024 + 10) });
    expectError(huge, 413, 10413);
    expect((await api(em, 'GET', '/user')).status).toBe(200);
  });
});

describe('single user, sessions, identities, failed logins', () => {
  it('GET user returns the full user shape', async () => {
    const res = await api(em, 'GET', userPath(SANDBOX_ALICE.id));
    expect(res.status).toBe(200);
    expect(schemaProblems(USER_SPEC, 'get', '200', res.body)).toEqual([]);
    const user = res.body.result as AccessUser;
    expect(Object.keys(user)).toEqual(expect.arrayContaining([...USER_KEYS, 'last_successful_login']));
    expect(user).toMatchObject({ id: SANDBOX_ALICE.id, uid: SANDBOX_ALICE.id, email: SANDBOX_ALICE.email, name: SANDBOX_ALICE.name });
    expect(user.created_at).toMatch(MICROSECONDS);
    expect(user.last_successful_login).toMatch(SECONDS);
  });

  it('lists active sessions and returns a session identity', async () => {
    const list = await api(em, 'GET', userPath(SANDBOX_ALICE.id, '/active_sessions'));
    expect(list.status).toBe(200);
    expect(schemaProblems(`${USER_SPEC}/active_sessions`, 'get', '200', list.body)).toEqual([]);
    const sessions = list.body.result as ActiveSession[];
    expect(sessions).toHaveLength(SANDBOX_ALICE.sessionCount);
    expect(list.body.result_info).toMatchObject({ page: 1, count: 3, total_count: 3 });
    expect(sessions[0]?.metadata.nonce).toBe(SANDBOX_ALICE.sessionNonce);
    for (const session of sessions) {
      expect(session.expiration).toBe(session.metadata.expires);
      expect(session.metadata.expires - session.metadata.iat).toBe(session.metadata.ttl);
      const apps = Object.entries(session.metadata.apps);
      expect(apps.length).toBeGreaterThanOrEqual(1);
      expect(apps.length).toBeLessThanOrEqual(3);
      for (const [uid, app] of apps) expect(app).toEqual({ uid, hostname: expect.any(String), name: expect.any(String), type: expect.any(String) });
    }

    const single = await api(em, 'GET', userPath(SANDBOX_ALICE.id, `/active_sessions/${SANDBOX_ALICE.sessionNonce}`));
    expect(single.status).toBe(200);
    expect(schemaProblems(`${USER_SPEC}/active_sessions/{nonce}`, 'get', '200', single.body)).toEqual([]);
    const identity = single.body.result as Identity & { isActive: boolean };
    expect(Object.keys(identity)).toEqual(expect.arrayContaining([...IDENTITY_KEYS, 'isActive', 'groups']));
    expect(identity).toMatchObject({ isActive: true, user_uuid: SANDBOX_ALICE.id, email: SANDBOX_ALICE.email, account_id: SANDBOX_ACCOUNT_ID, is_warp: true });
    const rules = Object.entries(identity.devicePosture);
    expect(rules.length).toBeGreaterThanOrEqual(5);
    expect(rules.length).toBeLessThanOrEqual(10);
    for (const [id, rule] of rules) {
      expect(rule.id).toBe(id);
      expect(Object.keys(rule)).toEqual(expect.arrayContaining(['check', 'data', 'description', 'error', 'id', 'rule_name', 'success', 'timestamp', 'type']));
    }
    const deviceSessions = Object.keys(identity.device_sessions);
    expect(deviceSessions[0]).toBe(identity.device_id);
    expect(deviceSessions.length).toBeGreaterThanOrEqual(1);
    expect(deviceSessions.length).toBeLessThanOrEqual(3);

    expectError(await api(em, 'GET', userPath(SANDBOX_ALICE.id, '/active_sessions/NoSuchNonce123')), 404, 12130);
    expectError(await api(em, 'GET', userPath(SANDBOX_BOB.id, `/active_sessions/${SANDBOX_ALICE.sessionNonce}`)), 404, 12130);
    const none = await api(em, 'GET', userPath(SANDBOX_BOB.id, '/active_sessions'));
    expect(none.body.result).toEqual([]);
    expect(none.body.result_info).toMatchObject({ count: 0, total_count: 0 });
  });

  it('returns the last seen identity, or 404 for a user who never logged in', async () => {
    for (const id of [SANDBOX_ALICE.id, SANDBOX_CAROL.id]) {
      const res = await api(em, 'GET', userPath(id, '/last_seen_identity'));
      expect(res.status).toBe(200);
      expect(schemaProblems(`${USER_SPEC}/last_seen_identity`, 'get', '200', res.body)).toEqual([]);
      const identity = res.body.result as Identity;
      expect(Object.keys(identity)).toEqual(expect.arrayContaining(IDENTITY_KEYS));
      expect(identity).not.toHaveProperty('isActive');
      expect(identity.user_uuid).toBe(id);
    }
    const bob = await api(em, 'GET', userPath(SANDBOX_BOB.id, '/last_seen_identity'));
    expectError(bob, 404, 12130);
    expect(schemaProblems(`${USER_SPEC}/last_seen_identity`, 'get', '4XX', bob.body)).toEqual([]);
  });

  it('lists failed logins', async () => {
    const res = await api(em, 'GET', userPath(SANDBOX_ALICE.id, '/failed_logins'));
    expect(res.status).toBe(200);
    expect(schemaProblems(`${USER_SPEC}/failed_logins`, 'get', '200', res.body)).toEqual([]);
    const logins = res.body.result as FailedLogin[];
    expect(logins).toHaveLength(SANDBOX_ALICE.failedLoginCount);
    expect(res.body.result_info).toMatchObject({ page: 1, count: 3, total_count: 3 });
    for (const login of logins) {
      expect(Number.isInteger(login.expiration)).toBe(true);
      expect(login.metadata).toEqual({
        app_name: expect.any(String),
        aud: expect.stringMatching(/^[0-9a-f]{64}$/),
        datetime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        ray_id: expect.stringMatching(/^[0-9a-f]{16}$/),
        user_email: SANDBOX_ALICE.email,
        user_uuid: SANDBOX_ALICE.id,
      });
    }
    expect(((await api(em, 'GET', userPath(SANDBOX_CAROL.id, '/failed_logins'))).body.result as FailedLogin[]).length).toBe(SANDBOX_CAROL.failedLoginCount);
    expect((await api(em, 'GET', userPath(SANDBOX_BOB.id, '/failed_logins'))).body.result).toEqual([]);
  });
});

describe('demo data', () => {
  it('is realistic and deterministic', async () => {
    const users = [...em.state.users.values()];
    expect(users).toHaveLength(60);
    expect(users.every((u) => u.uid === u.id && UUID_V4.test(u.id))).toBe(true);
    expect(users.every((u) => MICROSECONDS.test(u.created_at) && MICROSECONDS.test(u.updated_at) && u.updated_at >= u.created_at)).toBe(true);
    expect(users.every((u) => u.last_successful_login === undefined || SECONDS.test(u.last_successful_login))).toBe(true);
    expect(users.filter((u) => u.last_successful_login === undefined).length).toBeGreaterThanOrEqual(2);
    expect(users.every((u) => /@(corp\.example|example\.com)$/.test(u.email))).toBe(true);
    expect(new Set(users.map((u) => u.email)).size).toBe(60);
    expect(users.some((u) => u.access_seat) && users.some((u) => !u.access_seat) && users.some((u) => u.gateway_seat)).toBe(true);
    expect(users.every((u) => u.active_device_count >= 0 && u.active_device_count <= 4)).toBe(true);
    expect(em.state.sessions.size).toBeGreaterThanOrEqual(10);
    for (const sessions of em.state.sessions.values()) {
      expect(sessions.length).toBeGreaterThanOrEqual(1);
      expect(sessions.length).toBeLessThanOrEqual(4);
    }
    expect([...em.state.failedLogins.values()].every((logins) => logins.length >= 1 && logins.length <= 8)).toBe(true);

    const again = await startEmulator();
    const other = await startEmulator({ seed: 7, userCount: 5 });
    try {
      expect(JSON.stringify([...again.state.users.values()])).toBe(JSON.stringify(users));
      expect(JSON.stringify([...again.state.sessions.entries()])).toBe(JSON.stringify([...em.state.sessions.entries()]));
      expect(other.state.users.size).toBe(5);
      expect(other.state.users.get(SANDBOX_ALICE.id)?.email).toBe(SANDBOX_ALICE.email);
      expect([...other.state.users.keys()]).not.toEqual([...again.state.users.keys()].slice(0, 5));
    } finally {
      await Promise.all([again.close(), other.close()]);
    }
  });
});

describe('writes', () => {
  let writable: Emulator;
  beforeAll(async () => {
    writable = await startEmulator();
  });
  afterAll(async () => {
    await writable.close();
  });

  it('creates, finds, renames and deletes a user', async () => {
    const created = await api(writable, 'POST', usersPath(), { json: { email: 'new.hire@corp.example', name: 'New Hire' } });
    expect(created.status).toBe(201);
    expect(schemaProblems(USERS_SPEC, 'post', '201', created.body)).toEqual([]);
    const user = created.body.result as AccessUser;
    expect(user).toMatchObject({ email: 'new.hire@corp.example', name: 'New Hire', access_seat: false, gateway_seat: false, active_device_count: 0 });
    expect(user.id).toMatch(UUID_V4);
    expect(user.uid).toBe(user.id);
    expect(user.created_at).toMatch(MICROSECONDS);
    expect(user.updated_at).toBe(user.created_at);
    expect(user).not.toHaveProperty('last_successful_login');
    expect(Math.abs(Date.parse(user.created_at) - Date.now())).toBeLessThan(60_000);

    const listed = await api(writable, 'GET', `${usersPath()}?email=new.hire%40corp.example`);
    expect(listed.body.result).toEqual([user]);
    expect(listed.body.result_info?.['total_count']).toBe(61);
    expect(writable.requests.at(-2)?.body).toBe(JSON.stringify({ email: 'new.hire@corp.example', name: 'New Hire' }));

    const renamed = await api(writable, 'PUT', userPath(user.id), { json: { email: 'NEW.HIRE@corp.example', name: 'Newly Hired' } });
    expect(renamed.status).toBe(200);
    expect(schemaProblems(USER_SPEC, 'put', '200', renamed.body)).toEqual([]);
    expect(renamed.body.result).toMatchObject({ id: user.id, name: 'Newly Hired', email: 'new.hire@corp.example' });

    const deleted = await api(writable, 'DELETE', userPath(user.id));
    expect(deleted.status).toBe(202);
    expect(schemaProblems(USER_SPEC, 'delete', '202', deleted.body)).toEqual([]);
    expect(deleted.body.result).toEqual({ id: user.id });
    expectError(await api(writable, 'GET', userPath(user.id)), 404, 12130);
    expectError(await api(writable, 'DELETE', userPath(user.id)), 404, 12130);
    expect((await api(writable, 'GET', usersPath())).body.result_info?.['total_count']).toBe(60);
  });

  it('validates create and update bodies', async () => {
    const duplicate = await api(writable, 'POST', usersPath(), { json: { email: 'Alice@Corp.Example' } });
    expectError(duplicate, 409, 12130);
    expect(duplicate.body.errors[0]?.message).toMatch(/^access\.api\.error\.conflict/);
    expectError(await api(writable, 'POST', usersPath(), { json: { email: 'not-an-email' } }), 400, 12130);
    expectError(await api(writable, 'POST', usersPath(), { json: { name: 'No Email' } }), 400, 12130);
    expectError(await api(writable, 'POST', usersPath(), { json: ['a@corp.example'] }), 400, 12130);
    expectError(await api(writable, 'POST', usersPath(), { json: { email: 'x@corp.example', name: 42 } }), 400, 12130);
    expectError(await api(writable, 'POST', usersPath(), { body: '{"email": "broken@corp.example",' }), 400, 6007);
    expectError(await api(writable, 'POST', usersPath()), 400, 12130);

    const changed = await api(writable, 'PUT', userPath(SANDBOX_ALICE.id), { json: { email: 'alice@elsewhere.example', name: 'Alice N.' } });
    expectError(changed, 400, 12130);
    expect(changed.body.errors[0]?.message).toContain('email cannot be changed');
    expectError(await api(writable, 'PUT', userPath(SANDBOX_ALICE.id), { json: { email: SANDBOX_ALICE.email } }), 400, 12130);
    expectError(await api(writable, 'PUT', userPath(SANDBOX_ALICE.id), { json: { name: 'Alice' } }), 400, 12130);
    expectError(await api(writable, 'PUT', userPath('00000000-0000-4000-8000-000000000000'), { json: { email: 'a@b.example', name: 'A' } }), 404, 12130);
    expect(writable.state.users.get(SANDBOX_ALICE.id)?.name).toBe(SANDBOX_ALICE.name);
  });

  it('deleting a user removes its sessions, identity and failed logins', async () => {
    expect((await api(writable, 'DELETE', userPath(SANDBOX_CAROL.id))).status).toBe(202);
    expect(writable.state.lastSeenIdentities.has(SANDBOX_CAROL.id)).toBe(false);
    expect(writable.state.failedLogins.has(SANDBOX_CAROL.id)).toBe(false);
    expectError(await api(writable, 'GET', userPath(SANDBOX_CAROL.id, '/failed_logins')), 404, 12130);
    expect((await api(writable, 'GET', usersPath())).body.result_info?.['total_count']).toBe(59);
  });
});

describe('fault injection', () => {
  it('status faults: 429 with Retry-After, 5xx, custom body, times and matching', async () => {
    em.inject({ fault: { kind: 'status', status: 429, retryAfter: '2' }, times: 2, method: 'GET', pathIncludes: '/access/users' });
    em.inject({ fault: { kind: 'status', status: 503, body: '{"success":false,"errors":[{"code":10503,"message":"down"}],"messages":[],"result":null}' }, method: 'POST' });
    expect((await api(em, 'GET', '/user')).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const limited = await api(em, 'GET', usersPath());
      expectError(limited, 429, 971);
      expect(limited.headers['retry-after']).toBe('2');
    }
    expect((await api(em, 'GET', usersPath())).status).toBe(200);
    const down = await api(em, 'POST', usersPath('0'.repeat(32)), { json: { email: 'x@corp.example' } });
    expectError(down, 503, 10503);
    expect(down.body.errors[0]?.message).toBe('down');

    em.inject({ fault: { kind: 'status', status: 500, retryAfter: 'Wed, 21 Oct 2026 07:28:00 GMT' } });
    const failed = await api(em, 'GET', '/user');
    expectError(failed, 500, 10500);
    expect(failed.headers['retry-after']).toBe('Wed, 21 Oct 2026 07:28:00 GMT');

    em.inject({ fault: { kind: 'status', status: 502 } });
    em.clearFaults();
    expect((await api(em, 'GET', '/user')).status).toBe(200);
    expect(() => em.inject({ fault: { kind: 'hang' }, times: 0 })).toThrow(RangeError);
  });

  it('reset after receive: socket error, nothing applied; after process: the change happened', async () => {
    const target = await startEmulator();
    try {
      target.inject({ fault: { kind: 'reset' }, method: 'DELETE' });
      await expect(send(target, 'DELETE', `/client/v4${userPath(SANDBOX_BOB.id)}`)).rejects.toThrow();
      expect(target.state.users.has(SANDBOX_BOB.id)).toBe(true);

      target.inject({ fault: { kind: 'reset', after: 'process' }, method: 'DELETE' });
      await expect(send(target, 'DELETE', `/client/v4${userPath(SANDBOX_BOB.id)}`)).rejects.toThrow();
      expect(target.state.users.has(SANDBOX_BOB.id)).toBe(false);

      target.inject({ fault: { kind: 'reset', after: 'process' }, method: 'POST' });
      const body = JSON.stringify({ email: 'lost.response@corp.example' });
      await expect(send(target, 'POST', `/client/v4${usersPath()}`, { headers: { ...TOKEN_AUTH, 'content-type': 'application/json' }, body })).rejects.toThrow();
      const found = await api(target, 'GET', `${usersPath()}?email=lost.response%40corp.example`);
      expect(found.body.result_info?.['count']).toBe(1);

      // Faulted requests are recorded like any other.
      expect(target.requestCount()).toBe(4);
      expect(target.requests.map((r) => r.method)).toEqual(['DELETE', 'DELETE', 'POST', 'GET']);
      expect(target.requests[2]?.body).toBe(body);
      target.resetRequests();
      expect(target.requests).toHaveLength(0);
      expect(target.requestCount()).toBe(0);
    } finally {
      await target.close();
    }
  });

  it('hang: the client times out, and close() still resolves quickly', async () => {
    const target = await startEmulator();
    target.inject({ fault: { kind: 'hang' }, times: 5 });
    await expect(send(target, 'GET', '/client/v4/user', { timeoutMs: 100 })).rejects.toThrow('client timeout');
    const pending = send(target, 'GET', '/client/v4/user');
    pending.catch(() => undefined);
    while (target.requestCount() < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    await target.close();
    expect(Date.now() - started).toBeLessThan(500);
    await expect(pending).rejects.toThrow();
    await target.close(); // idempotent
  });

  it('delay before headers, and a stalled body', async () => {
    em.inject({ fault: { kind: 'delay', phase: 'headers', ms: 150 } });
    let started = Date.now();
    const delayed = await api(em, 'GET', '/user');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(delayed.status).toBe(200);

    em.inject({ fault: { kind: 'delay', phase: 'body', ms: 200 } });
    started = Date.now();
    const timings = await new Promise<{ headersAt: number; endAt: number; text: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: em.port, path: '/client/v4/user', headers: TOKEN_AUTH, agent: false }, (res) => {
        const headersAt = Date.now() - started;
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ headersAt, endAt: Date.now() - started, text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    // Headers come at once; the body only after the stall.
    expect(timings.headersAt).toBeLessThan(150);
    expect(timings.endAt).toBeGreaterThanOrEqual(190);
    expect(timings.endAt - timings.headersAt).toBeGreaterThanOrEqual(50);
    expect((JSON.parse(timings.text) as V4Body).success).toBe(true);
  });

  it('truncated: fewer bytes than Content-Length, then the connection ends', async () => {
    em.inject({ fault: { kind: 'truncated' } });
    await expect(send(em, 'GET', `/client/v4${usersPath()}`)).rejects.toThrow();
    em.inject({ fault: { kind: 'truncated' } });
    await expect(fetch(`${em.baseUrl}${usersPath()}`, { headers: TOKEN_AUTH }).then((res) => res.text())).rejects.toThrow();
  });

  it('malformed JSON, HTML error pages, success:false and a missing result', async () => {
    em.inject({ fault: { kind: 'malformed' } });
    const malformed = await send(em, 'GET', '/client/v4/user');
    expect(malformed.status).toBe(200);
    expect(malformed.headers['content-type']).toContain('application/json');
    expect(() => JSON.parse(malformed.text) as unknown).toThrow();

    em.inject({ fault: { kind: 'html' } });
    em.inject({ fault: { kind: 'html', status: 520 } });
    const html = await send(em, 'GET', '/client/v4/user');
    expect(html.status).toBe(502);
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.text).toMatch(/^<!DOCTYPE html>/);
    expect((await send(em, 'GET', '/client/v4/user')).status).toBe(520);

    em.inject({ fault: { kind: 'success_false', code: 10001, message: 'Something broke' } });
    const unsuccessful = await api(em, 'GET', '/user');
    expect(unsuccessful.status).toBe(200);
    expect(unsuccessful.body).toEqual({ success: false, errors: [{ code: 10001, message: 'Something broke' }], messages: [], result: null });

    em.inject({ fault: { kind: 'missing_result' } });
    const missing = await api(em, 'GET', usersPath());
    expect(missing.status).toBe(200);
    expect(missing.body).toEqual({ success: true, errors: [], messages: [] });
  });

  it('extra fields at envelope and item level still fit the schema', async () => {
    em.inject({ fault: { kind: 'extra_fields' }, times: 2 });
    const list = await api(em, 'GET', `${usersPath()}?per_page=3`);
    expect(list.status).toBe(200);
    expect(list.body['request_id']).toEqual(expect.any(String));
    expect((list.body.result as Array<Record<string, unknown>>).every((item) => 'x_sandbox_extra' in item)).toBe(true);
    expect(schemaProblems(USERS_SPEC, 'get', '200', list.body)).toEqual([]);
    const single = await api(em, 'GET', userPath(SANDBOX_ALICE.id));
    expect(single.body.result).toHaveProperty('x_sandbox_extra');
    expect(single.body.result).toHaveProperty('email', SANDBOX_ALICE.email);
  });

  it('huge: a valid JSON body of about the requested size', async () => {
    const bytes = 3 * 1024 * 1024;
    em.inject({ fault: { kind: 'huge', bytes } });
    const res = await send(em, 'GET', `/client/v4${usersPath()}`);
    expect(res.status).toBe(200);
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    expect(Math.abs(res.text.length - bytes)).toBeLessThan(bytes * 0.01);
    const body = JSON.parse(res.text) as V4Body;
    expect(body.success).toBe(true);
    expect((body.result as unknown[]).length).toBe(body.result_info?.['count']);
  });
});
