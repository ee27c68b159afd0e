import { readFileSync, readdirSync } from 'node:fs';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  DEFAULT_MAX_RESPONSE_CHARS,
  accessUserOutput,
  currentUserOutput,
  failedLoginsOutput,
  identityOutput,
  isoFromEpochSeconds,
  sessionListOutput,
  trimAccessUser,
  trimAccessUserList,
  trimCurrentUser,
  trimFailedLogins,
  trimIdentity,
  trimSessionList,
  userListOutput,
  type Trimmed,
} from '../src/trim/index.js';

// ---------- helpers ----------

type Json = Record<string, unknown>;

interface Envelope {
  success: boolean;
  errors: unknown[];
  messages: unknown[];
  result: unknown;
  result_info?: Json;
}

function fixture(name: string): Envelope {
  return JSON.parse(readFileSync(new URL(`./fixtures/trim/${name}.json`, import.meta.url), 'utf8')) as Envelope;
}

function asRecord(value: unknown): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`not an object: ${JSON.stringify(value)}`);
  return value as Json;
}

function asArray(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new Error(`not an array: ${JSON.stringify(value)}`);
  return value;
}

function records(result: unknown): Json[] {
  return asArray(result).map(asRecord);
}

const prettyLength = (body: unknown): number => JSON.stringify(body, null, 2).length;

const ajv = new AjvJsonSchemaValidator();
const toJsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'draft-7', io: 'output' });
const jsonValidators = new Map<z.ZodType, (input: unknown) => { valid: boolean; errorMessage?: string | undefined }>();
function jsonValidator(schema: z.ZodType) {
  let validator = jsonValidators.get(schema);
  if (validator === undefined) {
    validator = ajv.getValidator(toJsonSchema(schema) as Parameters<typeof ajv.getValidator>[0]);
    jsonValidators.set(schema, validator);
  }
  return validator;
}

/** Everything every result must satisfy: text is the JSON of data, it fits, and it validates (zod and JSON Schema). */
function expectValid(schema: z.ZodType, trimmed: Trimmed, maxChars: number = DEFAULT_MAX_RESPONSE_CHARS): void {
  expect(trimmed.text).toBe(JSON.stringify(trimmed.data));
  expect(JSON.parse(trimmed.text)).toEqual(trimmed.data);
  expect(trimmed.text.length).toBeLessThanOrEqual(maxChars);
  const parsed = schema.safeParse(trimmed.data);
  expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
  const checked = jsonValidator(schema)(trimmed.data);
  expect(checked.valid, checked.errorMessage).toBe(true);
}

/** Rebuilds one object per row from {fields, same, rows}; null cells are absent values. */
function reconstruct(data: Json): Json[] {
  const fields = asArray(data['fields']).map(String);
  const same = data['same'] === undefined ? {} : asRecord(data['same']);
  return asArray(data['rows']).map((row) => {
    const cells = asArray(row);
    expect(cells).toHaveLength(fields.length);
    const rebuilt: Json = { ...same };
    fields.forEach((field, index) => {
      const cell = cells[index];
      if (cell !== null) rebuilt[field] = cell;
    });
    return rebuilt;
  });
}

/** Independent of the implementation: drop the fraction of an ISO timestamp. */
const toSecond = (text: string): string => text.replace(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+(Z|[+-]\d\d:?\d\d)?$/, '$1$2');

/** The default columns of a user list. */
const USER_FIELDS = ['id', 'email', 'name', 'access_seat', 'gateway_seat', 'active_device_count', 'last_successful_login'];
/** Shown when `fields` names them (a single user always has them). */
const USER_MORE_FIELDS = ['created_at', 'updated_at', 'seat_uid'];

/** What must survive trimming for one upstream user: non-empty values, timestamps to the second. */
function expectedUser(user: Json): Json {
  const expected: Json = {};
  for (const field of [...USER_FIELDS, 'created_at', 'updated_at']) {
    const value = user[field];
    if (value === null || value === undefined || value === '') continue;
    expected[field] = typeof value === 'string' && field.endsWith('_at') || field === 'last_successful_login' ? toSecond(String(value)) : value;
  }
  return expected;
}

function pick(record: Json, keys: readonly string[]): Json {
  const picked: Json = {};
  for (const key of keys) if (record[key] !== undefined) picked[key] = record[key];
  return picked;
}

/** A fake Access users endpoint over a fixed dataset (what page N with per_page P returns). */
function apiPage(all: readonly Json[], page: number, perPage: number) {
  const result = all.slice((page - 1) * perPage, page * perPage);
  return {
    result,
    result_info: { page, per_page: perPage, count: result.length, total_count: all.length, total_pages: Math.ceil(all.length / perPage) },
  };
}

const usersPage = fixture('users-page');
const pageUsers = records(usersPage.result);

/** 200 distinct users built from the 50 in the fixture. */
const manyUsers: Json[] = [0, 1, 2, 3].flatMap((copy) =>
  pageUsers.map((user) => {
    const id = `${copy}${String(user['id']).slice(1)}`;
    return { ...user, id, uid: id, email: `${copy}.${String(user['email'])}` };
  }),
);

// ---------- rules ----------

