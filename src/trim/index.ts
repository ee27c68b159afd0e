/**
 * Cloudflare API v4 `result` (+ `result_info`) → the compact result an LLM reads.
 *
 * Pure and deterministic (no I/O, no Node APIs: it also runs on Workers). It
 * never throws: odd upstream shapes degrade to something that still validates
 * against the tool's output schema (a non-object result is kept under `raw`,
 * a value of an unexpected type under `unexpected`). `text` is always
 * `JSON.stringify(data)` and at most `maxChars` long (as far as JSON allows:
 * the smallest valid answers are a few dozen characters).
 */
import type { z } from 'zod';
import { firstThatFits, resolveMaxChars, shrinkToFit, type Fitted } from './budget.js';
import { compact, isRecord, setEntry, type JsonRecord } from './compact.js';
import { identityFull, identitySummary } from './identity.js';
import {
  FAILED_LOGIN_SPEC,
  SESSION_SPEC,
  USER_SPEC,
  compactSessionApps,
  currentUser,
  failedLoginRecord,
  sessionRecord,
  singleUser,
  userRecord,
} from './records.js';
import { accessOverview, type OverviewParts } from './overview.js';
import {
  accessOverviewOutput,
  accessUserOutput,
  batchOutput,
  currentUserOutput,
  failedLoginsOutput,
  identityOutput,
  sessionListOutput,
  userListOutput,
} from './schemas.js';
import { buildList, derivePaging, listSkeletons, project, type Paging, type TableSpec } from './table.js';

export { DEFAULT_MAX_RESPONSE_CHARS } from './budget.js';
export { isoFromEpochSeconds } from './compact.js';
export { RECENT_FAILED_LOGINS, type OverviewParts, type OverviewSession } from './overview.js';
// The output schemas, for the tools' outputSchema.
export * from './schemas.js';

export interface TrimOptions {
  /** Project to these (trimmed) field names; for lists: columns; for objects: top-level keys. */
  fields?: readonly string[];
  /** Response budget for `text`, default DEFAULT_MAX_RESPONSE_CHARS. */
  maxChars?: number;
  /** Identities only; default 'summary'. */
  detail?: 'summary' | 'full';
}

/** What the tool asked for. */
export interface PageRequest {
  page?: number;
  per_page?: number;
}

export interface Trimmed {
  data: Record<string, unknown>;
  /** === JSON.stringify(data) */
  text: string;
}

type OutputSchema = z.ZodType;

interface Settings {
  fields: string[] | undefined;
  maxChars: number;
  detail: 'summary' | 'full';
}

/** Options come from model-supplied arguments: read them defensively. */
function settings(opts: unknown): Settings {
  const options = isRecord(opts) ? opts : {};
  const rawFields = options['fields'];
  const fields = Array.isArray(rawFields)
    ? rawFields.filter((field): field is string => typeof field === 'string').map((field) => field.trim()).filter((field) => field !== '')
    : undefined;
  return {
    fields: fields !== undefined && fields.length > 0 ? fields : undefined,
    maxChars: resolveMaxChars(options['maxChars']),
    detail: options['detail'] === 'full' ? 'full' : 'summary',
  };
}

function valid(schema: OutputSchema, data: JsonRecord): boolean {
  return schema.safeParse(data).success;
}

/** Last line of defence: a bug or an exotic input yields an empty, valid answer instead of an exception. */
function guarded(schema: OutputSchema, maxChars: number, fallbacks: () => JsonRecord[], build: () => Fitted): Trimmed {
  try {
    const fitted = build();
    if (fitted.text.length <= maxChars && valid(schema, fitted.data)) return fitted;
  } catch {
    // fall through to the fallback
  }
  try {
    return firstThatFits(fallbacks().filter((candidate) => valid(schema, candidate)), maxChars);
  } catch {
    return { data: {}, text: '{}' };
  }
}

const OBJECT_FALLBACKS = (): JsonRecord[] => [{ note: 'The upstream result could not be read.' }, {}];

// ---- single objects ----

/**
 * Moves top-level values whose type contradicts the output schema (say an
 * `email` that is a number) under `unexpected`, so the result still validates
 * and nothing is lost.
 */
function conform(schema: OutputSchema, data: JsonRecord): JsonRecord {
  let current = data;
  for (let attempt = 0; attempt < 5; attempt++) {
    const parsed = schema.safeParse(current);
    if (parsed.success) return current;
    const offending = new Set(parsed.error.issues.map((issue) => issue.path[0]).filter((key) => typeof key === 'string'));
    if (offending.size === 0) return current;
    const previous = current['unexpected'];
    const moved: JsonRecord = isRecord(previous) ? { ...previous } : previous === undefined ? {} : { unexpected: previous };
    const kept: JsonRecord = {};
    for (const [key, value] of Object.entries(current)) {
      if (offending.has(key) && key !== 'unexpected') setEntry(moved, key, value);
      else if (key !== 'unexpected') setEntry(kept, key, value);
    }
    kept['unexpected'] = moved;
    current = kept;
  }
  return current;
}

