/**
 * Columnar lists: `{fields, same?, rows, paging, truncated?}`.
 *
 * Keys are written once in `fields` instead of once per row. A column whose
 * value is identical in every shown row (≥ 2 rows) is hoisted into `same`
 * ({column: value}); that is lossless and removes e.g. the user_email and
 * user_uuid repeated on every failed login. At least one column always stays
 * in `rows` so a row keeps its place. A column empty in every shown row is
 * omitted, and a value missing from one row is `null`.
 *
 * Columns a model rarely needs on every row (a user's created_at, a failed login's aud) are shown only when
 * `fields` names them; a table that leaves some out lists them in `more_fields`, so the answer says what else
 * there is and how to get it.
 */
import { firstThatFits, shrinkToFit, type Fitted } from './budget.js';
import { isRecord, positiveInt, sameJson, setEntry, type JsonRecord } from './compact.js';

export interface TableSpec {
  /** Most useful first; columns the API adds later follow in first-seen order. */
  columns: readonly string[];
  /** column → the column it usually repeats; dropped when equal (or empty) in every row and the other is shown. */
  duplicates?: Readonly<Record<string, string>>;
  /** Documented columns shown only when `fields` names them (listed in `more_fields` otherwise). */
  onRequest?: readonly string[];
}

export interface Paging {
  page?: number;
  per_page?: number;
  /** Rows on this page before any budget truncation. */
  count: number;
  /** Only when there probably is more. */
  next_page?: number;
}

export interface PagingSources {
  resultInfo: unknown;
  request?: { page?: unknown; per_page?: unknown } | undefined;
  /** The endpoint takes page/per_page: page 1 is implied and a continuation can be offered. */
  pageable: boolean;
}

/**
 * result_info.total_count counts every user in the account whatever the filter,
 * so it never decides whether more pages exist. A full page means "probably
 * more", unless total_pages (an upper bound for the same reason) says this is the last.
 */
export function derivePaging(count: number, sources: PagingSources): Paging {
  // An endpoint the tool cannot page through (active sessions) only reports its count.
  if (!sources.pageable) return { count };
  const info = isRecord(sources.resultInfo) ? sources.resultInfo : {};
  const request = isRecord(sources.request) ? sources.request : {};
  const page = positiveInt(info['page']) ?? positiveInt(request['page']) ?? 1;
  const perPage = positiveInt(info['per_page']) ?? positiveInt(request['per_page']);
  const totalPages = positiveInt(info['total_pages']);
  // Key order in the JSON: page, per_page, count, next_page.
  const paging: Paging = { page, ...(perPage !== undefined ? { per_page: perPage } : {}), count };
  if (perPage !== undefined && count === perPage && (totalPages === undefined || page < totalPages)) {
    paging.next_page = page + 1;
  }
  return paging;
}

/** Absolute index of this page's first row, when a continuation can be expressed as page/per_page. */
function pageOffset(paging: Paging, pageable: boolean): number | undefined {
  if (!pageable || paging.page === undefined) return undefined;
  if (paging.page === 1) return 0;
  return paging.per_page === undefined ? undefined : (paging.page - 1) * paging.per_page;
}

export interface ListInput {
  records: readonly JsonRecord[];
  spec: TableSpec;
  paging: Paging;
  pageable: boolean;
  fields?: readonly string[] | undefined;
  maxChars: number;
  /** A non-list upstream result, kept so nothing is silently lost. */
  raw?: unknown;
  /** What to do about rows cut for the budget when no next page can be offered (default: pass fields). */
  hint?: string;
}

interface Projection {
  columns: string[];
  unknown: string[];
  available: string[];
}

function availableColumns(records: readonly JsonRecord[], spec: TableSpec): string[] {
  const available = [...spec.columns];
  const seen = new Set(available);
  for (const record of records) {
    for (const key of Object.keys(record)) {
      if (!seen.has(key)) {
        seen.add(key);
        available.push(key);
      }
    }
  }
  return available;
}

/**
 * Requested names in the requested order. If none of them exists, the whole
 * table is returned (the call stays useful) along with unknown/available names.
 */
export function project(available: readonly string[], requested: readonly string[] | undefined): Projection {
  if (requested === undefined || requested.length === 0) return { columns: [...available], unknown: [], available: [...available] };
  const availableSet = new Set(available);
  const columns: string[] = [];
  const unknown: string[] = [];
  for (const name of new Set(requested)) {
    (availableSet.has(name) ? columns : unknown).push(name);
  }
  return { columns: columns.length > 0 ? columns : [...available], unknown, available: [...available] };
}

function withoutDuplicates(columns: string[], records: readonly JsonRecord[], duplicates: Readonly<Record<string, string>>): string[] {
  return columns.filter((column) => {
    const original = duplicates[column];
    if (original === undefined || !columns.includes(original)) return true;
    const isCopy = records.every((record) => record[column] === undefined || sameJson(record[column], record[original]));
    return !isCopy;
  });
}

interface Truncation {
  shown: number;
  of: number;
  next?: { page: number; per_page: number };
  hint: string;
}

