import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  decideRetry,
  DEFAULT_RETRY_POLICY,
  isRetryable,
  parseRetryAfter,
  runWithRetry,
  type AttemptOutcome,
  type RetryClock,
} from '../src/cloudflare/retry.js';

const policy = DEFAULT_RETRY_POLICY;
const clock = { now: () => Date.parse('2026-11-25T12:00:00Z'), random: () => 0.5 };

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('3', clock.now())).toBe(3000);
    expect(parseRetryAfter('0', clock.now())).toBe(0);
    expect(parseRetryAfter('1.5', clock.now())).toBe(1500);
  });
  it('reads an HTTP date relative to now', () => {
    expect(parseRetryAfter('Wed, 25 Nov 2026 12:00:07 GMT', clock.now())).toBe(7000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 11:00:00 GMT', clock.now())).toBe(0);
  });
  it('ignores absent or garbage values', () => {
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});

describe('isRetryable', () => {
  const response = (status: number): AttemptOutcome => ({ kind: 'response', status });
  it.each(['GET', 'PUT', 'DELETE'] as const)('%s retries 429/502/503/504 and network failures, not 500 or 4xx', (method) => {
    for (const status of [429, 502, 503, 504]) expect(isRetryable(method, response(status))).toBe(true);
    for (const status of [200, 400, 403, 404, 409, 500]) expect(isRetryable(method, response(status))).toBe(false);
    expect(isRetryable(method, { kind: 'network', reason: 'ECONNRESET' })).toBe(true);
  });
  it('POST retries only 429', () => {
    expect(isRetryable('POST', response(429))).toBe(true);
    for (const status of [500, 502, 503, 504]) expect(isRetryable('POST', response(status))).toBe(false);
    expect(isRetryable('POST', { kind: 'network', reason: 'ECONNRESET' })).toBe(false);
  });
  it('never retries past the deadline', () => {
    expect(isRetryable('GET', { kind: 'deadline' })).toBe(false);
  });
});

describe('backoff and decisions', () => {
  it('grows exponentially with jitter, capped', () => {
    const min = () => 0;
    const max = () => 0.999999;
    expect(backoffDelay(1, policy, min)).toBe(250);
    expect(backoffDelay(2, policy, min)).toBe(500);
    expect(backoffDelay(1, policy, max)).toBe(500);
    expect(backoffDelay(20, policy, max)).toBeLessThanOrEqual(policy.maxDelayMs);
  });
  it('honours Retry-After over backoff', () => {
    const decision = decideRetry('GET', { kind: 'response', status: 429, retryAfter: '4' }, 1, 0, policy, clock);
    expect(decision).toEqual({ retry: true, delayMs: 4000 });
  });
  it('stops when the wait budget would be exceeded and reports the Retry-After', () => {
    const decision = decideRetry('GET', { kind: 'response', status: 429, retryAfter: '120' }, 1, 0, policy, clock);
    expect(decision).toEqual({ retry: false, why: 'wait_budget_exhausted', retryAfterMs: 120_000 });
  });
  it('stops after maxAttempts', () => {
    const decision = decideRetry('GET', { kind: 'response', status: 503 }, policy.maxAttempts, 0, policy, clock);
    expect(decision).toMatchObject({ retry: false, why: 'attempts_exhausted' });
  });
});

describe('runWithRetry', () => {
  function fakeClock(): RetryClock & { slept: number[] } {
    let now = 0;
    const slept: number[] = [];
    return {
      slept,
      now: () => now,
      random: () => 0.5,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    };
  }

  it('retries until success, summing waits through the injected clock', async () => {
    const outcomes: AttemptOutcome[] = [
      { kind: 'response', status: 429, retryAfter: '2' },
      { kind: 'network', reason: 'ECONNRESET' },
      { kind: 'response', status: 200 },
    ];
    const time = fakeClock();
    const run = await runWithRetry('GET', async (n) => ({ value: n, outcome: outcomes[n - 1]! }), policy, time);
    expect(run.attempts).toBe(3);
    expect(run.value).toBe(3);
    expect(time.slept[0]).toBe(2000);
    expect(run.waitedMs).toBe(time.slept.reduce((a, b) => a + b, 0));
    expect(run.earlier).toHaveLength(2);
  });

  it('keeps the total wait within the budget under endless 503s', async () => {
    const time = fakeClock();
    const run = await runWithRetry('DELETE', async () => ({ value: 0, outcome: { kind: 'response', status: 503 } }), policy, time);
    expect(run.attempts).toBe(policy.maxAttempts);
    expect(run.waitedMs).toBeLessThanOrEqual(policy.maxTotalWaitMs);
  });

  it('sends a POST once on a 502', async () => {
    const time = fakeClock();
    const run = await runWithRetry('POST', async () => ({ value: 0, outcome: { kind: 'response', status: 502 } }), policy, time);
    expect(run.attempts).toBe(1);
    expect(time.slept).toEqual([]);
  });
});
