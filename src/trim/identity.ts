/**
 * Identity (one active session, or a user's last seen identity).
 *
 * `summary` answers what an administrator asks: who, from where, through
 * which IdP, when, on which devices, and which posture checks passed or failed.
 * `full` is the whole identity with only rules 1–2 applied.
 */
import { compactRecord, isRecord, setEntry, type JsonRecord } from './compact.js';

export type IdentityDetail = 'summary' | 'full';

export function identityFull(result: unknown): JsonRecord {
  return compactRecord(result);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function put(target: JsonRecord, key: string, value: unknown): void {
  if (value !== undefined) setEntry(target, key, value);
}

/** device_sessions `{<device id>: {last_authenticated}}` → `[{id, last_authenticated}]`. */
function devices(deviceSessions: unknown): unknown[] | undefined {
  if (!isRecord(deviceSessions)) return undefined;
  const list = Object.entries(deviceSessions).map(([id, session]) =>
    isRecord(session) ? { id, ...session } : { id, value: session },
  );
  return list.length > 0 ? list : undefined;
}

/** devicePosture `{<rule id>: {rule_name, type, success, error, timestamp, data, check, …}}` grouped by outcome. */
function posture(devicePosture: unknown): JsonRecord | undefined {
  if (!isRecord(devicePosture)) return undefined;
  const groups: Record<'passed' | 'failed' | 'unknown', JsonRecord[]> = { passed: [], failed: [], unknown: [] };
  for (const [ruleId, rule] of Object.entries(devicePosture)) {
    if (!isRecord(rule)) {
      groups.unknown.push({ rule: ruleId });
      continue;
    }
    const item: JsonRecord = {};
    put(item, 'rule', text(rule['rule_name']) ?? text(rule['id']) ?? ruleId);
    put(item, 'type', rule['type']);
    put(item, 'error', rule['error']);
    put(item, 'timestamp', rule['timestamp']);
    const success = rule['success'];
    groups[success === true ? 'passed' : success === false ? 'failed' : 'unknown'].push(item);
  }
  const grouped: JsonRecord = {};
  for (const [outcome, items] of Object.entries(groups)) {
    if (items.length > 0) grouped[outcome] = items;
  }
  return Object.keys(grouped).length > 0 ? grouped : undefined;
}

function groupNames(groups: unknown): string[] | undefined {
  if (!Array.isArray(groups)) return undefined;
  const names: string[] = [];
  for (const group of groups) {
    if (typeof group === 'string') names.push(group);
    else if (isRecord(group)) {
      const name = text(group['name']) ?? text(group['email']) ?? text(group['id']);
      if (name !== undefined) names.push(name);
    }
  }
  return names.length > 0 ? names : undefined;
}

export function identitySummary(result: unknown): JsonRecord {
  const identity = compactRecord(result);
  const summary: JsonRecord = {};
  put(summary, 'email', identity['email']);
  put(summary, 'name', identity['name']);
  put(summary, 'user_uuid', identity['user_uuid']);
  put(summary, 'active', identity['isActive']);
  put(summary, 'ip', identity['ip']);
  const geo = identity['geo'];
  put(summary, 'country', isRecord(geo) ? geo['country'] : undefined);
  const idp = identity['idp'];
  if (isRecord(idp) && (idp['type'] !== undefined || idp['id'] !== undefined)) {
    const compactIdp: JsonRecord = {};
    put(compactIdp, 'type', idp['type']);
    put(compactIdp, 'id', idp['id']);
    summary['idp'] = compactIdp;
  }
  put(summary, 'issued', identity['iat']);
  put(summary, 'auth_status', identity['auth_status']);
  put(summary, 'amr', identity['amr']);
  put(summary, 'warp', identity['is_warp']);
  put(summary, 'gateway', identity['is_gateway']);
  put(summary, 'device_id', identity['device_id']);
  put(summary, 'devices', devices(identity['device_sessions']));
  put(summary, 'posture', posture(identity['devicePosture']));
  const mtls = identity['mtls_auth'];
  if (isRecord(mtls) && mtls['cert_presented'] === true) summary['mtls'] = mtls;
  const serviceTokenId = identity['service_token_id'];
  if (serviceTokenId !== undefined) {
    const serviceToken: JsonRecord = { id: serviceTokenId };
    put(serviceToken, 'status', identity['service_token_status']);
    summary['service_token'] = serviceToken;
  }
  put(summary, 'common_name', identity['common_name']);
  put(summary, 'groups', groupNames(identity['groups']));
  // A non-object upstream result has nothing to summarise: keep it as is.
  put(summary, 'raw', identity['raw']);
  return summary;
}
