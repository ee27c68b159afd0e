/**
 * Property-based fuzzing helpers (fast-check): argument generators for every
 * tool input field, valid and hostile, and an independent oracle for the
 * request a valid call must send (method, path segments, query, body).
 *
 * The validity oracle is the tool's own Zod schema (compileTool(tool).input);
 * the request oracle below is written from the Cloudflare API paths, not from
 * the handlers, so a handler that builds the wrong path is caught.
 */
import fc from 'fast-check';
import type { ToolDefinition } from '../../src/tools/define.js';
import { compileTool } from '../../src/tools/listing.js';

/** Marks a key the generated arguments leave out. */
export const ABSENT: unique symbol = Symbol('absent');
type Maybe<T> = T | typeof ABSENT;

/** Every extra (unknown) property value carries this, so forwarding one is detectable. */
export const EXTRA_CANARY = 'XTRACANARY';

export interface FuzzContext {
  accountId: string;
  /** Users that exist in the emulator (reads of them must succeed). */
  knownUserIds: readonly string[];
  knownNonce: string;
  knownEmail: string;
}

// ---------------------------------------------------------------------------
// Hostile strings

/** Path tricks, encoded slashes, control characters, whitespace, URL syntax, odd unicode. */
export const HOSTILE_STRINGS: readonly string[] = [
  '..', '.', '../x', '../../user', '..%2F', '%2e%2e', '%2E%2E', '%2e', '.%2e', '%2e.', 'a/b', '/a', 'a/', '/', 'a%2Fb', 'a%2fb',
  '%252e%252e', '\\', 'a\\b', '..\\x', '\u0000', 'a\u0000b', '%00', ' ', '\t', '\n', '\r\n', '', ' x', 'x ', '?', '#', '?a=b',
  '#frag', '&per_page=1000', '=', '%', '%zz', '+', '@', ';', 'é', 'Zoë', '😀', '\u202e', '\ud800', '\uffff', 'NaN', 'null',
  'undefined', '{}', '[]', '<script>', "' OR 1=1 --", '${x}', '__proto__', 'constructor', 'prototype',
];

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const lowercaseUuid = fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((parts) => parts.join('-'));
const nonceChars = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'];
const validNonce = fc.string({ unit: fc.constantFrom(...nonceChars), minLength: 1, maxLength: 128 });
const hostile = fc.constantFrom(...HOSTILE_STRINGS);
/** Huge strings, cheap to build: long runs of one character, or a valid-looking id with a long tail. */
const huge = fc.tuple(fc.integer({ min: 129, max: 300_000 }), fc.constantFrom('a', '0', '.', '/', '%', 'é')).map(([n, c]) => c.repeat(n));
const unicode = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));

/** Values of the wrong type for any field. */
const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 1e21, Number.MAX_SAFE_INTEGER + 2),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

/** A valid-looking value broken by a hostile suffix/prefix/infix. */
function tricked(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(valid, hostile, fc.constantFrom('suffix', 'prefix', 'segment', 'upper')).map(([value, trick, where]) => {
    switch (where) {
      case 'suffix':
        return `${value}${trick}`;
      case 'prefix':
        return `${trick}${value}`;
      case 'segment':
        return `${value}/${trick}`;
      default:
        return value.toUpperCase();
    }
  });
}

function stringInvalid(valid: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  return fc.oneof(hostile, tricked(valid), huge, unicode, wrongType);
}

// ---------------------------------------------------------------------------
// Field generators

interface FieldArbitraries {
  valid: fc.Arbitrary<unknown>;
  invalid: fc.Arbitrary<unknown>;
}