interface ObjectSpec {
  schema: OutputSchema;
  /** Documented keys, so a request for one that is empty here is not reported as unknown. */
  knownKeys: readonly string[];
  hint: string;
}

function finishObject(record: JsonRecord, spec: ObjectSpec, options: Settings): Fitted {
  const available = [...spec.knownKeys, ...Object.keys(record).filter((key) => !spec.knownKeys.includes(key))];
  const projection = project(available, options.fields);
  let data: JsonRecord = record;
  if (options.fields !== undefined) {
    data = {};
    for (const key of projection.columns) {
      if (Object.hasOwn(record, key)) setEntry(data, key, record[key]);
    }
    if (projection.unknown.length > 0) {
      data['unknown_fields'] = projection.unknown;
      data['available_fields'] = projection.available;
    }
  }
  data = conform(spec.schema, data);
  const text = JSON.stringify(data);
  if (text.length <= options.maxChars) return { data, text };
  const shrunk = shrinkToFit(data, {
    maxChars: options.maxChars,
    annotate: (working, report) => ({ ...working, truncated: { ...report, hint: spec.hint } }),
  });
  return shrunk ?? firstThatFits([{ truncated: { hint: spec.hint } }, {}], options.maxChars);
}

const OBJECT_HINT = 'Cut to fit the size limit; pass fields to choose top-level keys.';

/** GET /user: the token owner. */
export function trimCurrentUser(result: unknown, opts?: TrimOptions): Trimmed {
  const options = settings(opts);
  return guarded(currentUserOutput, options.maxChars, OBJECT_FALLBACKS, () =>
    finishObject(currentUser(result), { schema: currentUserOutput, knownKeys: [], hint: OBJECT_HINT }, options),
  );
}

/** get / create / update an Access user. */
export function trimAccessUser(result: unknown, opts?: TrimOptions): Trimmed {
  const options = settings(opts);
  return guarded(accessUserOutput, options.maxChars, OBJECT_FALLBACKS, () =>
    finishObject(singleUser(result), { schema: accessUserOutput, knownKeys: USER_SPEC.columns, hint: OBJECT_HINT }, options),
  );
}

const SUMMARY_KEYS = [
  'email', 'name', 'user_uuid', 'active', 'ip', 'country', 'idp', 'issued', 'auth_status', 'amr', 'warp', 'gateway',
  'device_id', 'devices', 'posture', 'mtls', 'service_token', 'common_name', 'groups',
];
const IDENTITY_KEYS = [
  'account_id', 'auth_status', 'common_name', 'devicePosture', 'device_id', 'device_sessions', 'email', 'geo', 'iat', 'idp',
  'ip', 'is_gateway', 'is_warp', 'isActive', 'mtls_auth', 'service_token_id', 'service_token_status', 'user_uuid', 'version',
];

/** One active session (has isActive) or a user's last seen identity. */
export function trimIdentity(result: unknown, opts?: TrimOptions): Trimmed {
  const options = settings(opts);
  return guarded(identityOutput, options.maxChars, OBJECT_FALLBACKS, () =>
    options.detail === 'full'
      ? finishObject(identityFull(result), {
          schema: identityOutput,
          knownKeys: IDENTITY_KEYS,
          hint: "Cut to fit the size limit; use detail 'summary' or pass fields to choose top-level keys.",
        }, options)
      : finishObject(identitySummary(result), { schema: identityOutput, knownKeys: SUMMARY_KEYS, hint: OBJECT_HINT }, options),
  );
}

// ---- lists ----

interface ListSpec {
  schema: OutputSchema;
  table: TableSpec;
  toRecords: (items: readonly unknown[]) => JsonRecord[];
  pageable: boolean;
}

function finishList(result: unknown, resultInfo: unknown, request: PageRequest | undefined, spec: ListSpec, opts: unknown): Trimmed {
  const options = settings(opts);
  const items = Array.isArray(result) ? result : [];
  const paging = derivePaging(items.length, { resultInfo, request, pageable: spec.pageable });
  return guarded(spec.schema, options.maxChars, () => listSkeletons(paging, items.length), () => {
    // A non-list result (an object, a string) is kept, not guessed into rows.
    const raw = Array.isArray(result) ? undefined : compact(result);
    return buildList({
      records: spec.toRecords(items),
      spec: spec.table,
      paging,
      pageable: spec.pageable,
      fields: options.fields,
      maxChars: options.maxChars,
      raw,
    });
  });
}

/** GET /accounts/{account_id}/access/users */
export function trimAccessUserList(result: unknown, resultInfo: unknown, request: PageRequest, opts?: TrimOptions): Trimmed {
  return finishList(result, resultInfo, request, {
    schema: userListOutput,
    table: USER_SPEC,
    toRecords: (items) => items.map(userRecord),
    pageable: true,
  }, opts);
}

