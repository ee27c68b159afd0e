/**
 * The bounds every fan-out of one tool call shares (overview, provisioning, offboarding, list all):
 *
 * - Limiter: at most N requests of the call in flight at once (`--max-concurrency`);
 * - RequestGate: when one request of the call is rate limited (429), no request of that call starts
 *   before the wait Cloudflare asked for is over. One shared wait, not one per request: a 429 means the
 *   account is over its rate, so every request of the fan-out would only earn another 429.
 *
 * Portable: the clock and its sleep are injected (the client's), nothing here touches Node.
 */
import type { RetryClock, RetryGate } from './retry.js';

/** `--max-concurrency` / CLOUDFLARE_MAX_CONCURRENCY when unset. */
export const DEFAULT_MAX_CONCURRENCY = 4;

/** A counting semaphore, first come first served. */
export class Limiter {
  readonly limit: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.limit = Math.max(1, Math.floor(Number.isFinite(limit) ? limit : 1));
  }

  /** Runs `task` once a slot is free; the slot is released however the task ends. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active += 1;
      return Promise.resolve();
    }
    // The slot is handed over by release(), so `active` never dips and a newcomer cannot jump the queue.
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}

/**
 * One wait shared by every request of a call. `hold(ms)` closes the gate until now + ms (a longer hold
 * extends it, a shorter one changes nothing); `ready()` resolves when it is open. Exactly one sleep runs
 * per hold however many requests wait, and it ends early when the call's signal aborts.
 */
export class RequestGate implements RetryGate {
  private openAt = Number.NEGATIVE_INFINITY;
  private wait: Promise<void> | undefined;

  constructor(
    private readonly clock: Pick<RetryClock, 'now' | 'sleep'>,
    private readonly signal?: AbortSignal,
  ) {}

  hold(ms: number): void {
    const until = this.clock.now() + Math.max(0, ms);
    if (until <= this.openAt) return;
    this.openAt = until;
    const sleepUntilOpen = () => this.clock.sleep(Math.max(0, until - this.clock.now()), this.signal);
    const current = this.wait ? this.wait.then(sleepUntilOpen) : sleepUntilOpen();
    this.wait = current;
    void current.then(() => {
      if (this.wait === current) this.wait = undefined;
    });
  }

  async ready(): Promise<void> {
    // Loop: a hold placed while we waited extends the wait.
    while (this.wait) await this.wait;
  }
}

/**
 * Runs `task` for every item with at most `limit` running at once, and settles them all in input order:
 * one failing item does not stop the others (a batch reports each person's outcome).
 */
export async function settleAll<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await task(items[index]!, index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}