/** Generators for every input field the tools have. A new field must be added here (the fuzz test checks). */
export function fieldArbitraries(ctx: FuzzContext, toolName: string): Record<string, FieldArbitraries> {
  const accountId = fc.oneof({ weight: 9, arbitrary: fc.constant(ctx.accountId) }, { weight: 1, arbitrary: hex(32) });
  // delete_access_user only ever gets ids of users that do not exist: no side effects pile up. The others
  // also get a known user's email now and then (resolved to the UUID first).
  const userId =
    toolName === 'delete_access_user'
      ? lowercaseUuid
      : fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...ctx.knownUserIds) },
          { weight: 1, arbitrary: lowercaseUuid },
          { weight: 1, arbitrary: fc.uuid() },
          { weight: 1, arbitrary: fc.constant(ctx.knownEmail) },
        );
  const nonce = fc.oneof({ weight: 2, arbitrary: fc.constant(ctx.knownNonce) }, { weight: 3, arbitrary: validNonce });
  const simpleEmail = fc
    .tuple(fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789._+-'), minLength: 1, maxLength: 30 }), fc.constantFrom('corp.example', 'example.com', 'a.b'))
    .map(([local, domain]) => `${local}@${domain}`);
  const email = fc.oneof(
    { weight: 2, arbitrary: fc.constant(ctx.knownEmail) },
    { weight: 3, arbitrary: simpleEmail },
    { weight: 2, arbitrary: fc.emailAddress() },
    // URL syntax inside an otherwise valid email: must be encoded in the query, kept verbatim in a body.
    { weight: 1, arbitrary: fc.constantFrom('a&per_page=1@x.io', 'a#b@x.io', 'a?b=c@x.io', 'a%2Fb@x.io', 'a/../b@x.io', 'a+b@x.io', "o'neil@x.io") },
  );
  const text = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }) },
    { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) },
    { weight: 1, arbitrary: fc.constantFrom('a&b=c', 'x#y', '100%', 'a+b', "O'Brien", 'Zoë', '李小龍', '../..', 'a/b', '%2e%2e', '\\', ' padded ') },
  );
  const fieldNames = fc.oneof(
    fc.constantFrom('id', 'email', 'name', 'created_at', 'last_login', 'nonce', 'apps', 'ip', 'country', 'devices', 'posture', 'organizations'),
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'),
    fc.string({ maxLength: 64 }),
  );
  return {
    account_id: {
      valid: accountId,
      invalid: fc.oneof(stringInvalid(hex(32)), hex(31), hex(33), hex(32).map((s) => s.toUpperCase().replace(/^./, 'A'))),
    },
    user_id: { valid: userId, invalid: fc.oneof(stringInvalid(lowercaseUuid), lowercaseUuid.map((s) => s.replace(/-/g, '')), lowercaseUuid.map((s) => `{${s}}`)) },
    nonce: { valid: nonce, invalid: fc.oneof(stringInvalid(validNonce), validNonce.map((s) => `${s}${'x'.repeat(128)}`)) },
    email: { valid: email, invalid: fc.oneof(stringInvalid(simpleEmail), fc.constantFrom('no-at-sign', 'a@b', 'a b@c.d', '@x.io', 'a@@x.io'), simpleEmail.map((s) => `${'a'.repeat(250)}${s}`)) },
    name: { valid: text, invalid: fc.oneof(fc.constant(''), fc.string({ minLength: 201, maxLength: 400 }), huge, wrongType) },
    search: { valid: text, invalid: fc.oneof(fc.constant(''), fc.string({ minLength: 201, maxLength: 400 }), huge, wrongType) },
    page: { valid: fc.integer({ min: 1, max: 100_000 }), invalid: fc.oneof(fc.constantFrom(0, -1, 1.5, 100_001, '1', '2'), wrongType) },
    per_page: { valid: fc.integer({ min: 1, max: 1000 }), invalid: fc.oneof(fc.constantFrom(0, -5, 2.5, 1001, 1e6, '10'), wrongType) },
    fields: {
      valid: fc.array(fieldNames, { maxLength: 8 }),
      invalid: fc.oneof(
        fc.constant('email'),
        fc.array(fieldNames, { minLength: 41, maxLength: 45 }),
        fc.array(fc.string({ minLength: 65, maxLength: 80 }), { minLength: 1, maxLength: 2 }),
        fc.array(fc.oneof(fc.integer(), fc.constant(null), fc.boolean()), { minLength: 1, maxLength: 3 }),
        wrongType,
      ),
    },
    detail: { valid: fc.constantFrom('summary', 'full'), invalid: fc.oneof(fc.constantFrom('SUMMARY', 'Full', '', 'all'), hostile, wrongType) },
    confirm: {
      valid: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 2, arbitrary: fc.constant(true) }),
      invalid: fc.oneof(fc.constantFrom('true', 'yes', 1, 0, 'false'), wrongType),
    },
    // Mostly left out: with all: true, page is refused, and max_items goes only with all: true, so these two
    // would otherwise turn most list_access_users calls into refusals.
    all: {
      valid: fc.oneof({ weight: 1, arbitrary: fc.boolean() }, { weight: 3, arbitrary: fc.constant(ABSENT) }),
      invalid: fc.oneof(fc.constantFrom('true', 1, 0, 'yes'), wrongType),
    },
    max_items: {
      valid: fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 1, max: 100_000 }) }, { weight: 4, arbitrary: fc.constant(ABSENT) }),
      invalid: fc.oneof(fc.constantFrom(0, -1, 1.5, 100_001, '10'), wrongType),
    },
    mode: { valid: fc.constantFrom('plan', 'apply'), invalid: fc.oneof(fc.constantFrom('PLAN', 'Apply', '', 'dry-run', 'delete'), hostile, wrongType) },
    users: toolName === 'provision_access_users' ? provisionUsers(simpleEmail, text) : offboardUsers(simpleEmail),
  };
}

