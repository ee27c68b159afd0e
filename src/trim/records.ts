/**
 * Upstream item → flat record keyed by output column / key names.
 * Every function accepts anything and returns a record (rules 1–3 applied).
 */
import { compact, compactRecord, isRecord, orderKeys, sameJson, setEntry, type JsonRecord } from './compact.js';
import type { TableSpec } from './table.js';

// ---- Access users (list, get, create, update) ----

export const USER_SPEC: TableSpec = {
  columns: [
    'id',
    'email',
    'name',
    'access_seat',
    'gateway_seat',
    'active_device_count',
    'last_successful_login',
    'created_at',
    'updated_at',
    'seat_uid',
    'uid',
  ],
  duplicates: { uid: 'id' },
  // Who, seats, devices and last login on every row; the record's own bookkeeping when asked for.
  onRequest: ['created_at', 'updated_at', 'seat_uid'],
};

/** A list item: the user's own fields, compacted; a non-object item is kept under `value`. */
export function userRecord(item: unknown): JsonRecord {
  const compacted = compact(item);
  if (compacted === undefined) return {};
  return isRecord(compacted) ? compacted : { value: compacted };
}

/** A single user: known keys first; `uid` only when it differs from `id`. */
export function singleUser(result: unknown): JsonRecord {
  const user = orderKeys(compactRecord(result), USER_SPEC.columns);
  if (user['uid'] !== undefined && user['id'] !== undefined && sameJson(user['uid'], user['id'])) delete user['uid'];
  return user;
}

// ---- Current user (GET /user) ----

const CURRENT_USER_KEYS = [
  'id',
  'email',
  'username',
  'first_name',
  'last_name',
  'telephone',
  'country',
  'zipcode',
  'two_factor_authentication_enabled',
  'two_factor_authentication_locked',
  'suspended',
  'has_pro_zones',
  'has_business_zones',
  'has_enterprise_zones',
  'betas',
  'created_on',
  'modified_on',
  'organizations',
];
const ORGANIZATION_KEYS = ['id', 'name', 'status', 'roles', 'permissions'];

/** The person, then their flags, then memberships (permissions kept: they say what the token owner can do). */
export function currentUser(result: unknown): JsonRecord {
  const user = orderKeys(compactRecord(result), CURRENT_USER_KEYS);
  const organizations = user['organizations'];
  if (Array.isArray(organizations)) {
    user['organizations'] = organizations.map((organization) =>
      isRecord(organization) ? orderKeys(organization, ORGANIZATION_KEYS) : organization,
    );
  }
  return user;
}

// ---- Active sessions list ----

export const SESSION_SPEC: TableSpec = {
  columns: ['nonce', 'apps', 'issued', 'expires', 'expiration', 'ttl', 'name'],
  duplicates: { expiration: 'expires' },
  // ttl is expires minus issued; name is the user's (one value for every row of the one user asked about).
  onRequest: ['ttl', 'name'],
};

/**
 * Places `value` under `key`, or under `<prefix>.<key>` when another source
 * already used that key for a different value (upstream collisions stay lossless).
 */
function mergeEntry(target: JsonRecord, key: string, value: unknown, prefix: string): void {
  if (!Object.hasOwn(target, key)) setEntry(target, key, value);
  else if (!sameJson(target[key], value)) setEntry(target, `${prefix}.${key}`, value);
}

/**
 * Session and failed-login items share one shape, `{expiration, metadata:{…}, …}`: lift metadata's keys
 * to the top (renamed where a clearer name exists) and keep top-level keys, prefixing one only when it
 * collides with a different metadata value.
 */
function flattenMetadataItem(item: unknown, rename: Readonly<Record<string, string>>, collisionPrefix: string): JsonRecord {
  const compacted = compact(item);
  if (compacted === undefined) return {};
  if (!isRecord(compacted)) return { value: compacted };
  const record: JsonRecord = {};
  const metadata = compacted['metadata'];
  if (isRecord(metadata)) {
    for (const [key, value] of Object.entries(metadata)) setEntry(record, rename[key] ?? key, value);
  }
  for (const [key, value] of Object.entries(compacted)) {
    if (key === 'metadata' && isRecord(value)) continue;
    mergeEntry(record, key, value, collisionPrefix);
  }
  return record;
}

