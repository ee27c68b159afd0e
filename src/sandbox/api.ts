/**
 * The emulated Cloudflare API v4: routing, credentials, validation and the
 * handlers, as a function from a received request to a V4 envelope. No I/O
 * here, so the server can apply a request and then decide (fault injection)
 * whether and how the client gets to see the answer.
 *
 * Order of checks, as on the real API: route -> credentials -> write
 * permission -> account id -> user id -> body.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isoMicro } from './seed.js';
import type { AccessUser, SandboxData } from './types.js';

export interface ApiMessage {
  code: number;
  message: string;
  error_chain?: ApiMessage[];
}

export interface Envelope {
  success: boolean;
  errors: ApiMessage[];
  messages: ApiMessage[];
  result: unknown;
  result_info?: Record<string, number>;
}

export interface ApiResponse {
  status: number;
  envelope: Envelope;
}

export interface ApiRequest {
  method: string;
  /** Path + query exactly as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  bodyTooLarge: boolean;
}

export interface ApiCredentials {
  apiToken: string;
  readOnlyToken: string | undefined;
  email: string;
  apiKey: string;
}

// Error codes. Auth and routing codes are the ones Cloudflare documents; Access
// (Zero Trust) answers validation, conflict and not-found with 12130 and an
// "access.api.error.*" message.
export const ERROR_CODES = {
  noRoute: 7003,
  missingCredentials: 9106,
  badEmailOrKey: 9103,
  authentication: 10000,
  invalidHeaders: 6003,
  invalidAuthorizationFormat: 6111,
  unauthorizedAccount: 9109,
  malformedJson: 6007,
  access: 12130,
  bodyTooLarge: 10413,
} as const;

export const DEFAULT_PER_PAGE = 25;
export const MAX_PER_PAGE = 1000;
/** Single-page lists (sessions, failed logins) report this per_page. */
const SINGLE_PAGE_PER_PAGE = 20;
/** Keeps a long-running --sandbox from growing without bound. */
export const MAX_USERS = 10_000;

const ACCOUNT_ID_PATTERN = /^[0-9a-f]{32}$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_EMAIL_LENGTH = 254;
const MAX_NAME_LENGTH = 255;

function ok(status: number, result: unknown, resultInfo?: Record<string, number>): ApiResponse {
  return { status, envelope: { success: true, errors: [], messages: [], result, ...(resultInfo ? { result_info: resultInfo } : {}) } };
}

export function failure(status: number, code: number, message: string, errorChain?: ApiMessage[]): ApiResponse {
  const error: ApiMessage = errorChain ? { code, message, error_chain: errorChain } : { code, message };
  return { status, envelope: { success: false, errors: [error], messages: [], result: null } };
}

const noRoute = () => failure(404, ERROR_CODES.noRoute, 'No route for the URI');
const notFound = (what: string) => failure(404, ERROR_CODES.access, what);
const invalidRequest = (detail: string) => failure(400, ERROR_CODES.access, `access.api.error.invalid_request: ${detail}`);

/** Cloudflare quotes the path it could not route; capped so a huge path does not make a huge error. */
function couldNotRoute(path: string): ApiResponse {
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  return failure(400, ERROR_CODES.noRoute, `Could not route to ${shown}, perhaps your object identifier is invalid?`);
}

// ---------------------------------------------------------------------------
// Routing

type RouteName = 'owner' | 'users' | 'user' | 'sessions' | 'session' | 'last_seen_identity' | 'failed_logins';

interface MatchedRoute {
  name: RouteName;
  accountId: string;
  userId: string;
  nonce: string;
}

const ROUTE_METHODS: Record<RouteName, readonly string[]> = {
  owner: ['GET'],
  users: ['GET', 'POST'],
  user: ['GET', 'PUT', 'DELETE'],
  sessions: ['GET'],
  session: ['GET'],
  last_seen_identity: ['GET'],
  failed_logins: ['GET'],
};