/** A few people to provision (random addresses: a created user is a new one), or what fails the schema. */
function provisionUsers(email: fc.Arbitrary<string>, name: fc.Arbitrary<string>): FieldArbitraries {
  const person = fc.record({ email, name }, { requiredKeys: ['email'] });
  return {
    valid: fc.array(person, { minLength: 1, maxLength: 3 }),
    invalid: fc.oneof(
      fc.constant([]),
      fc.array(fc.record({ email: fc.constantFrom('no-at-sign', 'a@b', '../x@y.z') }), { minLength: 1, maxLength: 2 }),
      fc.array(fc.record({ name }), { minLength: 1, maxLength: 2 }),
      fc.array(person, { minLength: 501, maxLength: 501 }),
      fc.constant('alice@corp.example'),
      wrongType,
    ),
  };
}

/** People to offboard: ids of users that do not exist and addresses nobody has (no side effects pile up). */
function offboardUsers(email: fc.Arbitrary<string>): FieldArbitraries {
  return {
    valid: fc.array(fc.oneof(lowercaseUuid, email), { minLength: 1, maxLength: 6 }),
    invalid: fc.oneof(fc.constant([]), fc.array(stringInvalid(lowercaseUuid), { minLength: 1, maxLength: 2 }), fc.constant(lowercaseUuid), wrongType),
  };
}

/** Unknown properties: prototype-pollution keys, lookalikes of request parts, random names; values carry the canary. */
export function extraProperties(shapeKeys: readonly string[]): fc.Arbitrary<[string, unknown][]> {
  const key = fc
    .oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'),
      fc.constantFrom('path', 'url', 'query', 'body', 'method', 'headers', 'authorization', 'Authorization', 'x-auth-key', 'accountId', 'userId', 'per-page', 'ACCOUNT_ID', 'user_id ', 'emails'),
      fc.string({ minLength: 1, maxLength: 20 }),
    )
    .filter((name) => !shapeKeys.includes(name));
  const value = fc.oneof(
    fc.nat().map((n) => `${EXTRA_CANARY}${n}`),
    fc.constant({ polluted: EXTRA_CANARY, user_id: '../x', account_id: '../../user', confirm: true }),
    fc.constant([EXTRA_CANARY, '..']),
    fc.nat().map((n) => ({ [`${EXTRA_CANARY}${n}`]: { toString: EXTRA_CANARY } })),
  );
  return fc.array(fc.tuple(key, value), { maxLength: 3 });
}