/** `{expiration, metadata:{apps, expires, iat, nonce, ttl}, name}` → one flat record; apps stay a map here. */
export function sessionRecord(item: unknown): JsonRecord {
  return flattenMetadataItem(item, { iat: 'issued' }, 'session');
}

interface AppFacts {
  key: string;
  name?: string;
  hostname?: string;
  type?: string;
  uid?: string;
}

function appFacts(key: string, app: unknown): AppFacts | undefined {
  if (!isRecord(app)) return undefined;
  const text = (field: string): string | undefined => {
    const value = app[field];
    return typeof value === 'string' ? value : undefined;
  };
  // Only the four documented fields; anything else makes the short form lossy.
  if (Object.keys(app).some((field) => !['name', 'hostname', 'type', 'uid'].includes(field) || text(field) === undefined)) return undefined;
  const facts: AppFacts = { key };
  const name = text('name');
  const hostname = text('hostname');
  const type = text('type');
  const uid = text('uid');
  if (name !== undefined) facts.name = name;
  if (hostname !== undefined) facts.hostname = hostname;
  if (type !== undefined) facts.type = type;
  if (uid !== undefined) facts.uid = uid;
  return facts;
}

/** "Jira (jira.corp.example)"; a type other than the usual self_hosted is added: "Salesforce (corp.my.salesforce.com, saas)". */
function appLabel(facts: AppFacts): string | undefined {
  const label = facts.name ?? facts.hostname;
  if (label === undefined) return undefined;
  const details = [facts.name !== undefined ? facts.hostname : undefined, facts.type === 'self_hosted' ? undefined : facts.type];
  const detailText = details.filter((detail) => detail !== undefined).join(', ');
  return detailText === '' ? label : `${label} (${detailText})`;
}

function labelsFor(apps: JsonRecord): string[] | undefined {
  const labels: string[] = [];
  for (const [key, app] of Object.entries(apps)) {
    const facts = appFacts(key, app);
    // The map key is the app uid, so a uid equal to it is a duplicate; a different one would be lost.
    if (facts === undefined || (facts.uid !== undefined && facts.uid !== key)) return undefined;
    const label = appLabel(facts);
    if (label === undefined || labels.includes(label)) return undefined;
    labels.push(label);
  }
  return labels;
}

/**
 * Sessions' apps as short labels when every session's labels are unique and
 * nothing but the uid (the map key) is left out; otherwise as
 * `[{name, hostname, type, uid}]`, which tells apart two apps with one label.
 */
export function compactSessionApps(records: JsonRecord[]): JsonRecord[] {
  const appMaps = records.map((record) => record['apps']);
  const labelled = appMaps.map((apps) => (isRecord(apps) ? labelsFor(apps) : undefined));
  const useLabels = appMaps.every((apps, index) => !isRecord(apps) || labelled[index] !== undefined);
  return records.map((record, index) => {
    const apps = appMaps[index];
    if (!isRecord(apps)) return record;
    const replaced: JsonRecord = { ...record };
    replaced['apps'] = useLabels
      ? labelled[index]
      : Object.entries(apps).map(([key, app]) =>
          isRecord(app) ? orderKeys({ ...app, uid: app['uid'] ?? key }, ['name', 'hostname', 'type', 'uid']) : { uid: key, value: app },
        );
    return replaced;
  });
}

// ---- Failed logins ----

export const FAILED_LOGIN_SPEC: TableSpec = {
  columns: ['datetime', 'app_name', 'ray_id', 'expiration', 'aud', 'user_email', 'user_uuid'],
  // When, where and the Ray ID on every row. The record's expiry (Access keeps them 30 days), the app's audience
  // tag (app_name names it) and the user asked about only when asked for.
  onRequest: ['expiration', 'aud', 'user_email', 'user_uuid'],
};

/** `{expiration, metadata:{app_name, aud, datetime, ray_id, user_email, user_uuid}}` → one flat record. */
export function failedLoginRecord(item: unknown): JsonRecord {
  return flattenMetadataItem(item, {}, 'login');
}