describe('rule 1: empties are dropped recursively', () => {
  it('drops null, undefined, "", [] and {} at any depth but keeps 0 and false', () => {
    const trimmed = trimAccessUser({
      id: 'f174e90a-fafe-4643-bbbc-4a0ed4fc8415',
      email: 'jdoe@corp.example',
      name: '',
      seat_uid: null,
      last_successful_login: undefined,
      active_device_count: 0,
      gateway_seat: false,
      labels: [],
      profile: { nickname: '', tags: [null, ''], nested: { deeper: {} }, keep: 'x' },
    });
    expect(trimmed.data).toEqual({
      id: 'f174e90a-fafe-4643-bbbc-4a0ed4fc8415',
      email: 'jdoe@corp.example',
      gateway_seat: false,
      active_device_count: 0,
      profile: { keep: 'x' },
    });
    expectValid(accessUserOutput, trimmed);
  });

  it('drops empty strings inside the full identity (mtls_auth keeps only its non-empty fields)', () => {
    const body = fixture('active-session');
    const full = trimIdentity(body.result, { detail: 'full' }).data;
    expect(full['mtls_auth']).toEqual({ auth_status: 'NONE', cert_presented: false });
    expect(full).not.toHaveProperty('common_name');
    expect(full).not.toHaveProperty('service_token_id');
    expect(full['service_token_status']).toBe(false);
  });
});

describe('rule 2: timestamps', () => {
  it('turns epoch seconds into ISO 8601 UTC at second precision', () => {
    expect(isoFromEpochSeconds(1_793_528_430)).toBe('2026-11-01T10:20:30Z');
    expect(isoFromEpochSeconds(1_793_528_430.999)).toBe('2026-11-01T10:20:30Z');
    expect(isoFromEpochSeconds('1793528430')).toBe('2026-11-01T10:20:30Z');
    expect(isoFromEpochSeconds(0)).toBe('1970-01-01T00:00:00Z');
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, 1e15, 'soon', '', null, undefined, {}, [], true]) {
      expect(isoFromEpochSeconds(bad)).toBeUndefined();
    }
  });

  it('cuts fractional ISO seconds without ever losing (or rounding) the second', () => {
    const trimmed = trimAccessUser({
      id: 'a',
      created_at: '2023-03-14T09:26:53.589793Z',
      updated_at: '2023-03-14T09:26:59.999999Z',
      last_successful_login: '2020-07-01T05:20:00Z',
      extra_time: '2023-03-14T09:26:53.5+02:00',
    });
    expect(trimmed.data).toMatchObject({
      created_at: '2023-03-14T09:26:53Z',
      updated_at: '2023-03-14T09:26:59Z',
      last_successful_login: '2020-07-01T05:20:00Z',
      extra_time: '2023-03-14T09:26:53+02:00',
    });
  });

  it('converts iat, expires, expiration and last_authenticated, and leaves other numbers alone', () => {
    const body = fixture('active-session');
    const identity = asRecord(body.result);
    const full = trimIdentity(identity, { detail: 'full' }).data;
    expect(full['iat']).toBe('2026-11-01T10:20:30Z');
    expect(full['version']).toBe(identity['version']);
    for (const [deviceId, session] of Object.entries(asRecord(identity['device_sessions']))) {
      expect(asRecord(asRecord(full['device_sessions'])[deviceId])['last_authenticated']).toBe(
        isoFromEpochSeconds(asRecord(session)['last_authenticated']),
      );
    }
    const item = { expiration: 1_793_614_830, metadata: { iat: 1_793_528_430, expires: 1_793_614_830, ttl: 86_400, nonce: 'n1' } };
    expect(reconstruct(trimSessionList([item], undefined).data)[0]).toEqual({ nonce: 'n1', issued: '2026-11-01T10:20:30Z', expires: '2026-11-02T10:20:30Z' });
    expect(reconstruct(trimSessionList([item], undefined, { fields: ['issued', 'ttl'] }).data)[0]).toEqual({ issued: '2026-11-01T10:20:30Z', ttl: 86_400 });
  });
});

describe('rule 3: only empties and exact duplicates are dropped', () => {
  it('drops a single user uid equal to id and keeps one that differs', () => {
    const user = asRecord(fixture('user').result);
    expect(user['uid']).toBe(user['id']);
    expect(trimAccessUser(user).data).not.toHaveProperty('uid');
    const different = trimAccessUser({ ...user, uid: 'legacy-uid-42' }).data;
    expect(different['uid']).toBe('legacy-uid-42');
  });

  it('omits the uid column when it repeats id in every row, keeps it whole when one row differs', () => {
    const equal = trimAccessUserList(pageUsers, usersPage.result_info, { page: 1, per_page: 50 }).data;
    expect(equal['fields']).not.toContain('uid');
    const mixed = pageUsers.map((user, index) => (index === 3 ? { ...user, uid: 'legacy-uid-42' } : user));
    const rebuilt = reconstruct(trimAccessUserList(mixed, usersPage.result_info, { page: 1, per_page: 50 }).data);
    expect(rebuilt[3]?.['uid']).toBe('legacy-uid-42');
    expect(rebuilt[0]?.['uid']).toBe(pageUsers[0]?.['id']);
  });

  it('keeps uid when the projection leaves out id (it is then no duplicate)', () => {
    const trimmed = trimAccessUserList(pageUsers.slice(0, 3), undefined, { page: 1, per_page: 50 }, { fields: ['uid'] });
    expect(trimmed.data['fields']).toEqual(['uid']);
    expect(reconstruct(trimmed.data).map((row) => row['uid'])).toEqual(pageUsers.slice(0, 3).map((user) => user['uid']));
  });

  it('keeps a session expiration only when it differs from metadata.expires', () => {
    const base = { metadata: { iat: 1_793_528_430, expires: 1_793_614_830, nonce: 'n1' } };
    expect(trimSessionList([{ ...base, expiration: 1_793_614_830 }], undefined).data['fields']).not.toContain('expiration');
    const differing = reconstruct(trimSessionList([{ ...base, expiration: 1_793_600_000 }], undefined).data)[0];
    expect(differing?.['expiration']).toBe('2026-11-02T06:13:20Z');
  });
});

