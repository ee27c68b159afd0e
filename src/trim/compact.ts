/**
 * Value-level rules shared by every trimmer:
 *   1. null, undefined, "", [] and {} are dropped, recursively;
 *   2. epoch seconds under known keys become ISO 8601 UTC, and ISO timestamps
 *      with fractional seconds are cut to the second (never rounded).
 *
 * Portable and pure: no Node APIs, no I/O. Nothing here throws on odd input.
 */

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keys whose numbers are epoch seconds in the Access API. */
const EPOCH_SECONDS_KEYS: ReadonlySet<string> = new Set(['iat', 'expires', 'expiration', 'last_authenticated']);
// 9999-12-31T23:59:59Z: beyond it toISOString switches to a 6-digit year.
const MAX_EPOCH_SECONDS = 253_402_300_799;
const EPOCH_TEXT = /^\d{1,12}(\.\d+)?$/;

/** `1793528430` → `"2026-11-01T10:20:30Z"`; anything that is not plausible epoch seconds → undefined. */
export function isoFromEpochSeconds(value: unknown): string | undefined {
  let seconds: number;
  if (typeof value === 'number') seconds = value;
  else if (typeof value === 'string' && EPOCH_TEXT.test(value)) seconds = Number(value);
  else return undefined;
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_EPOCH_SECONDS) return undefined;
  // floor, not round: a fraction must never move the timestamp to the next second.
  return new Date(Math.floor(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

const ISO_WITH_FRACTION = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})\.\d+((?:Z|[+-]\d{2}(?::?\d{2})?)?)$/i;

/** `"2023-03-14T09:26:53.589793Z"` → `"2023-03-14T09:26:53Z"`; other text is returned unchanged. */
export function cutIsoToSeconds(text: string): string {
  // Most strings are no timestamp: a cheap look first (this runs on every string of every record).
  if (text.length < 21 || text.charCodeAt(4) !== 45 /* - */ || text.charCodeAt(19) !== 46 /* . */) return text;
  return text.replace(ISO_WITH_FRACTION, '$1$2');
}

/** Assigns without invoking the `__proto__` setter (JSON.parse can produce such an own key). */
export function setEntry(target: JsonRecord, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * Rules 1 and 2 applied to any JSON-like value. Returns undefined when the value
 * is empty (so the caller drops it). `key` is the property name the value sits
 * under, which decides whether a number is epoch seconds.
 */
export function compact(value: unknown, key?: string): unknown {
  return compactInner(value, key, new Set<object>());
}

function compactInner(value: unknown, key: string | undefined, ancestors: Set<object>): unknown {
  switch (typeof value) {
    case 'string': {
      if (value === '') return undefined;
      if (key !== undefined && EPOCH_SECONDS_KEYS.has(key)) {
        const iso = isoFromEpochSeconds(value);
        if (iso !== undefined) return iso;
      }
      return cutIsoToSeconds(value);
    }
    case 'number':
      if (!Number.isFinite(value)) return undefined; // JSON has no NaN/Infinity
      if (key !== undefined && EPOCH_SECONDS_KEYS.has(key)) return isoFromEpochSeconds(value) ?? value;
      return value;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined; // undefined, functions, symbols: not data
  }
  if (value === null || ancestors.has(value)) return undefined; // a cycle cannot come from JSON; cut it
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const items: unknown[] = [];
      for (const item of value) {
        const kept = compactInner(item, undefined, ancestors);
        if (kept !== undefined) items.push(kept);
      }
      return items.length > 0 ? items : undefined;
    }
    const entries: JsonRecord = {};
    let kept = 0;
    for (const [entryKey, entryValue] of Object.entries(value)) {
      const compacted = compactInner(entryValue, entryKey, ancestors);
      if (compacted === undefined) continue;
      setEntry(entries, entryKey, compacted);
      kept++;
    }
    return kept > 0 ? entries : undefined;
  } finally {
    ancestors.delete(value);
  }
}

/** Compacts a value that should be an object; anything else is kept under `raw` so nothing is lost. */
export function compactRecord(value: unknown): JsonRecord {
  const compacted = compact(value);
  if (compacted === undefined) return {};
  return isRecord(compacted) ? compacted : { raw: compacted };
}

/** Deep equality for compacted JSON values (same key order is guaranteed by construction). */
export function sameJson(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) return false;
  return JSON.stringify(left) === JSON.stringify(right);
}

/** A record with `preferred` keys first (in that order), then the rest in their original order. */
export function orderKeys(record: JsonRecord, preferred: readonly string[]): JsonRecord {
  const ordered: JsonRecord = {};
  for (const key of preferred) {
    if (Object.hasOwn(record, key)) setEntry(ordered, key, record[key]);
  }
  for (const [key, value] of Object.entries(record)) {
    if (!Object.hasOwn(ordered, key)) setEntry(ordered, key, value);
  }
  return ordered;
}

/** A positive integer or undefined (for page numbers and sizes read from untrusted input). */
export function positiveInt(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number > 0 ? number : undefined;
}
