/**
 * cloudflareEndpoints(send): each function builds the request Cloudflare documents (method, path, query,
 * body, operation), checked with a recording `send`, and every operation matches the OpenAPI file.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ApiResponse } from '../src/cloudflare/client.js';
import { cloudflareEndpoints, OPERATIONS, type EndpointRequest, type OperationName } from '../src/cloudflare/endpoints.js';

const ACCOUNT = '0123456789abcdef0123456789abcdef';
const USER = '3f0c6a52-9d1e-4b7a-a3c5-7e2d8f1b6049';
const NONCE = 'kT3vQ9xLm2PzR7wB';

/** A `send` that records every request and answers a fixed response. */
function recorder(response: Partial<ApiResponse> = {}) {
  const sent: EndpointRequest[] = [];
  const answer: ApiResponse = { status: 200, result: { id: 'r' }, resultInfo: { page: 1, total_pages: 1 }, attempts: 1, ...response };
  const api = cloudflareEndpoints(async (request) => {
    sent.push(request);
    return answer;
  });
  const only = (): EndpointRequest => {
    expect(sent).toHaveLength(1);
    return sent[0]!;
  };
  return { api, sent, only, answer };
}

interface Expected {
  name: OperationName;
  method: EndpointRequest['method'];
  path: string[];
  query?: EndpointRequest['query'];
  body?: unknown;
  subject: EndpointRequest['subject'];
}

function expectRequest(request: EndpointRequest, expected: Expected): void {
  expect(request.method).toBe(expected.method);
  expect(request.path).toEqual(expected.path);
  expect(request.query).toEqual(expected.query);
  expect(request.body).toEqual(expected.body);
  expect(request.subject).toEqual(expected.subject);
  expect(request.operation).toEqual(OPERATIONS[expected.name]);
  // The path segments are the template with its {placeholders} filled in, one segment each.
  const filled = OPERATIONS[expected.name].template
    .replace('{account_id}', ACCOUNT)
    .replace('{user_id}', USER)
    .replace('{nonce}', NONCE);
  expect(`/${request.path.join('/')}`).toBe(filled);
}

const users = ['accounts', ACCOUNT, 'access', 'users'];

