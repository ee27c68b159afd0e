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
import {
  accessUserOutput,
  currentUserOutput,
  failedLoginsOutput,
  identityOutput,
  sessionListOutput,
  userListOutput,
} from './schemas.js';
import { buildList, derivePaging, listSkeletons, project, type TableSpec } from './table.js';

export { DEFAULT_MAX_RESPONSE_CHARS } from './budget.js';
export { isoFromEpochSeconds } from './compact.js';
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