describe('rule 4: columnar lists', () => {
  const trimmed = trimAccessUserList(usersPage.result, usersPage.result_info, { page: 1, per_page: 50 });

  it('a page of 50 users is at most 35% of the pretty-printed body and every user is recoverable, the rest through fields', () => {
    expectValid(userListOutput, trimmed);
    expect(trimmed.text.length / prettyLength(usersPage)).toBeLessThanOrEqual(0.35);
    // Deterministic: a change in either direction shows (test/list-size.test.ts measures the emulator's two data sets).
    expect(trimmed.text.length).toBe(6_080);
    const rebuilt = reconstruct(trimmed.data);
    expect(rebuilt).toHaveLength(50);
    pageUsers.forEach((user, index) => {
      expect(rebuilt[index]).toEqual(pick(expectedUser(user), USER_FIELDS));
    });
    const more = trimAccessUserList(usersPage.result, usersPage.result_info, { page: 1, per_page: 50 }, { fields: [...USER_FIELDS, ...USER_MORE_FIELDS] });
    expectValid(userListOutput, more);
    expect(more.data).not.toHaveProperty('more_fields');
    reconstruct(more.data).forEach((row, index) => {
      const seatUid = pageUsers[index]!['seat_uid'];
      expect(row).toEqual({ ...expectedUser(pageUsers[index]!), ...(seatUid ? { seat_uid: seatUid } : {}) });
    });
  });

  it('orders columns most useful first, writes each key once and names the columns left out', () => {
    expect(trimmed.data['fields']).toEqual(USER_FIELDS);
    expect(trimmed.data['more_fields']).toEqual(USER_MORE_FIELDS);
    expect(trimmed.text.split('"email"')).toHaveLength(2);
    expect(trimmed.data['paging']).toEqual({ page: 1, per_page: 50, count: 50, next_page: 2 });
    expect(Object.keys(trimmed.data)).toEqual(['fields', 'rows', 'paging', 'more_fields']);
  });

  it('a projection naming only unknown fields gets the default columns, more_fields and what is available', () => {
    const data = trimAccessUserList(pageUsers, undefined, {}, { fields: ['created'] }).data;
    expect(data['fields']).toEqual(USER_FIELDS);
    expect(data['more_fields']).toEqual(USER_MORE_FIELDS);
    expect(data['unknown_fields']).toEqual(['created']);
  });

  it('writes null for a value missing in one row (users who never logged in)', () => {
    const fields = asArray(trimmed.data['fields']);
    const loginColumn = fields.indexOf('last_successful_login');
    const neverLoggedIn = pageUsers.flatMap((user, index) => (user['last_successful_login'] === null ? [index] : []));
    expect(neverLoggedIn.length).toBeGreaterThan(0);
    for (const index of neverLoggedIn) expect(asArray(asArray(trimmed.data['rows'])[index])[loginColumn]).toBeNull();
  });

  it('omits a column empty in every row and appends unknown API fields after the known ones', () => {
    const users = pageUsers.slice(0, 4).map((user, index) => ({ ...user, seat_uid: '', ...(index === 2 ? { scim_external_id: 'okta-00u1' } : {}) }));
    const data = trimAccessUserList(users, undefined, { page: 1, per_page: 50 }).data;
    const fields = asArray(data['fields']);
    expect(fields).not.toContain('seat_uid');
    // An empty on-request column is not offered either; a field the API adds later is shown (nothing new is hidden).
    expect(data['more_fields']).toEqual(['created_at', 'updated_at']);
    expect(fields.at(-1)).toBe('scim_external_id');
    expect(reconstruct(data).map((row) => row['scim_external_id'] ?? null)).toEqual([null, null, 'okta-00u1', null]);
  });

  it('hoists a column identical in every row (≥ 2 rows) into same, never the last remaining column', () => {
    const rows = [
      { id: 'u1', email: 'a@corp.example', access_seat: true },
      { id: 'u2', email: 'b@corp.example', access_seat: true },
    ];
    const data = trimAccessUserList(rows, undefined, {}).data;
    expect(data['same']).toEqual({ access_seat: true });
    expect(data['fields']).toEqual(['id', 'email']);
    expect(trimAccessUserList(rows.slice(0, 1), undefined, {}).data).not.toHaveProperty('same');
    const oneColumn = trimAccessUserList(rows, undefined, {}, { fields: ['access_seat'] }).data;
    expect(oneColumn['fields']).toEqual(['access_seat']);
    expect(oneColumn['rows']).toEqual([[true], [true]]);
  });
});

describe('paging: next_page never trusts total_count', () => {
  const users = (count: number): Json[] => manyUsers.slice(0, count);
  const paging = (count: number, info: unknown, request: { page?: number; per_page?: number } = {}) =>
    trimAccessUserList(users(count), info, request).data['paging'];

  it('offers the next page after a full page when total_pages allows it', () => {
    expect(paging(50, { page: 1, per_page: 50, count: 50, total_count: 60, total_pages: 2 })).toEqual({ page: 1, per_page: 50, count: 50, next_page: 2 });
  });

  it('offers none on the last page', () => {
    expect(paging(50, { page: 2, per_page: 50, count: 50, total_count: 100, total_pages: 2 })).toEqual({ page: 2, per_page: 50, count: 50 });
    expect(paging(10, { page: 2, per_page: 50, count: 10, total_count: 60, total_pages: 2 })).toEqual({ page: 2, per_page: 50, count: 10 });
  });

  it('offers none after a short filtered page even though total_count counts the whole account', () => {
    expect(paging(3, { page: 1, per_page: 50, count: 3, total_count: 60, total_pages: 2 })).toEqual({ page: 1, per_page: 50, count: 3 });
  });

  it('offers one after a full page when total_pages is absent, even if total_count says there is no more', () => {
    expect(paging(50, { page: 1, per_page: 50, count: 50 })).toMatchObject({ next_page: 2 });
    expect(paging(50, { page: 1, per_page: 50, count: 50, total_count: 50 })).toMatchObject({ next_page: 2 });
  });

  it('falls back to the request when result_info lacks page/per_page, and to page 1', () => {
    expect(paging(20, { count: 20 }, { page: 3, per_page: 20 })).toEqual({ page: 3, per_page: 20, count: 20, next_page: 4 });
    expect(paging(20, undefined, { per_page: 20 })).toEqual({ page: 1, per_page: 20, count: 20, next_page: 2 });
    expect(paging(20, 'garbage', {})).toEqual({ page: 1, count: 20 });
  });

  it('active sessions (not pageable) only report their count', () => {
    const body = fixture('sessions');
    expect(trimSessionList(body.result, body.result_info).data['paging']).toEqual({ count: 4 });
  });
});