/** Builds an argument object with own properties only (defineProperty, so "__proto__" is an own key, as JSON.parse makes it). */
export function buildArguments(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    if (value === ABSENT) continue;
    Object.defineProperty(args, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return args;
}

export interface GeneratedCall {
  args: unknown;
  /** True when the extras carry the canary (so "not forwarded" is meaningful). */
  hasExtras: boolean;
}

/** Arguments for one tool: each field valid, invalid or absent; plus unknown properties. */
export function toolArguments(tool: ToolDefinition, ctx: FuzzContext, weights = { valid: 14, invalid: 1, absent: 3 }): fc.Arbitrary<GeneratedCall> {
  const shapeKeys = Object.keys(compileTool(tool).input.shape);
  const fields = fieldArbitraries(ctx, tool.name);
  const perField = shapeKeys.map((key) => {
    const field = fields[key];
    if (!field) throw new Error(`fuzz: no generator for input field ${tool.name}.${key}; add it to test/hardening/fuzz.ts`);
    return fc
      .oneof(
        { weight: weights.valid, arbitrary: field.valid },
        { weight: weights.invalid, arbitrary: field.invalid },
        { weight: weights.absent, arbitrary: fc.constant<Maybe<unknown>>(ABSENT) },
      )
      .map((value) => [key, value] as const);
  });
  return fc.tuple(fc.tuple(...perField), extraProperties(shapeKeys)).map(([known, extras]) => ({
    args: buildArguments([...known, ...extras]),
    hasExtras: extras.length > 0,
  }));
}

/** Whole-argument garbage: not an object at all, or an object of nothing but junk. */
export const garbageArguments: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, 0, '', 'x', true, [], [1, 2], NaN),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 3 }),
  fc.anything({ maxDepth: 3, withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true, withDate: true }),
  fc.string({ maxLength: 50 }),
);

// ---------------------------------------------------------------------------
// The request oracle

export interface ExpectedRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Raw (decoded) path segments below /client/v4. */
  segments: string[];
  query: Record<string, string>;
  /** Parsed JSON body, or undefined for no body. */
  body: Record<string, unknown> | undefined;
}

type Args = Record<string, unknown>;
const str = (value: unknown) => value as string;

/**
 * Composite calls (a user named by email, every page, a batch, the overview) send several requests whose
 * number depends on the data: for them the oracle says which requests may be sent, and the fuzz checks
 * each one (method, path below the account's users, no dot segment, no canary).
 */
export interface CompositeRequests {
  composite: true;
  methods: readonly ExpectedRequest['method'][];
  accountId: string;
}

const composite = (a: Args, d: string, ...methods: ExpectedRequest['method'][]): CompositeRequests => ({
  composite: true,
  methods: ['GET', ...methods],
  accountId: str(a.account_id ?? d),
});
const byEmail = (a: Args) => typeof a.user_id === 'string' && a.user_id.includes('@');
const repeats = (list: unknown, key: (item: unknown) => string) => {
  const keys = (list as unknown[]).map((item) => key(item).toLowerCase());
  return new Set(keys).size !== keys.length;
};