describe('cloudflareEndpoints', () => {
  it('getCurrentUser: GET /user', async () => {
    const r = recorder({ result: { id: 'u1', email: 'a@b.example' } });
    const out = await r.api.getCurrentUser();
    expectRequest(r.only(), { name: 'getCurrentUser', method: 'GET', path: ['user'], subject: {} });
    expect(out).toEqual({ result: { id: 'u1', email: 'a@b.example' }, status: 200, attempts: 1 });
  });

  it('listAccessUsers: GET users with every documented filter in the query, and the result_info', async () => {
    const r = recorder({ result: [{ id: 'a' }], resultInfo: { page: 2, per_page: 5, total_pages: 3 } });
    const out = await r.api.listAccessUsers(ACCOUNT, { email: 'a@b.example', name: 'A', search: 'x', page: 2, per_page: 5 });
    expectRequest(r.only(), {
      name: 'listAccessUsers',
      method: 'GET',
      path: users,
      query: { email: 'a@b.example', name: 'A', search: 'x', page: 2, per_page: 5 },
      subject: { account_id: ACCOUNT },
    });
    expect(out).toEqual({ result: [{ id: 'a' }], resultInfo: { page: 2, per_page: 5, total_pages: 3 }, status: 200, attempts: 1 });
  });

  it('listAccessUsers without a query sends only undefined values (the client drops them)', async () => {
    const r = recorder();
    await r.api.listAccessUsers(ACCOUNT);
    const query = r.only().query ?? {};
    expect(Object.values(query).every((value) => value === undefined)).toBe(true);
  });

  it('getAccessUser: GET users/{user_id}', async () => {
    const r = recorder();
    await r.api.getAccessUser(ACCOUNT, USER);
    expectRequest(r.only(), { name: 'getAccessUser', method: 'GET', path: [...users, USER], subject: { account_id: ACCOUNT, user_id: USER } });
  });

  it('createAccessUser: POST users with email and name', async () => {
    const r = recorder({ result: { id: 'new' } });
    const out = await r.api.createAccessUser(ACCOUNT, { email: 'n@b.example', name: 'New' });
    expectRequest(r.only(), {
      name: 'createAccessUser',
      method: 'POST',
      path: users,
      body: { email: 'n@b.example', name: 'New' },
      subject: { account_id: ACCOUNT, email: 'n@b.example' },
    });
    expect(out.result).toEqual({ id: 'new' });
  });

  it('createAccessUser omits the name key when no name is given (Cloudflare derives it)', async () => {
    const r = recorder();
    await r.api.createAccessUser(ACCOUNT, { email: 'n@b.example', name: undefined });
    const body = r.only().body as Record<string, unknown>;
    expect(body).toEqual({ email: 'n@b.example' });
    expect(Object.keys(body)).toEqual(['email']);
    // An empty name is a name: kept.
    const r2 = recorder();
    await r2.api.createAccessUser(ACCOUNT, { email: 'n@b.example', name: '' });
    expect(r2.only().body).toEqual({ email: 'n@b.example', name: '' });
  });

  it('updateAccessUser: PUT users/{user_id} with email and name', async () => {
    const r = recorder();
    await r.api.updateAccessUser(ACCOUNT, USER, { email: 'a@b.example', name: 'Renamed' });
    expectRequest(r.only(), {
      name: 'updateAccessUser',
      method: 'PUT',
      path: [...users, USER],
      body: { email: 'a@b.example', name: 'Renamed' },
      subject: { account_id: ACCOUNT, user_id: USER, email: 'a@b.example' },
    });
  });

  it('deleteAccessUser: DELETE users/{user_id}, passing deletedOnRetry on', async () => {
    const r = recorder({ status: 200, attempts: 2, deletedOnRetry: true });
    const out = await r.api.deleteAccessUser(ACCOUNT, USER);
    expectRequest(r.only(), { name: 'deleteAccessUser', method: 'DELETE', path: [...users, USER], subject: { account_id: ACCOUNT, user_id: USER } });
    expect(out).toEqual({ status: 200, attempts: 2, deletedOnRetry: true });
    const plain = recorder();
    expect(await plain.api.deleteAccessUser(ACCOUNT, USER)).toEqual({ status: 200, attempts: 1, deletedOnRetry: false });
  });

  it('listActiveSessions: GET users/{user_id}/active_sessions', async () => {
    const r = recorder({ result: [], resultInfo: undefined });
    const out = await r.api.listActiveSessions(ACCOUNT, USER);
    expectRequest(r.only(), {
      name: 'listActiveSessions',
      method: 'GET',
      path: [...users, USER, 'active_sessions'],
      subject: { account_id: ACCOUNT, user_id: USER },
    });
    expect(out.resultInfo).toBeUndefined();
  });

  it('getActiveSession: GET users/{user_id}/active_sessions/{nonce}', async () => {
    const r = recorder();
    await r.api.getActiveSession(ACCOUNT, USER, NONCE);
    expectRequest(r.only(), {
      name: 'getActiveSession',
      method: 'GET',
      path: [...users, USER, 'active_sessions', NONCE],
      subject: { account_id: ACCOUNT, user_id: USER, nonce: NONCE },
    });
  });

  it('getLastSeenIdentity: GET users/{user_id}/last_seen_identity', async () => {
    const r = recorder();
    await r.api.getLastSeenIdentity(ACCOUNT, USER);
    expectRequest(r.only(), {
      name: 'getLastSeenIdentity',
      method: 'GET',
      path: [...users, USER, 'last_seen_identity'],
      subject: { account_id: ACCOUNT, user_id: USER },
    });
  });

  it('listFailedLogins: GET users/{user_id}/failed_logins', async () => {
    const r = recorder();
    await r.api.listFailedLogins(ACCOUNT, USER);
    expectRequest(r.only(), {
      name: 'listFailedLogins',
      method: 'GET',
      path: [...users, USER, 'failed_logins'],
      subject: { account_id: ACCOUNT, user_id: USER },
    });
  });

  it('ids are passed as one segment each, never spliced into a path string', async () => {
    // The client encodes each segment; a slash in an id must not become a path separator here.
    const r = recorder();
    await r.api.getActiveSession(ACCOUNT, 'a/b', '../x');
    expect(r.only().path).toEqual([...users, 'a/b', 'active_sessions', '../x']);
  });
});