describe('rule 10: the response budget', () => {
  /** Row texts of the untruncated page, to check that one more allowed row would not have fitted. */
  const rowLengths = (all: Json[], page: number, perPage: number): number[] => {
    const { result, result_info } = apiPage(all, page, perPage);
    const full = trimAccessUserList(result, result_info, { page, per_page: perPage }, { maxChars: 1e9 });
    return asArray(full.data['rows']).map((row) => JSON.stringify(row).length + 1);
  };

  function expectExactContinuation(page: number, perPage: number, maxChars: number): void {
    const { result, result_info } = apiPage(manyUsers, page, perPage);
    const trimmed = trimAccessUserList(result, result_info, { page, per_page: perPage }, { maxChars });
    expectValid(userListOutput, trimmed, maxChars);
    const truncated = asRecord(trimmed.data['truncated']);
    const shown = Number(truncated['shown']);
    const offset = (page - 1) * perPage;
    expect(truncated['of']).toBe(perPage);
    expect(shown).toBeGreaterThan(0);
    expect(offset % shown).toBe(0);
    expect(asArray(trimmed.data['rows'])).toHaveLength(shown);
    expect(asRecord(trimmed.data['paging'])['count']).toBe(perPage);
    const next = asRecord(truncated['next']);
    expect(next).toEqual({ page: offset / shown + 2, per_page: shown });
    expect(String(truncated['hint'])).toContain(`page ${String(next['page'])}`);
    expect(String(truncated['hint'])).toContain('fields');

    // The rows shown are this page's first rows; the continuation starts exactly at the first omitted one.
    expect(reconstruct(trimmed.data).map((row) => row['id'])).toEqual(manyUsers.slice(offset, offset + shown).map((user) => user['id']));
    const continuation = apiPage(manyUsers, Number(next['page']), shown);
    expect(continuation.result[0]?.['id']).toBe(manyUsers[offset + shown]?.['id']);

    // Largest such count: the next allowed count would not have fitted.
    const lengths = rowLengths(manyUsers, page, perPage);
    const nextAllowed = Array.from({ length: perPage - shown - 1 }, (_, index) => shown + index + 1).find((count) => offset % count === 0);
    if (nextAllowed !== undefined) {
      const extra = lengths.slice(shown, nextAllowed).reduce((sum, length) => sum + length, 0);
      expect(trimmed.text.length + extra - 8).toBeGreaterThan(maxChars);
    }
  }

  it('page 1: any count works and page 2 with per_page K continues', () => {
    expectExactContinuation(1, 50, 2_000);
    expectExactContinuation(1, 50, 5_000);
  });

  it('page 3 with per_page 50: K divides 100 and page 100/K + 2 starts at the first omitted row', () => {
    expectExactContinuation(3, 50, 2_000);
    expectExactContinuation(3, 50, 4_000);
  });

  it('a 500 budget shows the columns, no row, and says to pass fields', () => {
    const trimmed = trimAccessUserList(usersPage.result, usersPage.result_info, { page: 1, per_page: 50 }, { maxChars: 500 });
    expectValid(userListOutput, trimmed, 500);
    expect(trimmed.data['rows']).toEqual([]);
    expect(asArray(trimmed.data['fields'])).toContain('email');
    expect(asRecord(trimmed.data['truncated'])).toMatchObject({ shown: 0, of: 50 });
    expect(String(asRecord(trimmed.data['truncated'])['hint'])).toContain('fields');
  });

  it('projection happens before the budget: one column fits many rows in 500 characters', () => {
    const { result, result_info } = apiPage(manyUsers, 3, 50);
    const trimmed = trimAccessUserList(result, result_info, { page: 3, per_page: 50 }, { maxChars: 500, fields: ['email'] });
    expectValid(userListOutput, trimmed, 500);
    expect(trimmed.data['fields']).toEqual(['email']);
    const truncated = asRecord(trimmed.data['truncated']);
    const shown = Number(truncated['shown']);
    expect(shown).toBeGreaterThanOrEqual(5);
    expect(100 % shown).toBe(0);
    expect(asArray(trimmed.data['rows']).flat()).toEqual(manyUsers.slice(100, 100 + shown).map((user) => user['email']));
  });

  it('every trimmer stays within small budgets and still validates', () => {
    const cases: Array<[z.ZodType, (maxChars: number) => Trimmed]> = [
      [userListOutput, (maxChars) => trimAccessUserList(usersPage.result, usersPage.result_info, { page: 1, per_page: 50 }, { maxChars })],
      [userListOutput, (maxChars) => trimAccessUserList(usersPage.result, usersPage.result_info, { page: 1, per_page: 50 }, { maxChars, fields: ['id'] })],
      [sessionListOutput, (maxChars) => trimSessionList(fixture('sessions').result, undefined, { maxChars })],
      [failedLoginsOutput, (maxChars) => trimFailedLogins(fixture('failed-logins').result, fixture('failed-logins').result_info, { maxChars })],
      [identityOutput, (maxChars) => trimIdentity(fixture('active-session').result, { maxChars })],
      [identityOutput, (maxChars) => trimIdentity(fixture('active-session').result, { maxChars, detail: 'full' })],
      [identityOutput, (maxChars) => trimIdentity(fixture('last-seen-identity').result, { maxChars, detail: 'full' })],
      [currentUserOutput, (maxChars) => trimCurrentUser(fixture('current-user').result, { maxChars })],
      [accessUserOutput, (maxChars) => trimAccessUser(fixture('user').result, { maxChars })],
    ];
    for (const [schema, run] of cases) {
      for (const maxChars of [120, 200, 300, 500, 800, 1_000, 2_000, 3_000]) expectValid(schema, run(maxChars), maxChars);
    }
  });

  it('a full identity over budget shortens devicePosture and names the cut', () => {
    const body = fixture('active-session');
    const trimmed = trimIdentity(body.result, { detail: 'full', maxChars: 2_000 });
    expectValid(identityOutput, trimmed, 2_000);
    const truncated = asRecord(trimmed.data['truncated']);
    const rules = Object.keys(asRecord(asRecord(body.result)['devicePosture'])).length;
    const kept = Object.keys(asRecord(trimmed.data['devicePosture'])).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(rules);
    expect(truncated['cut']).toEqual({ devicePosture: `${kept} of ${rules}` });
    expect(String(truncated['hint'])).toMatch(/summary/);
    expect(String(truncated['hint'])).toMatch(/fields/);
    // What was kept is intact.
    expect(trimmed.data['email']).toBe(asRecord(body.result)['email']);
  });

  it('the current user under a tight budget drops its least useful keys last-first and says so', () => {
    const trimmed = trimCurrentUser(fixture('current-user').result, { maxChars: 500 });
    expectValid(currentUserOutput, trimmed, 500);
    expect(trimmed.data['email']).toBe('priya.raman@corp.example');
    expect(trimmed.data['two_factor_authentication_enabled']).toBe(true);
    expect(asArray(asRecord(trimmed.data['truncated'])['dropped'])).toContain('organizations');
  });

  it('shortens long permission lists before dropping organizations', () => {
    const trimmed = trimCurrentUser(fixture('current-user').result, { maxChars: 1_200 });
    expectValid(currentUserOutput, trimmed, 1_200);
    expect(asArray(trimmed.data['organizations'])).toHaveLength(3);
    expect(Object.keys(asRecord(asRecord(trimmed.data['truncated'])['cut']))).toEqual(['organizations.0.permissions']);
  });
});