/** What a valid call must send; undefined when it must send nothing (no confirm: true, arguments that contradict each other). */
export const EXPECTED_REQUEST: Readonly<Record<string, (args: Args, defaultAccountId: string) => ExpectedRequest | CompositeRequests | undefined>> = {
  get_current_user: () => ({ method: 'GET', segments: ['user'], query: {}, body: undefined }),
  // all: true reads on from page 1 (page cannot go with it); max_items only goes with all: true.
  list_access_users: (a, d) =>
    a.all === true ? (a.page === undefined ? composite(a, d) : undefined) : a.max_items !== undefined ? undefined : ({
    method: 'GET',
    segments: ['accounts', str(a.account_id ?? d), 'access', 'users'],
    query: Object.fromEntries(
      (['email', 'name', 'search', 'page', 'per_page'] as const).filter((k) => a[k] !== undefined).map((k) => [k, String(a[k])]),
    ),
    body: undefined,
  }),
  get_access_user: (a, d) => byEmail(a) ? composite(a, d) : ({ method: 'GET', segments: ['accounts', str(a.account_id ?? d), 'access', 'users', str(a.user_id)], query: {}, body: undefined }),
  create_access_user: (a, d) => ({
    method: 'POST',
    segments: ['accounts', str(a.account_id ?? d), 'access', 'users'],
    query: {},
    body: a.name === undefined ? { email: a.email } : { email: a.email, name: a.name },
  }),
  update_access_user: (a, d) => byEmail(a) || a.email === undefined ? composite(a, d, 'PUT') : ({
    method: 'PUT',
    segments: ['accounts', str(a.account_id ?? d), 'access', 'users', str(a.user_id)],
    query: {},
    body: { email: a.email, name: a.name },
  }),
  delete_access_user: (a, d) =>
    a.confirm === true ? { method: 'DELETE', segments: ['accounts', str(a.account_id ?? d), 'access', 'users', str(a.user_id)], query: {}, body: undefined } : undefined,
  list_active_sessions: (a, d) => byEmail(a) ? composite(a, d) : ({
    method: 'GET',
    segments: ['accounts', str(a.account_id ?? d), 'access', 'users', str(a.user_id), 'active_sessions'],
    query: {},
    body: undefined,
  }),
  get_active_session: (a, d) => byEmail(a) ? composite(a, d) : ({
    method: 'GET',
    segments: ['accounts', str(a.account_id ?? d), 'access', 'users', str(a.user_id), 'active_sessions', str(a.nonce)],
    query: {},
    body: undefined,
  }),
  get_last_seen_identity: (a, d) => byEmail(a) ? composite(a, d) : ({
    method: 'GET',
    segments: ['accounts', str(a.account_id ?? d), 'access', 'users', str(a.user_id), 'last_seen_identity'],
    query: {},
    body: undefined,
  }),
  list_failed_logins: (a, d) => byEmail(a) ? composite(a, d) : ({
    method: 'GET',
    segments: ['accounts', str(a.account_id ?? d), 'access', 'users', str(a.user_id), 'failed_logins'],
    query: {},
    body: undefined,
  }),
  get_user_access_overview: (a, d) => composite(a, d),
  // The same email twice (ignoring case) is refused before anything is sent.
  provision_access_users: (a, d) => (repeats(a.users, (user) => str((user as Args).email)) ? undefined : a.mode === 'apply' ? composite(a, d, 'POST', 'PUT') : composite(a, d)),
  offboard_access_users: (a, d) =>
    repeats(a.users, str) ? undefined : a.mode !== 'apply' ? composite(a, d) : a.confirm === true ? composite(a, d, 'DELETE') : undefined,
};

/** Every way one request of a composite call breaks the rules; empty when it keeps them. */
export function checkCompositeRequest(recorded: RecordedLike, expected: CompositeRequests): string[] {
  const problems: string[] = [];
  if (!expected.methods.includes(recorded.method as ExpectedRequest['method'])) problems.push(`method ${recorded.method}, expected one of ${expected.methods.join(', ')}`);
  const rawPath = recorded.url.split('?')[0]!;
  const prefix = `/client/v4/accounts/${encodeURIComponent(expected.accountId)}/access/users`;
  if (rawPath !== prefix && !rawPath.startsWith(`${prefix}/`)) problems.push(`path ${JSON.stringify(rawPath)} is not below ${prefix}`);
  const segments = rawPath.split('/').slice(3).map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return '<undecodable>';
    }
  });
  if (segments.some((segment) => segment === '.' || segment === '..' || segment === '' || segment.includes('/'))) problems.push('a dot, empty or slashed segment reached the server');
  // A user segment is always a UUID: an email is resolved first, never put in a path.
  const userSegment = segments[4];
  if (userSegment !== undefined && !/^[\da-f]{8}(-[\da-f]{4}){3}-[\da-f]{12}$/i.test(userSegment)) problems.push(`user segment ${JSON.stringify(userSegment)} is not a UUID`);
  if (recorded.method === 'GET' && recorded.body !== '') problems.push('a body on a GET');
  return problems;
}

