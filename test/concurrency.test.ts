/**
 * The pure parts of the fan-out rules: the limiter, the shared rate-limit wait (RequestGate) and how the
 * retry loop uses it, settleAll, and the email → id cache (TTL, drop per account, credential scope).
 */
import { describe, expect, it } from 'vitest';
import { Limiter, RequestGate, settleAll } from '../src/cloudflare/concurrency.js';
import { DEFAULT_RETRY_POLICY, runWithRetry, type AttemptOutcome, type RetryClock } from '../src/cloudflare/retry.js';
import { scopedUserCache, UserCache } from '../src/tools/user-cache.js';
import { resolveAuth } from '../src/cloudflare/auth.js';
import { fakeClock } from './helpers/harness.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A clock whose sleeps wait until the test releases them, so "nothing starts during the wait" is observable. */
function heldClock() {
  let now = 1_000_000;
  const pending: { ms: number; release: () => void }[] = [];
  const clock: RetryClock = {
    now: () => now,
    random: () => 0.5,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        pending.push({
          ms,
          release: () => {
            now += ms;
            resolve();
          },
        });
      }),
  };
  return { clock, pending };
}

describe('Limiter', () => {
  it('never runs more than its limit at once, and runs every task, first come first served', async () => {
    const limiter = new Limiter(3);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (n: number) => async () => {
      running += 1;
      peak = Math.max(peak, running);
      order.push(n);
      await tick();
      running -= 1;
      return n;
    };
    const results = await Promise.all(Array.from({ length: 10 }, (_, n) => limiter.run(task(n))));
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('releases the slot when a task fails', async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run(async () => 'next')).resolves.toBe('next');
  });

  it('treats a limit below 1 as 1', () => {
    expect(new Limiter(0).limit).toBe(1);
    expect(new Limiter(Number.NaN).limit).toBe(1);
  });
});

describe('settleAll', () => {
  it('keeps input order, bounds concurrency, and one failure does not stop the rest', async () => {
    let running = 0;
    let peak = 0;
    const settled = await settleAll([1, 2, 3, 4, 5, 6], 2, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await tick();
      running -= 1;
      if (n === 3) throw new Error('three');
      return n * 10;
    });
    expect(peak).toBe(2);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([10, 20, 'three', 40, 50, 60]);
  });

  it('handles no items', async () => {
    expect(await settleAll([], 4, async () => 1)).toEqual([]);
  });
});

describe('RequestGate', () => {
  it('is open until held; one sleep however many wait; open again after it', async () => {
    const { clock, pending } = heldClock();
    const gate = new RequestGate(clock);
    await gate.ready();
    gate.hold(2_000);
    let passed = 0;
    const waiters = Array.from({ length: 4 }, () => gate.ready().then(() => void (passed += 1)));
    await tick();
    expect(passed).toBe(0);
    expect(pending.map((p) => p.ms)).toEqual([2_000]);
    pending.shift()!.release();
    await Promise.all(waiters);
    expect(passed).toBe(4);
    await gate.ready();
  });

  it('a shorter hold inside a longer one changes nothing; a longer one extends the same wait', async () => {
    const { clock, pending } = heldClock();
    const gate = new RequestGate(clock);
    gate.hold(3_000);
    gate.hold(1_000);
    expect(pending.map((p) => p.ms)).toEqual([3_000]);
    gate.hold(5_000);
    let open = false;
    const waiting = gate.ready().then(() => void (open = true));
    pending.shift()!.release();
    await tick();
    // The extension sleeps only the difference, after the first wait.
    expect(pending.map((p) => p.ms)).toEqual([2_000]);
    expect(open).toBe(false);
    pending.shift()!.release();
    await waiting;
    expect(open).toBe(true);
  });

  it('ends early when the call is aborted (the sleep gets the signal)', async () => {
    const controller = new AbortController();
    const signals: (AbortSignal | undefined)[] = [];
    const clock: Pick<RetryClock, 'now' | 'sleep'> = {
      now: () => 0,
      sleep: (_ms, signal) => {
        signals.push(signal);
        return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
      },
    };
    const gate = new RequestGate(clock, controller.signal);
    gate.hold(60_000);
    const waiting = gate.ready();
    controller.abort();
    await waiting;
    expect(signals).toEqual([controller.signal]);
  });
});