interface OpenApiOperation {
  operationId?: string;
  parameters?: Array<{ name?: string; in?: string; $ref?: string }>;
}
type OpenApi = {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { parameters?: Record<string, { name?: string; in?: string }> };
};

const spec = JSON.parse(readFileSync(new URL('../spec/cloudflare-users.openapi.json', import.meta.url), 'utf8')) as OpenApi;

/** operationId → [METHOD, path] as the OpenAPI file documents it. */
function documented(): Map<string, { method: string; path: string; operation: OpenApiOperation }> {
  const byId = new Map<string, { method: string; path: string; operation: OpenApiOperation }>();
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (typeof operation === 'object' && operation !== null && typeof operation.operationId === 'string') {
        byId.set(operation.operationId, { method: method.toUpperCase(), path, operation });
      }
    }
  }
  return byId;
}

describe('OPERATIONS against spec/cloudflare-users.openapi.json', () => {
  const byId = documented();

  it('every operation id exists in the spec, under the same path template and the method the endpoint sends', async () => {
    // The method comes from what the endpoint really sends, not from a second table kept by hand.
    const sent: EndpointRequest[] = [];
    const api = cloudflareEndpoints(async (request) => {
      sent.push(request);
      return { status: 200, result: {}, resultInfo: undefined, attempts: 1 };
    });
    await api.getCurrentUser();
    await api.listAccessUsers(ACCOUNT);
    await api.getAccessUser(ACCOUNT, USER);
    await api.createAccessUser(ACCOUNT, { email: 'a@b.example' });
    await api.updateAccessUser(ACCOUNT, USER, { email: 'a@b.example', name: 'A' });
    await api.deleteAccessUser(ACCOUNT, USER);
    await api.listActiveSessions(ACCOUNT, USER);
    await api.getActiveSession(ACCOUNT, USER, NONCE);
    await api.getLastSeenIdentity(ACCOUNT, USER);
    await api.listFailedLogins(ACCOUNT, USER);

    // All ten operations, each sent once.
    expect(sent.map((request) => request.operation.id).sort()).toEqual(Object.values(OPERATIONS).map((operation) => operation.id).sort());
    for (const request of sent) {
      const entry = byId.get(request.operation.id);
      expect(entry, request.operation.id).toBeDefined();
      expect(request.operation.template, request.operation.id).toBe(entry!.path);
      expect(request.method, request.operation.id).toBe(entry!.method);
    }
  });

  it('the spec documents no operation OPERATIONS lacks', () => {
    const ours = new Set<string>(Object.values(OPERATIONS).map((operation) => operation.id));
    expect([...byId.keys()].filter((id) => !ours.has(id))).toEqual([]);
  });

  it('the list query keys are the documented query parameters', async () => {
    const r = recorder();
    await r.api.listAccessUsers(ACCOUNT, { email: 'e', name: 'n', search: 's', page: 1, per_page: 2 });
    const operation = byId.get(OPERATIONS.listAccessUsers.id)!.operation;
    const refs = documentedComponents();
    const queryNames = (operation.parameters ?? [])
      .map((parameter) => (parameter.$ref ? refs.get(parameter.$ref) : parameter))
      .filter((parameter) => parameter?.in === 'query')
      .map((parameter) => parameter!.name);
    expect(Object.keys(r.only().query ?? {}).sort()).toEqual([...queryNames].sort());
  });
});

function documentedComponents(): Map<string, { name?: string; in?: string }> {
  const out = new Map<string, { name?: string; in?: string }>();
  for (const [key, parameter] of Object.entries(spec.components?.parameters ?? {})) out.set(`#/components/parameters/${key}`, parameter);
  return out;
}
