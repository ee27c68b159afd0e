/**
 * Fetches the pages of a Cloudflare list with bounded concurrency.
 *
 * The first page is fetched alone: it says how many pages there may be.
 * `total_pages` (or `total_count`) is only an upper bound (users come and go
 * while we read), so a short page ends the walk wherever it comes: no page
 * after it is started, and any already in flight past it are dropped.
 */
import type { ResultInfo } from './endpoints.js';

export interface FetchedPage<T> {
  result: T[];
  resultInfo: ResultInfo | undefined;
}

export interface PaginateOptions {
  perPage: number;
  /** Pages in flight at once, the first page excluded (it runs alone). */
  concurrency: number;
  /** Stop once this many items are in hand. */
  maxItems?: number;
  /** Called after each page arrives: pages done, and the upper bound on pages when known. */
  onPage?: (pagesDone: number, pagesUpperBound: number | undefined) => void | Promise<void>;
  /** Aborted: no further page starts. */
  signal?: AbortSignal;
}

export interface Collected<T> {
  items: T[];
  /** What the first page said the total is, if it said. */
  totalCount: number | undefined;
  pagesFetched: number;
  /** False when maxItems cut the list short. */
  complete: boolean;
}

/** When the first page gives no total, a list that never returns a short page still ends here. */
export const MAX_PAGES = 10_000;

function pageUpperBound(info: ResultInfo | undefined, perPage: number): number {
  if (typeof info?.total_pages === 'number' && info.total_pages >= 1) return info.total_pages;
  if (typeof info?.total_count === 'number' && info.total_count >= 0) return Math.max(1, Math.ceil(info.total_count / perPage));
  return Number.POSITIVE_INFINITY;
}

export async function collectPages<T>(fetchPage: (page: number) => Promise<FetchedPage<T>>, options: PaginateOptions): Promise<Collected<T>> {
  const { perPage, maxItems = Number.POSITIVE_INFINITY } = options;
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const first = await fetchPage(1);
  const items = Array.isArray(first.result) ? first.result : [];
  const totalCount = typeof first.resultInfo?.total_count === 'number' ? first.resultInfo.total_count : undefined;
  const bound = pageUpperBound(first.resultInfo, perPage);
  await options.onPage?.(1, Number.isFinite(bound) ? bound : undefined);
  const lastNeeded = Math.min(bound, Math.ceil(maxItems / perPage), MAX_PAGES);
  const pages = new Map<number, T[]>([[1, items]]);
  /** The last page that exists as far as we know: the bound, or the first short page seen. */
  let end = items.length < perPage ? 1 : lastNeeded;
  /** Whether `end` is known (a real bound or a short page), not just the MAX_PAGES safety cap. */
  let endKnown = Number.isFinite(bound) || end === 1;
  let next = 2;
  // One failed page fails the walk: the other workers start nothing more.
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next <= end && !failed && !options.signal?.aborted) {
      const page = next++;
      let fetched: FetchedPage<T>;
      try {
        fetched = await fetchPage(page);
      } catch (error) {
        failed = true;
        throw error;
      }
      const rows = Array.isArray(fetched.result) ? fetched.result : [];
      pages.set(page, rows);
      if (rows.length < perPage) {
        end = Math.min(end, page);
        endKnown = true;
      }
      await options.onPage?.(pages.size, endKnown ? end : undefined);
    }
  };
  // allSettled, not all: a failed page must not hand control back while other pages are still in flight
  // (the call would end and leave them running on a signal nobody aborts any more).
  const settled = await Promise.allSettled(Array.from({ length: concurrency }, worker));
  const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure) throw failure.reason;

  const all: T[] = [];
  let last = 0;
  for (let page = 1; page <= end && pages.has(page); page++, last++) all.push(...pages.get(page)!);
  // Complete when the walk reached the real end with no gap (a short page, or the bound) and maxItems cut
  // nothing; a walk stopped by the signal is not complete.
  const reachedEnd = !options.signal?.aborted && last === end && (pages.get(end)!.length < perPage || end >= bound);
  return { items: all.slice(0, maxItems), totalCount, pagesFetched: pages.size, complete: reachedEnd && all.length <= maxItems };
}