function layout(
  records: readonly JsonRecord[],
  columns: readonly string[],
  input: ListInput,
  projection: Projection,
  truncated: Truncation | undefined,
  moreFields: readonly string[],
): JsonRecord {
  // With no row shown, still list the page's columns: that is what `fields` can pick from.
  const presenceSource = records.length > 0 ? records : input.records;
  const present = columns.filter((column) => presenceSource.some((record) => record[column] !== undefined));
  const same: JsonRecord = {};
  let rowColumns = present;
  if (records.length >= 2) {
    const constant = present.filter((column) => {
      const first = records[0]?.[column];
      return first !== undefined && records.every((record) => sameJson(record[column], first));
    });
    // Keep at least one column in the rows so each row still stands for a record.
    const hoisted = constant.length === present.length ? constant.slice(1) : constant;
    for (const column of hoisted) setEntry(same, column, records[0]?.[column]);
    rowColumns = present.filter((column) => !hoisted.includes(column));
  }
  const data: JsonRecord = { fields: rowColumns };
  if (Object.keys(same).length > 0) data['same'] = same;
  data['rows'] = records.map((record) => rowColumns.map((column) => record[column] ?? null));
  data['paging'] = input.paging;
  if (moreFields.length > 0) data['more_fields'] = moreFields;
  if (truncated !== undefined) data['truncated'] = truncated;
  if (projection.unknown.length > 0) {
    data['unknown_fields'] = projection.unknown;
    data['available_fields'] = projection.available;
  }
  if (input.raw !== undefined) data['raw'] = input.raw;
  return data;
}

const HINT_FEWER_COLUMNS = 'Pass fields for fewer columns to see more rows.';
const HINT_NO_ROW_FITS = 'No row fits the size limit: pass fields for fewer columns.';

/** Builds the table and applies the row budget (rule 10). Always returns JSON within maxChars when JSON allows. */
export function buildList(input: ListInput): Fitted {
  const { records, spec, maxChars } = input;
  const projection = project(availableColumns(records, spec), input.fields);
  // Without a usable projection (none, or only unknown names): the default columns; the on-request ones that
  // hold a value are named in more_fields.
  const chosen = input.fields?.some((name) => projection.available.includes(name)) === true;
  const onRequest = new Set(chosen ? [] : (spec.onRequest ?? []));
  const moreFields = projection.columns.filter((column) => onRequest.has(column) && records.some((record) => record[column] !== undefined));
  const columns = withoutDuplicates(projection.columns.filter((column) => !onRequest.has(column)), records, spec.duplicates ?? {});
  const total = records.length;

  const full = layout(records, columns, input, projection, undefined, moreFields);
  const fullText = JSON.stringify(full);
  if (fullText.length <= maxChars) return { data: full, text: fullText };

  // Keep K rows such that page (offset/K + 2) with per_page K starts exactly at the first omitted row.
  const offset = pageOffset(input.paging, input.pageable);
  const counts: number[] = [];
  for (let count = 1; count < total; count++) {
    if (offset === undefined || offset % count === 0) counts.push(count);
  }
  const attempt = (shown: number): Fitted => {
    const next = offset === undefined ? undefined : { page: offset / shown + 2, per_page: shown };
    const truncated: Truncation = next
      ? { shown, of: total, next, hint: `Request page ${next.page} with per_page ${shown} for the remaining rows, or pass fields for fewer columns.` }
      : { shown, of: total, hint: input.hint ?? HINT_FEWER_COLUMNS };
    const data = layout(records.slice(0, shown), columns, input, projection, truncated, moreFields);
    return { data, text: JSON.stringify(data) };
  };
  let best: Fitted | undefined;
  let low = 0;
  let high = counts.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const candidate = attempt(counts[middle] ?? 1);
    if (candidate.text.length <= maxChars) {
      best = candidate;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  if (best !== undefined) return best;

  // Not even one row fits: show the columns and say how to ask for less.
  const noRows: Truncation = { shown: 0, of: total, hint: HINT_NO_ROW_FITS };
  const empty = layout([], columns, input, projection, noRows, moreFields);
  const emptyText = JSON.stringify(empty);
  if (emptyText.length <= maxChars) return { data: empty, text: emptyText };
  const shrunk = shrinkToFit(empty, {
    maxChars,
    protectedKeys: new Set(['fields', 'rows', 'paging']),
    annotate: (data, report) => ({ ...data, truncated: { ...noRows, ...report } }),
  });
  if (shrunk !== undefined) return shrunk;
  return firstThatFits(listSkeletons(input.paging, total), maxChars);
}

/** Smallest valid list answers, most informative first. */
export function listSkeletons(paging: Paging, total: number): JsonRecord[] {
  return [
    { fields: [], rows: [], paging, truncated: { shown: 0, of: total, hint: HINT_NO_ROW_FITS } },
    { fields: [], rows: [], paging, truncated: { shown: 0, of: total } },
    { fields: [], rows: [], paging: { count: paging.count } },
  ];
}