describe('rule 9: fields projection', () => {
  it('lists keep the requested columns in the requested order and report unknown names', () => {
    const trimmed = trimAccessUserList(usersPage.result, usersPage.result_info, { page: 1, per_page: 50 }, { fields: ['email', 'nope', 'name', 'id', 'email'] });
    expectValid(userListOutput, trimmed);
    expect(trimmed.data['fields']).toEqual(['email', 'name', 'id']);
    expect(trimmed.data['unknown_fields']).toEqual(['nope']);
    expect(asArray(trimmed.data['available_fields'])).toEqual(expect.arrayContaining(['id', 'email', 'seat_uid', 'uid']));
  });

  it('a projection with only unknown names returns the whole table so the call is not wasted', () => {
    const trimmed = trimAccessUserList(usersPage.result, usersPage.result_info, { page: 1, per_page: 50 }, { fields: ['mail'] });
    expectValid(userListOutput, trimmed);
    expect(asArray(trimmed.data['fields'])).toContain('email');
    expect(trimmed.data['unknown_fields']).toEqual(['mail']);
  });

  it('objects keep only the requested top-level keys', () => {
    const user = trimAccessUser(fixture('user').result, { fields: ['email', 'bogus', 'access_seat'] });
    expectValid(accessUserOutput, user);
    expect(user.data).toMatchObject({ email: 'priya.raman@corp.example', access_seat: true, unknown_fields: ['bogus'] });
    expect(Object.keys(user.data)).toEqual(['email', 'access_seat', 'unknown_fields', 'available_fields']);

    const identity = trimIdentity(fixture('active-session').result, { fields: ['posture', 'country'] });
    expectValid(identityOutput, identity);
    expect(Object.keys(identity.data)).toEqual(['posture', 'country']);

    const full = trimIdentity(fixture('active-session').result, { detail: 'full', fields: ['geo', 'isActive'] });
    expect(full.data).toEqual({ geo: { country: 'DE' }, isActive: true });
  });

  it('session and failed-login columns use the trimmed names', () => {
    const sessions = trimSessionList(fixture('sessions').result, undefined, { fields: ['issued', 'nonce'] });
    expect(sessions.data['fields']).toEqual(['issued', 'nonce']);
    const logins = trimFailedLogins(fixture('failed-logins').result, undefined, { fields: ['ray_id'] });
    expect(logins.data['fields']).toEqual(['ray_id']);
  });
});

describe('rule 5: single and current user', () => {
  it('a single user keeps every non-empty field, known ones first', () => {
    const body = fixture('user');
    const trimmed = trimAccessUser(body.result);
    expectValid(accessUserOutput, trimmed);
    expect(trimmed.data).toEqual({ ...expectedUser(asRecord(body.result)), seat_uid: asRecord(body.result)['seat_uid'] });
    expect(Object.keys(trimmed.data).slice(0, 3)).toEqual(['id', 'email', 'name']);
  });

  it('the current user keeps the person, flags and organizations (with permissions), without empties', () => {
    const body = fixture('current-user');
    const upstream = asRecord(body.result);
    const trimmed = trimCurrentUser(body.result);
    expectValid(currentUserOutput, trimmed);
    expect(trimmed.data).toMatchObject({
      id: upstream['id'],
      email: 'priya.raman@corp.example',
      first_name: 'Priya',
      two_factor_authentication_enabled: true,
      two_factor_authentication_locked: false,
      suspended: false,
      created_on: '2019-05-14T08:21:37Z',
    });
    for (const empty of ['telephone', 'zipcode', 'betas']) expect(trimmed.data).not.toHaveProperty(empty);
    const organizations = records(trimmed.data['organizations']);
    const upstreamOrganizations = records(upstream['organizations']);
    expect(organizations.map((organization) => Object.keys(organization))).toEqual([
      ['id', 'name', 'status', 'roles', 'permissions'],
      ['id', 'name', 'status', 'roles', 'permissions'],
      ['id', 'name', 'status'],
    ]);
    expect(organizations[0]?.['permissions']).toEqual(upstreamOrganizations[0]?.['permissions']);
  });
});