/** Splits and percent-decodes the path; undefined when it cannot be one of our routes. */
function matchRoute(path: string): MatchedRoute | undefined {
  const raw = path.split('/');
  if (raw[0] !== '' || raw[1] !== 'client' || raw[2] !== 'v4') return undefined;
  const segments: string[] = [];
  for (const segment of raw.slice(3)) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
    // Dot segments never match a route, encoded or not: no path tricks.
    if (segment === '' || decoded === '.' || decoded === '..') return undefined;
    segments.push(decoded);
  }
  const [first, accountId = '', access, users, userId = '', sub, nonce = ''] = segments;
  if (segments.length === 1 && first === 'user') return { name: 'owner', accountId: '', userId: '', nonce: '' };
  if (first !== 'accounts' || access !== 'access' || users !== 'users') return undefined;
  const base = { accountId, userId, nonce };
  switch (segments.length) {
    case 4:
      return { ...base, name: 'users' };
    case 5:
      return { ...base, name: 'user' };
    case 6:
      if (sub === 'active_sessions') return { ...base, name: 'sessions' };
      if (sub === 'last_seen_identity') return { ...base, name: 'last_seen_identity' };
      if (sub === 'failed_logins') return { ...base, name: 'failed_logins' };
      return undefined;
    case 7:
      return sub === 'active_sessions' ? { ...base, name: 'session' } : undefined;
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------
// Credentials

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

/** Constant-time comparison of secrets of any length. */
function secretEquals(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

type AuthOutcome = { readOnly: boolean } | { denied: ApiResponse };

function authenticate(headers: IncomingHttpHeaders, credentials: ApiCredentials): AuthOutcome {
  const authorization = headerValue(headers, 'authorization');
  if (authorization !== undefined) {
    const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    const token = bearer?.[1];
    if (token === undefined) {
      return {
        denied: failure(400, ERROR_CODES.invalidHeaders, 'Invalid request headers', [
          { code: ERROR_CODES.invalidAuthorizationFormat, message: 'Invalid format for Authorization header' },
        ]),
      };
    }
    if (secretEquals(token, credentials.apiToken)) return { readOnly: false };
    if (credentials.readOnlyToken !== undefined && secretEquals(token, credentials.readOnlyToken)) return { readOnly: true };
    return { denied: failure(403, ERROR_CODES.authentication, 'Authentication error') };
  }
  const email = headerValue(headers, 'x-auth-email');
  const key = headerValue(headers, 'x-auth-key');
  if (email === undefined || key === undefined) {
    return { denied: failure(400, ERROR_CODES.missingCredentials, 'Missing X-Auth-Key, X-Auth-Email or Authorization headers') };
  }
  const emailMatches = email.trim().toLowerCase() === credentials.email.toLowerCase();
  const keyMatches = secretEquals(key.trim(), credentials.apiKey);
  if (emailMatches && keyMatches) return { readOnly: false };
  return { denied: failure(403, ERROR_CODES.badEmailOrKey, 'Unknown X-Auth-Key or X-Auth-Email') };
}

// ---------------------------------------------------------------------------
// Body and query parsing

type JsonBody = { value: Record<string, unknown> } | { error: ApiResponse };

function parseJsonObject(request: ApiRequest): JsonBody {
  if (request.bodyTooLarge) return { error: failure(413, ERROR_CODES.bodyTooLarge, 'Request body is too large') };
  if (request.body.trim() === '') return { error: invalidRequest('request body is required') };
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body);
  } catch {
    return { error: failure(400, ERROR_CODES.malformedJson, 'Malformed JSON in request body') };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { error: invalidRequest('request body must be a JSON object') };
  }
  return { value: parsed as Record<string, unknown> };
}

function validEmail(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_EMAIL_LENGTH && EMAIL_PATTERN.test(value);
}

/** Parses a positive whole number query parameter; undefined when absent, null when invalid. */
function positiveInt(value: string | null): number | undefined | null {
  if (value === null || value === '') return undefined;
  if (!/^\d{1,9}$/.test(value)) return null;
  const parsed = Number(value);
  return parsed >= 1 ? parsed : null;
}