describe('runWithRetry with a gate', () => {
  const rateLimited: AttemptOutcome = { kind: 'response', status: 429, retryAfter: '2' };
  const ok: AttemptOutcome = { kind: 'response', status: 200 };

  it("holds a 429's wait on the gate instead of sleeping on its own", async () => {
    const clock = fakeClock(0);
    const holds: number[] = [];
    const gate = { hold: (ms: number) => void holds.push(ms), ready: async () => {} };
    const outcomes = [rateLimited, ok];
    const run = await runWithRetry('GET', async () => ({ value: 'v', outcome: outcomes.shift()! }), DEFAULT_RETRY_POLICY, clock, { gate });
    expect(run.attempts).toBe(2);
    expect(holds).toEqual([2_000]);
    expect(clock.sleeps).toEqual([]);
  });

  it('a 5xx is still its own wait, and the retry waits for the gate too', async () => {
    const clock = fakeClock(0);
    const events: string[] = [];
    const gate = { hold: (ms: number) => void events.push(`hold ${ms}`), ready: async () => void events.push('ready') };
    const outcomes: AttemptOutcome[] = [{ kind: 'response', status: 503 }, ok];
    await runWithRetry('GET', async () => ({ value: 'v', outcome: outcomes.shift()! }), DEFAULT_RETRY_POLICY, clock, { gate });
    expect(clock.sleeps).toHaveLength(1);
    expect(events).toEqual(['ready']);
  });

  it('without a gate nothing changes: the 429 sleeps its Retry-After', async () => {
    const clock = fakeClock(0);
    const outcomes = [rateLimited, ok];
    await runWithRetry('GET', async () => ({ value: 'v', outcome: outcomes.shift()! }), DEFAULT_RETRY_POLICY, clock);
    expect(clock.sleeps).toEqual([2_000]);
  });
});

describe('UserCache', () => {
  const alice = { id: '3f0c6a52-9d1e-4b7a-a3c5-7e2d8f1b6049', email: 'Alice@corp.example' };

  it('finds an email in any case, for its scope and account only', () => {
    const cache = new UserCache(60_000, () => 0);
    cache.set('s1', 'acct', alice);
    expect(cache.get('s1', 'acct', 'alice@CORP.example')).toEqual(alice);
    expect(cache.get('s2', 'acct', 'alice@corp.example')).toBeUndefined();
    expect(cache.get('s1', 'other', 'alice@corp.example')).toBeUndefined();
  });

  it('forgets after the TTL; 0 turns it off', () => {
    let now = 0;
    const cache = new UserCache(60_000, () => now);
    cache.set('s', 'acct', alice);
    now = 59_999;
    expect(cache.get('s', 'acct', alice.email)).toBeDefined();
    now = 60_000;
    expect(cache.get('s', 'acct', alice.email)).toBeUndefined();
    const off = new UserCache(0, () => 0);
    off.set('s', 'acct', alice);
    expect(off.size).toBe(0);
  });

  it('drops an account for every scope, and keeps the others', () => {
    const cache = new UserCache(60_000, () => 0);
    cache.set('s1', 'acct', alice);
    cache.set('s2', 'acct', alice);
    cache.set('s1', 'other', alice);
    cache.dropAccount('acct');
    expect(cache.size).toBe(1);
    expect(cache.get('s1', 'other', alice.email)).toBeDefined();
  });

  it('scopes by a hash of the credential: the same token shares, another does not, and no key holds the token', async () => {
    const cache = new UserCache(60_000, () => 0);
    const token = 'cfut_secret_token_value_1234567890';
    const a = scopedUserCache(cache, resolveAuth({ CLOUDFLARE_API_TOKEN: token }));
    const sameToken = scopedUserCache(cache, resolveAuth({ CLOUDFLARE_API_TOKEN: token }));
    const other = scopedUserCache(cache, resolveAuth({ CLOUDFLARE_API_TOKEN: 'another_token_value' }));
    await a.set('acct', alice);
    expect(await sameToken.get('acct', alice.email)).toEqual(alice);
    expect(await other.get('acct', alice.email)).toBeUndefined();
    const keys = [...(cache as unknown as { entries: Map<string, unknown> }).entries.keys()];
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(token);
    expect(keys[0]).toMatch(/^[0-9a-f]{64}\n/);
  });
});