describe('rule 6: active sessions', () => {
  const body = fixture('sessions');
  const trimmed = trimSessionList(body.result, body.result_info);

  it('rows of nonce, apps, issued, expires; ttl (expires minus issued) through fields, where a shared one is hoisted', () => {
    expectValid(sessionListOutput, trimmed);
    expect(trimmed.data['fields']).toEqual(['nonce', 'apps', 'issued', 'expires']);
    expect(trimmed.data['same']).toBeUndefined();
    expect(trimmed.data['more_fields']).toEqual(['ttl']);
    const first = reconstruct(trimmed.data)[0];
    const upstream = asRecord(asRecord(records(body.result)[0])['metadata']);
    expect(first).toEqual({
      nonce: upstream['nonce'],
      apps: ['App Launcher (corp.cloudflareaccess.com, app_launcher)', 'Jira (jira.corp.example)', 'Grafana (grafana.corp.example)'],
      issued: isoFromEpochSeconds(upstream['iat']),
      expires: isoFromEpochSeconds(upstream['expires']),
    });
    const withTtl = trimSessionList(body.result, body.result_info, { fields: ['nonce', 'ttl'] }).data;
    expect(withTtl['same']).toEqual({ ttl: 86_400 });
  });

  it('apps fall back to objects when two share a label, and a non-empty name is kept', () => {
    const apps = {
      a1: { hostname: 'jira.corp.example', name: 'Jira', type: 'self_hosted', uid: 'a1' },
      a2: { hostname: 'jira.corp.example', name: 'Jira', type: 'self_hosted', uid: 'a2' },
    };
    const listed = trimSessionList([{ name: 'laptop', metadata: { nonce: 'n1', apps } }], undefined).data;
    expect(listed['more_fields']).toEqual(['name']);
    const rows = reconstruct(trimSessionList([{ name: 'laptop', metadata: { nonce: 'n1', apps } }], undefined, { fields: ['nonce', 'name', 'apps'] }).data);
    expect(rows[0]).toEqual({
      nonce: 'n1',
      name: 'laptop',
      apps: [
        { name: 'Jira', hostname: 'jira.corp.example', type: 'self_hosted', uid: 'a1' },
        { name: 'Jira', hostname: 'jira.corp.example', type: 'self_hosted', uid: 'a2' },
      ],
    });
  });

  it('is compact', () => {
    expect(trimmed.text.length / prettyLength(body)).toBeLessThanOrEqual(0.35);
  });
});