/** "2024-05-01T10:20:30.123456Z" from the real clock: milliseconds from Date, microseconds from hrtime. */
function nowMicro(): string {
  return isoMicro(Date.now(), Number(process.hrtime.bigint() % 1000n));
}

/** a < b by UTF-16 code units: for the ISO timestamps and lowercase hex ids sorted here, the order localeCompare gives, at a fraction of its cost. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Bumped by every create and delete: the sorted order is worked out again only when the set of users changed. */
const membership = new WeakMap<SandboxData, number>();
const sortedCache = new WeakMap<SandboxData, { version: number; users: readonly AccessUser[] }>();

function membershipChanged(data: SandboxData): void {
  membership.set(data, (membership.get(data) ?? 0) + 1);
}

/** Stable order the list endpoint pages through; cached, since every page needs it (5,000 users in the bench). */
export function sortedUsers(data: SandboxData): readonly AccessUser[] {
  const version = membership.get(data) ?? 0;
  const cached = sortedCache.get(data);
  if (cached?.version === version) return cached.users;
  const users = [...data.users.values()].sort((a, b) => byCodeUnits(a.created_at, b.created_at) || byCodeUnits(a.id, b.id));
  sortedCache.set(data, { version, users });
  return users;
}

// ---------------------------------------------------------------------------
// Handlers

function listUsers(data: SandboxData, query: URLSearchParams): ApiResponse {
  const page = positiveInt(query.get('page'));
  if (page === null || (page ?? 1) > 100_000_000) return invalidRequest('page must be a whole number >= 1');
  const perPage = positiveInt(query.get('per_page'));
  if (perPage === null || (perPage ?? DEFAULT_PER_PAGE) > MAX_PER_PAGE) {
    return invalidRequest(`per_page must be a whole number from 1 to ${MAX_PER_PAGE}`);
  }
  const pageNumber = page ?? 1;
  const size = perPage ?? DEFAULT_PER_PAGE;
  const email = query.get('email')?.trim().toLowerCase() || undefined;
  const name = query.get('name')?.trim().toLowerCase() || undefined;
  const search = query.get('search')?.trim().toLowerCase() || undefined;

  const all = sortedUsers(data);
  const filtered = email !== undefined || name !== undefined || search !== undefined;
  const matching = !filtered ? all : all.filter(
    (user) =>
      (email === undefined || user.email.toLowerCase() === email) &&
      (name === undefined || user.name.toLowerCase().includes(name)) &&
      (search === undefined || user.email.toLowerCase().includes(search) || user.name.toLowerCase().includes(search)),
  );
  const items = matching.slice((pageNumber - 1) * size, pageNumber * size);
  // Quirk of the live API: total_count (and so total_pages) counts every user in the account, ignoring the filters.
  const totalCount = all.length;
  return ok(200, items, {
    page: pageNumber,
    per_page: size,
    count: items.length,
    total_count: totalCount,
    total_pages: Math.ceil(totalCount / size),
  });
}

function createUser(data: SandboxData, request: ApiRequest): ApiResponse {
  const body = parseJsonObject(request);
  if ('error' in body) return body.error;
  const { email, name } = body.value;
  if (email === undefined || email === null) return invalidRequest('email is required');
  if (!validEmail(email)) return invalidRequest('email is not a valid email address');
  if (name !== undefined && name !== null && (typeof name !== 'string' || name.length > MAX_NAME_LENGTH)) {
    return invalidRequest(`name must be a string of at most ${MAX_NAME_LENGTH} characters`);
  }
  const lowerEmail = email.toLowerCase();
  for (const user of data.users.values()) {
    if (user.email.toLowerCase() === lowerEmail) return failure(409, ERROR_CODES.access, 'access.api.error.conflict: a user with this email already exists');
  }
  if (data.users.size >= MAX_USERS) return invalidRequest('user limit reached for this account');
  const id = randomUUID();
  const now = nowMicro();
  // Fresh users have no seats, no devices and have never logged in.
  const user: AccessUser = {
    id,
    uid: id,
    seat_uid: randomBytes(16).toString('hex'),
    email,
    name: typeof name === 'string' ? name : '',
    access_seat: false,
    gateway_seat: false,
    active_device_count: 0,
    created_at: now,
    updated_at: now,
  };
  data.users.set(id, user);
  membershipChanged(data);
  return ok(201, user);
}

