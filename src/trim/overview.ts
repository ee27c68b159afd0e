/**
 * One person's access at a glance (get_user_access_overview): the user, each active session summarised
 * (from its detail: devices, IP, country, IdP; from the list: issued, expires, apps), the last sign-in, and
 * failed logins (the count and the most recent few). Answers "which sessions, from which devices and IPs,
 * where did she last sign in, any failed logins?" in one small object.
 *
 * Sessions and failed logins are columnar like every list here; a part that could not be read is absent,
 * and the caller's notes say why.
 */
import { isRecord, setEntry, type JsonRecord } from './compact.js';
import { identitySummary } from './identity.js';
import { compactSessionApps, failedLoginRecord, sessionRecord, singleUser } from './records.js';
import { buildList } from './table.js';

/** Failed logins shown, newest first; the count says how many there are in all. */
export const RECENT_FAILED_LOGINS = 5;

const USER_KEYS = ['id', 'email', 'name', 'access_seat', 'gateway_seat', 'active_device_count', 'last_successful_login'];
const SESSION_COLUMNS = ['nonce', 'issued', 'expires', 'ip', 'country', 'idp', 'devices', 'warp', 'posture_failed', 'apps'];
const LAST_SEEN_KEYS = ['issued', 'ip', 'country', 'idp', 'devices', 'warp', 'gateway', 'posture_failed'];

export interface OverviewSession {
  /** The item from the sessions list. */
  item: unknown;
  /** The session's detail (an identity), when it could be read. */
  detail?: unknown;
}

export interface OverviewParts {
  user?: unknown;
  /** undefined: the sessions could not be read (a note says why). */
  sessions?: readonly OverviewSession[];
  lastSeen?: unknown;
  failedLogins?: readonly unknown[];
  notes: readonly string[];
}

function pick(record: JsonRecord, keys: readonly string[]): JsonRecord {
  const picked: JsonRecord = {};
  for (const key of keys) if (record[key] !== undefined) setEntry(picked, key, record[key]);
  return picked;
}

/** Where and how: IP, country, the IdP's type, device ids, WARP, the names of failed posture checks. */
function whereFrom(identity: unknown): JsonRecord {
  const summary = identitySummary(identity);
  const facts: JsonRecord = {};
  for (const key of ['issued', 'ip', 'country', 'warp', 'gateway']) if (summary[key] !== undefined) setEntry(facts, key, summary[key]);
  const idp = summary['idp'];
  if (isRecord(idp)) facts['idp'] = idp['type'] ?? idp['id'];
  const devices = summary['devices'];
  if (Array.isArray(devices)) facts['devices'] = devices.map((device) => (isRecord(device) ? (device['id'] ?? device) : device));
  const posture = summary['posture'];
  const failed = isRecord(posture) ? posture['failed'] : undefined;
  if (Array.isArray(failed) && failed.length > 0) facts['posture_failed'] = failed.map((check) => (isRecord(check) ? (check['rule'] ?? check) : check));
  return facts;
}

function sessionRows(sessions: readonly OverviewSession[]): JsonRecord {
  const listed = compactSessionApps(sessions.map((session) => sessionRecord(session.item)));
  const records = listed.map((record, index) => {
    const detail = sessions[index]?.detail;
    // The list's issued/expires win: the detail's iat is the same moment, the list says it for every session.
    const merged: JsonRecord = detail === undefined ? {} : whereFrom(detail);
    delete merged['gateway'];
    for (const key of ['nonce', 'issued', 'expires', 'apps']) if (record[key] !== undefined) setEntry(merged, key, record[key]);
    return merged;
  });
  const { data } = buildList({ records, spec: { columns: SESSION_COLUMNS }, paging: { count: records.length }, pageable: false, maxChars: Number.MAX_SAFE_INTEGER });
  const { paging: _paging, ...table } = data;
  return { count: records.length, ...table };
}

function failedLoginSummary(logins: readonly unknown[]): JsonRecord | string {
  if (logins.length === 0) return 'none';
  const records = logins
    .map(failedLoginRecord)
    .sort((a, b) => String(b['datetime'] ?? '').localeCompare(String(a['datetime'] ?? '')))
    .slice(0, RECENT_FAILED_LOGINS);
  const rows = records.map((record) => [record['datetime'] ?? null, record['app_name'] ?? null, record['ray_id'] ?? null]);
  return { count: logins.length, fields: ['time', 'app', 'ray_id'], recent: rows };
}

/** The overview object, uncut (the caller fits it to the budget). */
export function accessOverview(parts: OverviewParts): JsonRecord {
  const overview: JsonRecord = {};
  if (parts.user !== undefined) overview['user'] = pick(singleUser(parts.user), USER_KEYS);
  if (parts.sessions !== undefined) overview['sessions'] = parts.sessions.length === 0 ? 'none' : sessionRows(parts.sessions);
  if (parts.lastSeen !== undefined) overview['last_seen'] = pick(whereFrom(parts.lastSeen), LAST_SEEN_KEYS);
  if (parts.failedLogins !== undefined) overview['failed_logins'] = failedLoginSummary(parts.failedLogins);
  if (parts.notes.length > 0) overview['notes'] = [...parts.notes];
  return overview;
}