describe('rule 7: identity', () => {
  const active = fixture('active-session');
  const summary = trimIdentity(active.result);

  it('summary of an active session is at most 35% of the pretty-printed body', () => {
    expectValid(identityOutput, summary);
    expect(summary.text.length / prettyLength(active)).toBeLessThanOrEqual(0.35);
  });

  it('summary keeps who, where, how, when, devices and posture outcomes', () => {
    const upstream = asRecord(active.result);
    expect(summary.data).toMatchObject({
      email: upstream['email'],
      name: upstream['name'],
      user_uuid: upstream['user_uuid'],
      active: true,
      ip: '203.0.113.47',
      country: 'DE',
      idp: { type: 'okta', id: asRecord(upstream['idp'])['id'] },
      issued: '2026-11-01T10:20:30Z',
      auth_status: 'NONE',
      warp: true,
      gateway: true,
      device_id: upstream['device_id'],
      groups: ['engineering', 'zt-laptop-users'],
    });
    const devices = records(summary.data['devices']);
    expect(devices.map((device) => device['id'])).toEqual(Object.keys(asRecord(upstream['device_sessions'])));
    expect(devices[0]?.['last_authenticated']).toBe('2026-11-01T10:19:50Z');

    const posture = asRecord(summary.data['posture']);
    const rules = Object.values(asRecord(upstream['devicePosture'])).map(asRecord);
    const failed = records(posture['failed']);
    expect(records(posture['passed'])).toHaveLength(rules.filter((rule) => rule['success'] === true).length);
    expect(failed.map((rule) => rule['rule'])).toEqual(rules.filter((rule) => rule['success'] === false).map((rule) => rule['rule_name']));
    expect(failed[0]).toEqual({ rule: 'Corp compliance profile', type: 'file', error: 'file not found', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
    // mTLS without a certificate and an unused service token are noise.
    expect(summary.data).not.toHaveProperty('mtls');
    expect(summary.data).not.toHaveProperty('service_token');
  });

  it('summary shows mTLS only when a certificate was presented and the service token only when used', () => {
    const upstream = asRecord(active.result);
    const withCert = trimIdentity({
      ...upstream,
      mtls_auth: { auth_status: 'OK', cert_issuer_dn: 'CN=Corp Device CA', cert_issuer_ski: 'A1B2', cert_presented: true, cert_serial: '0F:3C' },
      service_token_id: 'b2f3c1d0-7e8f-4a5b-9c6d-1e2f3a4b5c6d',
      service_token_status: true,
    }).data;
    expect(withCert['mtls']).toEqual({ auth_status: 'OK', cert_issuer_dn: 'CN=Corp Device CA', cert_issuer_ski: 'A1B2', cert_presented: true, cert_serial: '0F:3C' });
    expect(withCert['service_token']).toEqual({ id: 'b2f3c1d0-7e8f-4a5b-9c6d-1e2f3a4b5c6d', status: true });
  });

  it('last seen identity has no active flag and is as compact', () => {
    const lastSeen = fixture('last-seen-identity');
    const trimmed = trimIdentity(lastSeen.result);
    expectValid(identityOutput, trimmed);
    expect(trimmed.data).not.toHaveProperty('active');
    expect(trimmed.data['country']).toBe('PT');
    expect(records(asRecord(trimmed.data['posture'])['failed'])).toHaveLength(2);
    expect(trimmed.text.length / prettyLength(lastSeen)).toBeLessThanOrEqual(0.35);
  });

  it("detail 'full' keeps every non-empty field (rules 1–2 applied)", () => {
    for (const name of ['active-session', 'last-seen-identity']) {
      const body = fixture(name);
      const full = trimIdentity(body.result, { detail: 'full' });
      expectValid(identityOutput, full);
      const leaves: Array<[string[], unknown]> = [];
      const walk = (value: unknown, path: string[]): void => {
        if (Array.isArray(value)) value.forEach((item, index) => walk(item, [...path, String(index)]));
        else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
        else if (value !== null && value !== '') leaves.push([path, value]);
      };
      walk(body.result, []);
      expect(leaves.length).toBeGreaterThan(50);
      for (const [path, value] of leaves) {
        const key = path.at(-1) ?? '';
        const expected = ['iat', 'expires', 'expiration', 'last_authenticated'].includes(key)
          ? isoFromEpochSeconds(value)
          : typeof value === 'string' ? toSecond(value) : value;
        const actual = path.reduce<unknown>((node, segment) => (node as Json | undefined)?.[segment], full.data);
        expect(actual, path.join('.')).toEqual(expected);
      }
    }
  });
});

describe('rule 8: failed logins', () => {
  const body = fixture('failed-logins');
  const trimmed = trimFailedLogins(body.result, body.result_info);

  it('columns datetime, app_name, ray_id; expiration, aud and the user (asked about) through fields', () => {
    expectValid(failedLoginsOutput, trimmed);
    expect(trimmed.data['fields']).toEqual(['datetime', 'app_name', 'ray_id']);
    expect(trimmed.data['more_fields']).toEqual(['expiration', 'aud', 'user_email', 'user_uuid']);
    const first = asRecord(records(body.result)[0]);
    const metadata = asRecord(first['metadata']);
    expect(reconstruct(trimmed.data)[0]).toEqual({ datetime: toSecond(String(metadata['datetime'])), app_name: metadata['app_name'], ray_id: metadata['ray_id'] });
    const all = trimFailedLogins(body.result, body.result_info, { fields: ['datetime', 'app_name', 'ray_id', 'expiration', 'aud', 'user_email', 'user_uuid'] });
    expectValid(failedLoginsOutput, all);
    expect(all.data['same']).toEqual({ user_email: metadata['user_email'], user_uuid: metadata['user_uuid'] });
    expect(reconstruct(all.data)[0]).toEqual({
      datetime: toSecond(String(metadata['datetime'])),
      app_name: metadata['app_name'],
      ray_id: metadata['ray_id'],
      expiration: isoFromEpochSeconds(first['expiration']),
      aud: metadata['aud'],
      user_email: metadata['user_email'],
      user_uuid: metadata['user_uuid'],
    });
    expect(trimmed.data['paging']).toEqual({ count: 7 });
  });

  it('keeps unknown metadata keys as extra columns', () => {
    const items = records(body.result).map((item, index) => ({ ...item, metadata: { ...asRecord(item['metadata']), reason: index % 2 ? 'mfa_failed' : 'policy_denied' } }));
    const data = trimFailedLogins(items, undefined).data;
    expect(asArray(data['fields']).at(-1)).toBe('reason');
  });

  it('is compact', () => {
    expect(trimmed.text.length / prettyLength(body)).toBeLessThanOrEqual(0.35);
  });
});

// ---------- robustness ----------

describe('degraded upstream shapes never throw and still validate', () => {
  const cyclic: Json = { id: 'c1', email: 'loop@corp.example' };
  cyclic['self'] = cyclic;
  const odd: unknown[] = [
    null, undefined, '', 'Service Unavailable', 42, true, [], {}, [null, 'x', 3, [], {}], { result: 'x' }, { id: 7, email: ['a'], name: { first: 'x' } },
    cyclic, JSON.parse('{"__proto__": {"polluted": true}, "id": "p1"}'), { metadata: 'nope', expiration: 'later' }, [{ metadata: { apps: 'none' } }],
    [{ metadata: { apps: { x: 'not-an-object' } } }], { devicePosture: 'n/a', device_sessions: [1, 2], geo: 'DE', idp: 'okta', isActive: 'yes' },
  ];
  const infos: unknown[] = [undefined, null, 'x', [], { page: 'one', per_page: -5, total_pages: 0 }, { page: 2, per_page: 0 }];

  it('for every trimmer', () => {
    for (const result of odd) {
      expectValid(accessUserOutput, trimAccessUser(result));
      expectValid(currentUserOutput, trimCurrentUser(result));
      expectValid(identityOutput, trimIdentity(result));
      expectValid(identityOutput, trimIdentity(result, { detail: 'full' }));
      for (const info of infos) {
        expectValid(userListOutput, trimAccessUserList(result, info, { page: 2 }));
        expectValid(sessionListOutput, trimSessionList(result, info));
        expectValid(failedLoginsOutput, trimFailedLogins(result, info));
      }
    }
    expect(({} as Json)['polluted']).toBeUndefined();
  });

  it('keeps a non-list result under raw and values of a contradicting type under unexpected', () => {
    expect(trimAccessUserList('Service Unavailable', undefined, {}).data).toMatchObject({ fields: [], rows: [], raw: 'Service Unavailable' });
    expect(trimAccessUser('Service Unavailable').data).toEqual({ raw: 'Service Unavailable' });
    expect(trimAccessUser(null).data).toEqual({});
    const mistyped = trimAccessUser({ id: 7, email: 'ok@corp.example' }).data;
    expect(mistyped).toEqual({ email: 'ok@corp.example', unexpected: { id: 7 } });
    expect(reconstruct(trimAccessUserList([1, 'two'], undefined, {}).data)).toEqual([{ value: 1 }, { value: 'two' }]);
  });

  it('odd options are read defensively', () => {
    const body = fixture('user');
    const options = [{ fields: 'email' }, { fields: [1, null, ''] }, { maxChars: -1 }, { maxChars: Number.NaN }, { detail: 'verbose' }] as unknown as TrimOptionsLike[];
    for (const option of options) expectValid(accessUserOutput, trimAccessUser(body.result, option));
    expectValid(userListOutput, trimAccessUserList(usersPage.result, usersPage.result_info, undefined as unknown as { page?: number }));
  });

  it('random JSON in, valid JSON within budget out (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.jsonValue({ maxDepth: 2 }), fc.integer({ min: 150, max: 3_000 }), (result, info, maxChars) => {
        expectValid(accessUserOutput, trimAccessUser(result, { maxChars }), maxChars);
        expectValid(currentUserOutput, trimCurrentUser(result, { maxChars }), maxChars);
        expectValid(identityOutput, trimIdentity(result, { maxChars, detail: 'full' }), maxChars);
        expectValid(identityOutput, trimIdentity(result, { maxChars }), maxChars);
        const list = Array.isArray(result) ? result : [result];
        expectValid(userListOutput, trimAccessUserList(list, info, { page: 3, per_page: 7 }, { maxChars }), maxChars);
        expectValid(sessionListOutput, trimSessionList(list, info, { maxChars }), maxChars);
        expectValid(failedLoginsOutput, trimFailedLogins(list, info, { maxChars }), maxChars);
      }),
      { numRuns: 150, seed: 20_261_101 },
    );
  });
});