function updateUser(data: SandboxData, user: AccessUser, request: ApiRequest): ApiResponse {
  const body = parseJsonObject(request);
  if ('error' in body) return body.error;
  const { email, name } = body.value;
  if (email === undefined || email === null) return invalidRequest('email is required');
  if (name === undefined || name === null) return invalidRequest('name is required');
  if (!validEmail(email)) return invalidRequest('email is not a valid email address');
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME_LENGTH) {
    return invalidRequest(`name must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
  }
  if (email.toLowerCase() !== user.email.toLowerCase()) {
    return invalidRequest("email cannot be changed: it must match the user's current email");
  }
  user.name = name;
  user.updated_at = nowMicro();
  data.users.set(user.id, user);
  return ok(200, user);
}

function deleteUser(data: SandboxData, user: AccessUser): ApiResponse {
  // Deleting a user also revokes its seats and sessions.
  data.users.delete(user.id);
  membershipChanged(data);
  data.sessions.delete(user.id);
  data.lastSeenIdentities.delete(user.id);
  data.failedLogins.delete(user.id);
  return ok(202, { id: user.id });
}

function singlePageInfo(count: number): Record<string, number> {
  return { page: 1, per_page: SINGLE_PAGE_PER_PAGE, count, total_count: count };
}

/** Applies one request to the state and returns what Cloudflare would answer. Never throws on input. */
export function handleApiRequest(data: SandboxData, credentials: ApiCredentials, request: ApiRequest): ApiResponse {
  const queryStart = request.url.indexOf('?');
  const path = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const query = new URLSearchParams(queryStart === -1 ? '' : request.url.slice(queryStart + 1));
  const method = request.method.toUpperCase();

  const route = matchRoute(path);
  if (!route || !ROUTE_METHODS[route.name].includes(method)) return noRoute();

  const auth = authenticate(request.headers, credentials);
  if ('denied' in auth) return auth.denied;
  if (auth.readOnly && method !== 'GET') return failure(403, ERROR_CODES.authentication, 'Authentication error');

  if (route.name === 'owner') return ok(200, data.owner);

  if (!ACCOUNT_ID_PATTERN.test(route.accountId)) return couldNotRoute(path);
  if (route.accountId !== data.accountId) return failure(403, ERROR_CODES.unauthorizedAccount, 'Unauthorized to access requested resource');

  if (route.name === 'users') return method === 'POST' ? createUser(data, request) : listUsers(data, query);

  if (!UUID_PATTERN.test(route.userId)) return couldNotRoute(path);
  const user = data.users.get(route.userId.toLowerCase());
  if (!user) return notFound('User not found');

  switch (route.name) {
    case 'user':
      if (method === 'PUT') return updateUser(data, user, request);
      if (method === 'DELETE') return deleteUser(data, user);
      return ok(200, user);
    case 'sessions': {
      const sessions = (data.sessions.get(user.id) ?? []).map((stored) => stored.session);
      return ok(200, sessions, singlePageInfo(sessions.length));
    }
    case 'session': {
      const stored = (data.sessions.get(user.id) ?? []).find((s) => s.session.metadata.nonce === route.nonce);
      if (!stored) return notFound('Session not found');
      return ok(200, { ...stored.identity, isActive: true });
    }
    case 'last_seen_identity': {
      // Users who never logged in have no identity to show: 404 rather than an empty object, so a
      // client cannot mistake "never seen" for a blank identity.
      const identity = data.lastSeenIdentities.get(user.id);
      return identity ? ok(200, identity) : notFound('No last seen identity for this user');
    }
    case 'failed_logins': {
      const logins = data.failedLogins.get(user.id) ?? [];
      return ok(200, logins, singlePageInfo(logins.length));
    }
    default:
      return noRoute();
  }
}
