/**
 * Size budget for single objects (and the non-row parts of lists).
 *
 * When the JSON text is over budget, the biggest collections (arrays, and maps
 * of records keyed by id such as a full identity's devicePosture) are shortened
 * first, then long strings, and as a last resort whole top-level keys are dropped. Every cut is named in
 * `truncated.cut` ("<path>": "<kept> of <total>") so the model knows what is
 * missing and can ask again with `fields` or a smaller `detail`.
 */
import { isRecord, setEntry, type JsonRecord } from './compact.js';

export const DEFAULT_MAX_RESPONSE_CHARS = 24_000;

/** Budgets smaller than any useful answer are still honoured as far as JSON allows. */
export function resolveMaxChars(maxChars: unknown): number {
  return typeof maxChars === 'number' && Number.isFinite(maxChars) && maxChars >= 1
    ? Math.floor(maxChars)
    : DEFAULT_MAX_RESPONSE_CHARS;
}

type PathSegment = string | number;

interface Candidate {
  path: PathSegment[];
  parent: JsonRecord | unknown[];
  segment: PathSegment;
  value: unknown;
  entries: number;
  size: number;
}

/** Exact length of JSON.stringify(value) for compacted JSON, computed bottom-up while collecting candidates. */
function measure(value: unknown, path: PathSegment[], parent: JsonRecord | unknown[] | undefined, segment: PathSegment, out: Candidate[]): number {
  if (Array.isArray(value)) {
    let size = 2 + Math.max(0, value.length - 1);
    value.forEach((item, index) => {
      size += measure(item, [...path, index], value, index, out);
    });
    // A row of a columnar table (`rows[i]`, one value per entry of `fields`) is cut only whole, with its
    // table: shortening it would shift its values under the wrong column names.
    const isTableRow = typeof segment === 'number' && path[path.length - 2] === 'rows';
    if (parent !== undefined && !isTableRow) out.push({ path, parent, segment, value, entries: value.length, size });
    return size;
  }
  if (isRecord(value)) {
    const keys = Object.keys(value);
    let size = 2 + Math.max(0, keys.length - 1);
    for (const key of keys) {
      size += JSON.stringify(key).length + 1 + measure(value[key], [...path, key], value, key, out);
    }
    // Only a map of records keyed by id (devicePosture, device_sessions, apps) is a collection;
    // cutting keys out of a record (an organization's name) would lose what it is.
    if (parent !== undefined && isKeyedCollection(value)) out.push({ path, parent, segment, value, entries: keys.length, size });
    return size;
  }
  const size = JSON.stringify(value)?.length ?? 0;
  if (typeof value === 'string' && parent !== undefined) out.push({ path, parent, segment, value, entries: 1, size });
  return size;
}

function isKeyedCollection(value: JsonRecord): boolean {
  const entries = Object.values(value);
  return entries.length >= 2 && entries.every(isRecord);
}

const MIN_CUT_STRING = 40;

/**
 * Picks what to shorten next: among collections (≥ 2 entries) and long strings
 * at least a quarter the size of the biggest one, the one with the most entries.
 * That cuts a 60-item permissions list before dropping one of two organizations,
 * and a 10-rule devicePosture map before the small maps inside each rule.
 */
function pickCandidate(candidates: Candidate[]): Candidate | undefined {
  const shortenable = candidates.filter((candidate) =>
    typeof candidate.value === 'string' ? candidate.size >= MIN_CUT_STRING : candidate.entries >= 2,
  );
  let biggest = 0;
  for (const candidate of shortenable) biggest = Math.max(biggest, candidate.size);
  let best: Candidate | undefined;
  for (const candidate of shortenable) {
    if (candidate.size * 4 < biggest) continue;
    if (
      best === undefined ||
      candidate.entries > best.entries ||
      (candidate.entries === best.entries && candidate.size > best.size)
    ) {
      best = candidate;
    }
  }
  return best;
}

function writeAt(parent: JsonRecord | unknown[], segment: PathSegment, value: unknown): void {
  if (Array.isArray(parent)) {
    if (typeof segment === 'number') parent[segment] = value;
  } else {
    setEntry(parent, String(segment), value);
  }
}

/** Drops trailing entries until about `over` characters are freed: at least one goes, at least one stays. */
function entriesToKeep(collection: unknown, over: number): number {
  const sizes = Array.isArray(collection)
    ? collection.map((item) => (JSON.stringify(item)?.length ?? 4) + 1)
    : isRecord(collection)
      ? Object.entries(collection).map(([key, item]) => JSON.stringify(key).length + 2 + (JSON.stringify(item)?.length ?? 4))
      : [];
  let keep = sizes.length;
  let freed = 0;
  while (keep > 1 && (freed < over || keep === sizes.length)) {
    keep--;
    freed += sizes[keep] ?? 0;
  }
  return keep;
}