type TrimOptionsLike = Parameters<typeof trimAccessUser>[1];

describe('purity', () => {
  it('is deterministic and does not modify its input', () => {
    const deepFreeze = <T>(value: T): T => {
      if (typeof value === 'object' && value !== null) {
        for (const item of Object.values(value)) deepFreeze(item);
        Object.freeze(value);
      }
      return value;
    };
    const identity = deepFreeze(fixture('active-session').result);
    const page = deepFreeze(fixture('users-page'));
    expect(trimIdentity(identity, { detail: 'full', maxChars: 1_500 }).text).toBe(trimIdentity(identity, { detail: 'full', maxChars: 1_500 }).text);
    expect(trimAccessUserList(page.result, page.result_info, { page: 1 }, { maxChars: 3_000 }).text).toBe(
      trimAccessUserList(page.result, page.result_info, { page: 1 }, { maxChars: 3_000 }).text,
    );
  });

  it('uses no Node APIs, process or I/O (it also runs on Workers)', () => {
    const directory = new URL('../src/trim/', import.meta.url);
    for (const file of readdirSync(directory).filter((name) => name.endsWith('.ts'))) {
      const source = readFileSync(new URL(file, directory), 'utf8');
      expect(source, file).not.toMatch(/from ['"]node:|require\(|\bprocess\.|\bfetch\(|Date\.now|Math\.random/);
    }
  });
});

describe('output schemas', () => {
  const schemas = { currentUserOutput, accessUserOutput, userListOutput, sessionListOutput, identityOutput, failedLoginsOutput };

  it('convert to draft-7 JSON Schema and stay under 2,500 bytes in total', () => {
    let total = 0;
    for (const schema of Object.values(schemas)) {
      const json = toJsonSchema(schema);
      expect(json['type']).toBe('object');
      total += JSON.stringify(json).length;
    }
    expect(total).toBeLessThan(2_500);
  });

  it('lists require fields, rows and paging; nothing else is required', () => {
    expect(toJsonSchema(userListOutput)['required']).toEqual(['fields', 'rows', 'paging']);
    expect(toJsonSchema(accessUserOutput)['required']).toBeUndefined();
    expect(toJsonSchema(identityOutput)['required']).toBeUndefined();
  });
});

describe('shrinkToFit and columnar tables', () => {
  it('never shortens a row of a table: rows go whole, every kept row keeps one value per field', async () => {
    const { shrinkToFit } = await import('../src/trim/budget.js');
    const fields = ['nonce', 'issued', 'expires', 'ip', 'country', 'devices'];
    const row = (i: number) => [`nonce-${i}-${'x'.repeat(60)}`, '2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z', '203.0.113.7', 'PT', 'laptop, phone, tablet'];
    const data = { user: { email: 'alice@corp.example' }, sessions: { count: 4, fields, rows: [0, 1, 2, 3].map(row) } };
    const full = JSON.stringify(data).length;
    for (const share of [0.8, 0.6, 0.4]) {
      const fitted = shrinkToFit(data, { maxChars: Math.floor(full * share), annotate: (working, report) => ({ ...working, truncated: report }) });
      const rows = (fitted?.data.sessions as { rows?: unknown[][] } | undefined)?.rows ?? [];
      for (const kept of rows) expect(kept, `at ${share} of the size`).toHaveLength(fields.length);
    }
  });
});