/** JSON with sorted keys, so key order does not matter. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

export interface RecordedLike {
  method: string;
  url: string;
  body: string;
}

/** Every way a recorded request differs from the expected one; empty when it matches. */
export function compareRequest(recorded: RecordedLike, expected: ExpectedRequest): string[] {
  const problems: string[] = [];
  if (recorded.method !== expected.method) problems.push(`method ${recorded.method}, expected ${expected.method}`);
  const queryAt = recorded.url.indexOf('?');
  const rawPath = queryAt === -1 ? recorded.url : recorded.url.slice(0, queryAt);
  const rawQuery = queryAt === -1 ? '' : recorded.url.slice(queryAt + 1);
  // Byte-exact: each segment percent-encoded with encodeURIComponent, nothing else in the path.
  const expectedPath = `/client/v4/${expected.segments.map(encodeURIComponent).join('/')}`;
  if (rawPath !== expectedPath) problems.push(`path ${JSON.stringify(rawPath)}, expected ${JSON.stringify(expectedPath)}`);
  // And semantically: the server splits on "/" and decodes to exactly the argument values.
  const decoded = rawPath.split('/').slice(3).map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return `<undecodable ${segment}>`;
    }
  });
  if (JSON.stringify(decoded) !== JSON.stringify(expected.segments)) problems.push(`decoded segments ${JSON.stringify(decoded)}, expected ${JSON.stringify(expected.segments)}`);
  if (decoded.some((segment) => segment === '.' || segment === '..' || segment === '')) problems.push('a dot or empty segment reached the server');
  const query = [...new URLSearchParams(rawQuery)].sort(([a], [b]) => a.localeCompare(b));
  const wantQuery = Object.entries(expected.query).sort(([a], [b]) => a.localeCompare(b));
  if (JSON.stringify(query) !== JSON.stringify(wantQuery)) problems.push(`query ${JSON.stringify(query)}, expected ${JSON.stringify(wantQuery)}`);
  if (expected.body === undefined) {
    if (recorded.body !== '') problems.push(`unexpected body ${JSON.stringify(recorded.body.slice(0, 200))}`);
  } else {
    let body: unknown;
    try {
      body = JSON.parse(recorded.body);
    } catch {
      body = `<not JSON: ${recorded.body.slice(0, 100)}>`;
    }
    if (canonical(body) !== canonical(expected.body)) problems.push(`body ${JSON.stringify(body)}, expected ${JSON.stringify(expected.body)}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------
// Hostile upstream bodies

/** Keys an upstream (or something in front of it) might send that are dangerous to copy naively. */
export const HOSTILE_KEYS: readonly string[] = [
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty',
  'token', 'api_token', 'password', 'secret', 'authorization', 'x-auth-key', 'cookie',
];
const REALISTIC_KEYS = ['id', 'uid', 'email', 'name', 'created_at', 'updated_at', 'last_successful_login', 'access_seat', 'nonce', 'ip', 'geo', 'custom', 'metadata', 'apps'];

/**
 * JSON text of an object whose keys may be hostile. Built as text, because an
 * object literal would turn "__proto__" into a prototype instead of a key; JSON.parse
 * (what the client does) makes it an own property.
 */
export const hostileJsonObject: fc.Arbitrary<string> = fc.letrec<{ object: string; value: string }>((tie) => ({
  object: fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.constantFrom(...REALISTIC_KEYS), fc.string({ maxLength: 12 })), tie('value')), { maxLength: 6 })
    .map((entries) => `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`),
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 1 }).map((value) => JSON.stringify(value)),
    fc.constantFrom('"2026-10-31T17:42:08.123456Z"', '1730000000', '"alice@corp.example"'),
    tie('object'),
  ),
})).object;

/** A V4 envelope around hostile results: one object, or a list of them. */
export function hostileEnvelope(list: boolean): fc.Arbitrary<string> {
  const result = list ? fc.array(hostileJsonObject, { maxLength: 4 }).map((items) => `[${items.join(',')}]`) : hostileJsonObject;
  return result.map((text) => `{"success":true,"errors":[],"messages":[],"result":${text},"result_info":{"page":1,"per_page":20,"count":1,"total_count":1}}`);
}