/** Cuts a string to `keep` characters plus an ellipsis, without splitting a surrogate pair. */
function cutString(text: string, keep: number): string {
  let end = Math.max(0, Math.min(text.length, keep));
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** What the shrinker removed: `cut` maps a path to "<kept> of <total>", `dropped` lists removed top-level keys. */
export interface CutReport {
  cut?: Record<string, string>;
  dropped?: string[];
}

export interface ShrinkOptions {
  maxChars: number;
  /** Top-level keys never cut (the table structure of a list). */
  protectedKeys?: ReadonlySet<string>;
  /** Returns a copy of the working data carrying the report (as `truncated`). */
  annotate: (data: JsonRecord, report: CutReport) => JsonRecord;
}

export interface Fitted {
  data: JsonRecord;
  text: string;
}

const MAX_SHRINK_STEPS = 400;

function resolves(root: JsonRecord, path: readonly PathSegment[]): boolean {
  let current: unknown = root;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number' && segment < current.length) current = current[segment];
    else if (isRecord(current) && typeof segment === 'string' && Object.hasOwn(current, segment)) current = current[segment];
    else return false;
  }
  return true;
}

/** What was cut, by path; notes under a path that later disappeared are pruned so the report stays short. */
class CutNotes {
  private readonly notes = new Map<string, { path: PathSegment[]; note: string }>();
  private readonly totals = new Map<string, string>(); // size before the first cut: "9" or "5000 chars"
  private readonly dropped: string[] = [];

  total(pathText: string, current: string): string {
    const total = this.totals.get(pathText) ?? current;
    this.totals.set(pathText, total);
    return total;
  }

  record(path: PathSegment[], note: string): void {
    this.notes.set(path.join('.'), { path, note });
  }

  drop(key: string): void {
    this.dropped.push(key);
  }

  prune(root: JsonRecord): void {
    for (const [pathText, { path }] of this.notes) {
      if (!resolves(root, path)) this.notes.delete(pathText);
    }
  }

  get empty(): boolean {
    return this.notes.size === 0 && this.dropped.length === 0;
  }

  /** The report, optionally with one more note (to price a cut before making it). */
  report(extra?: { pathText: string; note: string }): CutReport {
    const cut: Record<string, string> = {};
    for (const [pathText, { note }] of this.notes) setEntry(cut, pathText, note);
    if (extra !== undefined) setEntry(cut, extra.pathText, extra.note);
    const report: CutReport = {};
    if (Object.keys(cut).length > 0) report.cut = cut;
    if (this.dropped.length > 0) report.dropped = [...this.dropped];
    return report;
  }
}

/**
 * Shortens `data` until its JSON fits `maxChars`. Returns undefined when even
 * dropping every unprotected key is not enough (the caller then falls back to
 * a skeleton). Works on a copy; the input is not modified.
 */
export function shrinkToFit(data: JsonRecord, options: ShrinkOptions): Fitted | undefined {
  const working = JSON.parse(JSON.stringify(data)) as JsonRecord;
  const notes = new CutNotes();
  const protectedKeys = options.protectedKeys ?? new Set<string>();
  const cuttable = (key: string): boolean => !protectedKeys.has(key) && key !== 'truncated';
  const render = (report: CutReport): string => JSON.stringify(options.annotate(working, report));

  for (let step = 0; step < MAX_SHRINK_STEPS; step++) {
    notes.prune(working);
    const annotated = notes.empty ? working : options.annotate(working, notes.report());
    const text = JSON.stringify(annotated);
    if (text.length <= options.maxChars) return { data: annotated, text };

    const candidates: Candidate[] = [];
    for (const key of Object.keys(working)) {
      if (cuttable(key)) measure(working[key], [key], working, key, candidates);
    }
    const target = pickCandidate(candidates);
    if (target === undefined) {
      // Nothing left to shorten: drop the last top-level key (trimmers put the most useful keys first).
      const dropKey = Object.keys(working).filter(cuttable).pop();
      if (dropKey === undefined) return undefined;
      delete working[dropKey];
      notes.drop(dropKey);
      continue;
    }

    const pathText = target.path.join('.');
    const isText = typeof target.value === 'string';
    const total = notes.total(pathText, isText ? `${String(target.value).length} chars` : String(target.entries));
    // The overflow counts the note this cut will add, so one cut is usually enough.
    const over = render(notes.report({ pathText, note: `${total} of ${total}` })).length - options.maxChars;
    if (typeof target.value === 'string') {
      const keep = Math.max(MIN_CUT_STRING / 2, target.value.length - over - 1);
      const shortened = cutString(target.value, Math.min(keep, target.value.length - 2));
      writeAt(target.parent, target.segment, shortened);
      notes.record(target.path, `${shortened.length - 1} of ${total}`);
      continue;
    }
    // At most half per step, so the cuts spread over the big collections instead of emptying the first one.
    const keep = Math.max(entriesToKeep(target.value, over), Math.floor(target.entries / 2));
    if (Array.isArray(target.value)) {
      target.value.length = keep;
    } else if (isRecord(target.value)) {
      for (const key of Object.keys(target.value).slice(keep)) delete target.value[key];
    }
    notes.record(target.path, `${keep} of ${total}`);
  }
  return undefined;
}

/** Picks the first candidate whose JSON fits; the last one is returned even if it does not. */
export function firstThatFits(candidates: readonly JsonRecord[], maxChars: number): Fitted {
  let last: Fitted = { data: {}, text: '{}' };
  for (const data of candidates) {
    const text = JSON.stringify(data);
    last = { data, text };
    if (text.length <= maxChars) return last;
  }
  return last;
}