/** GET …/users/{user_id}/active_sessions (not paginated upstream unless result_info says so). */
export function trimSessionList(result: unknown, resultInfo: unknown, opts?: TrimOptions): Trimmed {
  return finishList(result, resultInfo, undefined, {
    schema: sessionListOutput,
    table: SESSION_SPEC,
    toRecords: (items) => compactSessionApps(items.map(sessionRecord)),
    pageable: false,
  }, opts);
}

/** GET …/users/{user_id}/failed_logins: a single page like sessions (no page/per_page upstream, so no next page). */
export function trimFailedLogins(result: unknown, resultInfo: unknown, opts?: TrimOptions): Trimmed {
  return finishList(result, resultInfo, undefined, {
    schema: failedLoginsOutput,
    table: FAILED_LOGIN_SPEC,
    toRecords: (items) => items.map(failedLoginRecord),
    pageable: false,
  }, opts);
}

/** Every page of GET /accounts/{account_id}/access/users (list_access_users with all: true). */
export interface UserCollection {
  /** What the first page said the account holds (only meaningful unfiltered: the live API ignores filters here). */
  totalCount?: number | undefined;
  /** False when max_items (or the page cap) cut the walk short. */
  complete: boolean;
  /** What to do when the rows do not all fit: narrow with fields or a filter. */
  hint: string;
}

export function trimAccessUserCollection(items: readonly unknown[], collection: UserCollection, opts?: TrimOptions): Trimmed {
  const options = settings(opts);
  const paging: Paging & { total_count?: number; complete?: boolean } = { count: items.length };
  if (collection.totalCount !== undefined) paging.total_count = collection.totalCount;
  if (!collection.complete) paging.complete = false;
  // Thousands of users: compacting fields nobody asked for would be most of the work. Only when every asked
  // field is a documented column (otherwise the answer lists what is available, which needs every key).
  const wanted = options.fields;
  const known = wanted !== undefined && wanted.every((field) => USER_SPEC.columns.includes(field));
  const toRecord = (item: unknown): JsonRecord => userRecord(known && isRecord(item) ? pickKeys(item, wanted) : item);
  return guarded(userListOutput, options.maxChars, () => listSkeletons(paging, items.length), () =>
    buildList({ records: items.map(toRecord), spec: USER_SPEC, paging, pageable: false, fields: wanted, maxChars: options.maxChars, hint: collection.hint }),
  );
}

function pickKeys(record: JsonRecord, keys: readonly string[]): JsonRecord {
  const picked: JsonRecord = {};
  for (const key of keys) if (Object.hasOwn(record, key)) setEntry(picked, key, record[key]);
  return picked;
}

// ---- composite results ----

const OVERVIEW_HINT = 'Cut to fit the size limit; get_active_session and list_failed_logins give the parts in full.';

/** get_user_access_overview: the parts that could be read, and notes for those that could not. */
export function trimAccessOverview(parts: OverviewParts, opts?: TrimOptions): Trimmed {
  const options = { ...settings(opts), fields: undefined };
  return guarded(accessOverviewOutput, options.maxChars, OBJECT_FALLBACKS, () =>
    finishObject(accessOverview(parts), { schema: accessOverviewOutput, knownKeys: [], hint: OVERVIEW_HINT }, options),
  );
}

export interface BatchTable {
  /** Keys before the table: mode, summary (counts per outcome), anything else the tool says once. */
  head: { mode: 'plan' | 'apply'; summary: Record<string, number>; [key: string]: unknown };
  /** One record per person, most important first (failures before successes): a cut keeps the first. */
  records: readonly JsonRecord[];
  columns: readonly string[];
  /** What to do when not every row fits. */
  hint: string;
}

/** provision / offboard: the head, then one row per person, columnar, within the budget. */
export function trimBatch(batch: BatchTable, opts?: TrimOptions): Trimmed {
  const options = settings(opts);
  const head: JsonRecord = { ...batch.head };
  const headChars = JSON.stringify(head).length;
  const total = batch.records.length;
  const skeletons = (): JsonRecord[] => [
    { ...head, fields: [], rows: [], truncated: { shown: 0, of: total, hint: batch.hint } },
    { mode: head['mode'], summary: head['summary'], fields: [], rows: [] },
  ];
  return guarded(batchOutput, options.maxChars, skeletons, () => {
    // The table's own paging is dropped (it says no more than the summary): budget the rest for the head.
    const table = buildList({
      records: batch.records,
      spec: { columns: batch.columns },
      paging: { count: total },
      pageable: false,
      maxChars: Math.max(1, options.maxChars - headChars + 1),
      hint: batch.hint,
    });
    const { paging: _paging, ...columnar } = table.data;
    const data = { ...head, ...columnar };
    return { data, text: JSON.stringify(data) };
  });
}
