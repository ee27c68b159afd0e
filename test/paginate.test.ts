/**
 * collectPages with an in-test fetchPage (no network). Pages are held open by the test and released in the
 * order it chooses, so concurrency and ordering are checked deterministically, not by timing.
 */
import { describe, expect, it } from 'vitest';
import type { ResultInfo } from '../src/cloudflare/endpoints.js';
import { collectPages, type FetchedPage } from '../src/cloudflare/paginate.js';

/** Lets every pending promise callback (and the workers' next loop turn) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Items of a page: page * 100 + index, so where each item came from is visible. */
const rows = (page: number, count: number): number[] => Array.from({ length: count }, (_, i) => page * 100 + i);

/** How many items page `page` holds, and what result_info it carries (first page only matters). */
type Shape = (page: number) => { count: number; info?: ResultInfo };

/**
 * A fetchPage whose pages stay pending until the test releases them: it sees which pages started, in
 * which order, and how many are in flight at once.
 */
function heldPages(shape: Shape) {
  const started: number[] = [];
  const pending = new Map<number, () => void>();
  let inFlight = 0;
  let maxInFlight = 0;
  const fetchPage = (page: number): Promise<FetchedPage<number>> => {
    started.push(page);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise((resolve) => {
      pending.set(page, () => {
        pending.delete(page);
        inFlight -= 1;
        const { count, info } = shape(page);
        resolve({ result: rows(page, count), resultInfo: info });
      });
    });
  };
  /** Releases one page and lets the walk react to it. */
  const release = async (page: number) => {
    const open = pending.get(page);
    if (!open) throw new Error(`page ${page} is not in flight (in flight: ${[...pending.keys()].join(',')})`);
    open();
    await settle();
  };
  return {
    fetchPage,
    started,
    pending,
    release,
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

/** A fetchPage that answers at once (for tests about what is collected, not when). */
function instantPages(shape: Shape) {
  const started: number[] = [];
  const fetchPage = async (page: number): Promise<FetchedPage<number>> => {
    started.push(page);
    const { count, info } = shape(page);
    return { result: rows(page, count), resultInfo: info };
  };
  return { fetchPage, started };
}

describe('collectPages', () => {
  it('fetches the first page alone, then never has more than `concurrency` pages in flight', async () => {
    const pages = heldPages((page) => ({ count: 10, info: page === 1 ? { total_pages: 20 } : undefined }));
    const done = collectPages(pages.fetchPage, { perPage: 10, concurrency: 3 });
    await settle();
    // Only page 1 until it answers: it says how many pages there may be.
    expect(pages.started).toEqual([1]);
    await pages.release(1);
    expect(pages.started).toEqual([1, 2, 3, 4]);
    // Release in a scrambled but fixed order; the gate must hold at every step.
    while (pages.pending.size > 0) {
      expect(pages.pending.size).toBeLessThanOrEqual(3);
      const open = [...pages.pending.keys()];
      await pages.release(open[open.length % 2 === 0 ? open.length - 1 : 0]!);
    }
    const out = await done;
    expect(pages.maxInFlight).toBe(3);
    expect(pages.started).toHaveLength(20);
    expect(out.items).toEqual(Array.from({ length: 20 }, (_, i) => rows(i + 1, 10)).flat());
    expect(out).toMatchObject({ pagesFetched: 20, complete: true, totalCount: undefined });
  });

  it('treats a concurrency below 1 as 1', async () => {
    const pages = heldPages((page) => ({ count: 10, info: page === 1 ? { total_pages: 3 } : undefined }));
    const done = collectPages(pages.fetchPage, { perPage: 10, concurrency: 0 });
    await pages.release(1);
    expect(pages.started).toEqual([1, 2]);
    await pages.release(2);
    await pages.release(3);
    expect((await done).items).toHaveLength(30);
    expect(pages.maxInFlight).toBe(1);
  });

  it('with concurrency 1, starts no page after a short one', async () => {
    const pages = instantPages((page) => ({ count: page === 3 ? 4 : 10, info: page === 1 ? { total_pages: 10 } : undefined }));
    const out = await collectPages(pages.fetchPage, { perPage: 10, concurrency: 1 });
    expect(pages.started).toEqual([1, 2, 3]);
    expect(out.items).toEqual([...rows(1, 10), ...rows(2, 10), ...rows(3, 4)]);
    expect(out).toMatchObject({ pagesFetched: 3, complete: true });
  });

  it('with concurrency 4, drops pages past a short one that were already in flight, and starts no more', async () => {
    const pages = heldPages((page) => ({ count: page === 3 ? 4 : 10, info: page === 1 ? { total_pages: 10 } : undefined }));
    const done = collectPages(pages.fetchPage, { perPage: 10, concurrency: 4 });
    await pages.release(1);
    expect(pages.started).toEqual([1, 2, 3, 4, 5]);
    // Page 3 is short: the list ends there, whatever total_pages said.
    await pages.release(3);
    // Pages 4 and 5 were already asked for; they answer full, but come after the end.
    await pages.release(5);
    await pages.release(4);
    await pages.release(2);
    const out = await done;
    expect(pages.started).toEqual([1, 2, 3, 4, 5]);
    expect(out.items).toEqual([...rows(1, 10), ...rows(2, 10), ...rows(3, 4)]);
    expect(out.complete).toBe(true);
  });

  it('takes total_pages as an upper bound only: a short page 3 of "10" ends the list, complete', async () => {
    const pages = instantPages((page) => ({ count: page === 3 ? 7 : 10, info: page === 1 ? { total_pages: 10, total_count: 100 } : undefined }));
    const out = await collectPages(pages.fetchPage, { perPage: 10, concurrency: 1 });
    expect(out.items).toEqual([...rows(1, 10), ...rows(2, 10), ...rows(3, 7)]);
    expect(out).toMatchObject({ complete: true, totalCount: 100, pagesFetched: 3 });
  });

  it('stops at total_pages even when pages keep coming full', async () => {
    const pages = instantPages((page) => ({ count: 10, info: page === 1 ? { total_pages: 2 } : undefined }));
    const out = await collectPages(pages.fetchPage, { perPage: 10, concurrency: 4 });
    expect(pages.started).toEqual([1, 2]);
    expect(out.items).toEqual([...rows(1, 10), ...rows(2, 10)]);
    expect(out.complete).toBe(true);
  });

  it('derives the bound from total_count when total_pages is missing', async () => {
    const pages = instantPages((page) => ({ count: 10, info: page === 1 ? { total_count: 25 } : undefined }));
    const out = await collectPages(pages.fetchPage, { perPage: 10, concurrency: 2 });
    // ceil(25 / 10) = 3 pages at most, even though page 3 comes back full here.
    expect(pages.started.sort()).toEqual([1, 2, 3]);
    expect(out).toMatchObject({ totalCount: 25, complete: true });
  });

  it('with no total, walks until a short page', async () => {
    const pages = instantPages((page) => ({ count: page < 6 ? 10 : 0 }));
    const out = await collectPages(pages.fetchPage, { perPage: 10, concurrency: 1 });
    expect(pages.started).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out.items).toHaveLength(50);
    expect(out).toMatchObject({ complete: true, totalCount: undefined, pagesFetched: 6 });
  });

  it('maxItems caps the items and marks the list incomplete when more existed', async () => {
    const pages = instantPages((page) => ({ count: 10, info: page === 1 ? { total_pages: 10, total_count: 100 } : undefined }));
    const out = await collectPages(pages.fetchPage, { perPage: 10, concurrency: 2, maxItems: 25 });
    // Only the pages needed for 25 items are fetched.
    expect(pages.started.sort()).toEqual([1, 2, 3]);
    expect(out.items).toEqual([...rows(1, 10), ...rows(2, 10), ...rows(3, 5)]);
    expect(out).toMatchObject({ complete: false, totalCount: 100 });
  });

  it('maxItems on a page boundary with more pages documented is still incomplete', async () => {
    const pages = instantPages((page) => ({ count: 10, info: page === 1 ? { total_pages: 10 } : undefined }));
    const out = await collectPages(pages.fetchPage, { perPage: 10, concurrency: 1, maxItems: 20 });
    expect(pages.started).toEqual([1, 2]);
    expect(out.items).toHaveLength(20);
    expect(out.complete).toBe(false);
  });

  it('maxItems that the whole list fits in leaves it complete', async () => {
    const pages = instantPages((page) => ({ count: page === 2 ? 5 : 10, info: page === 1 ? { total_pages: 2 } : undefined }));
    const out = await collectPages(pages.fetchPage, { perPage: 10, concurrency: 1, maxItems: 15 });
    expect(out.items).toHaveLength(15);
    expect(out.complete).toBe(true);
  });

  it('puts items in page order when pages answer out of order', async () => {
    const pages = heldPages((page) => ({ count: page === 5 ? 3 : 10, info: page === 1 ? { total_pages: 5 } : undefined }));
    const done = collectPages(pages.fetchPage, { perPage: 10, concurrency: 4 });
    await pages.release(1);
    for (const page of [5, 4, 3, 2]) await pages.release(page);
    const out = await done;
    expect(out.items).toEqual([...rows(1, 10), ...rows(2, 10), ...rows(3, 10), ...rows(4, 10), ...rows(5, 3)]);
    expect(out.complete).toBe(true);
  });

  it('calls onPage after each page with the pages done and the bound', async () => {
    const calls: Array<[number, number | undefined]> = [];
    const pages = instantPages((page) => ({ count: 10, info: page === 1 ? { total_pages: 3 } : undefined }));
    await collectPages(pages.fetchPage, { perPage: 10, concurrency: 1, onPage: (done, bound) => void calls.push([done, bound]) });
    expect(calls).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  it('awaits onPage before the next page starts', async () => {
    const events: string[] = [];
    const pages = instantPages((page) => ({ count: page < 3 ? 10 : 2 }));
    const fetchPage = (page: number) => {
      events.push(`fetch ${page}`);
      return pages.fetchPage(page);
    };
    await collectPages(fetchPage, {
      perPage: 10,
      concurrency: 1,
      onPage: async (done) => {
        await settle();
        events.push(`page ${done}`);
      },
    });
    expect(events).toEqual(['fetch 1', 'page 1', 'fetch 2', 'page 2', 'fetch 3', 'page 3']);
  });

  // With no total, the MAX_PAGES safety cap is not a bound to report ("page 2 of 10000").
  it('onPage reports no bound while none is known', async () => {
    const bounds: Array<number | undefined> = [];
    const pages = instantPages((page) => ({ count: page < 3 ? 10 : 2 }));
    await collectPages(pages.fetchPage, { perPage: 10, concurrency: 1, onPage: (_done, bound) => void bounds.push(bound) });
    // Page 3 is short: only from then on is the end known.
    expect(bounds).toEqual([undefined, undefined, 3]);
  });

  it('starts no further page once the signal is aborted', async () => {
    const controller = new AbortController();
    const pages = instantPages((page) => ({ count: 10, info: page === 1 ? { total_pages: 10 } : undefined }));
    const out = await collectPages(pages.fetchPage, {
      perPage: 10,
      concurrency: 1,
      signal: controller.signal,
      onPage: (done) => {
        if (done === 2) controller.abort();
      },
    });
    expect(pages.started).toEqual([1, 2]);
    expect(out.items).toEqual([...rows(1, 10), ...rows(2, 10)]);
  });

  it('an already-aborted signal still fetches the first page only', async () => {
    const controller = new AbortController();
    controller.abort();
    const pages = instantPages((page) => ({ count: 10, info: page === 1 ? { total_pages: 10 } : undefined }));
    await collectPages(pages.fetchPage, { perPage: 10, concurrency: 4, signal: controller.signal });
    expect(pages.started).toEqual([1]);
  });

  // A missing last page must not read as "a short last page".
  it('a walk cut short by the signal is not complete', async () => {
    const controller = new AbortController();
    const pages = instantPages((page) => ({ count: 10, info: page === 1 ? { total_pages: 10 } : undefined }));
    const out = await collectPages(pages.fetchPage, {
      perPage: 10,
      concurrency: 1,
      signal: controller.signal,
      onPage: (done) => {
        if (done === 2) controller.abort();
      },
    });
    expect(out.complete).toBe(false);
  });

  it('an empty first page returns no items, complete, and fetches nothing more', async () => {
    const pages = instantPages((page) => ({ count: 0, info: page === 1 ? { total_pages: 0, total_count: 0 } : undefined }));
    const out = await collectPages(pages.fetchPage, { perPage: 10, concurrency: 4 });
    expect(pages.started).toEqual([1]);
    expect(out).toEqual({ items: [], totalCount: 0, pagesFetched: 1, complete: true });
  });

  it('a result that is not an array counts as an empty page', async () => {
    const fetchPage = async (): Promise<FetchedPage<number>> => ({ result: null as unknown as number[], resultInfo: undefined });
    const out = await collectPages(fetchPage, { perPage: 10, concurrency: 2 });
    expect(out).toMatchObject({ items: [], complete: true });
  });

  // Promise.all rejects at once; the other workers must not go on sending requests nobody will read.
  it('starts no page after one has failed', async () => {
    const started: number[] = [];
    const fetchPage = async (page: number): Promise<FetchedPage<number>> => {
      started.push(page);
      await settle();
      if (page === 2) throw new Error('page 2 failed');
      return { result: rows(page, 10), resultInfo: page === 1 ? { total_pages: 10 } : undefined };
    };
    await expect(collectPages(fetchPage, { perPage: 10, concurrency: 2 })).rejects.toThrow('page 2 failed');
    for (let i = 0; i < 20; i++) await settle();
    // Pages 2 and 3 were in flight together; nothing after them should start.
    expect(Math.max(...started)).toBeLessThanOrEqual(3);
  });
});

describe('collectPages after a failure', () => {
  it('rejects only once every page already in flight has settled, so none outlives the call', async () => {
    const events: string[] = [];
    const fetchPage = async (page: number) => {
      if (page === 1) return { result: Array.from({ length: 10 }, (_, i) => i), resultInfo: { total_pages: 3 } };
      if (page === 2) {
        events.push('2 failed');
        throw new Error('page 2 failed');
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
      events.push('3 settled');
      return { result: [1], resultInfo: undefined };
    };
    await expect(collectPages(fetchPage, { perPage: 10, concurrency: 2 })).rejects.toThrow('page 2 failed');
    expect(events).toEqual(['2 failed', '3 settled']);
  });
});
