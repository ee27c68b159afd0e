/**
 * Retry policy: which failures are retried, how long to wait, when to stop.
 *
 * Ours rather than undici's RetryAgent because it must also run on Workers,
 * and because the POST rule (never retry a create that may have been
 * processed) is a business rule. Sleep, clock and randomness are injected so
 * tests check Retry-After handling without waiting real seconds.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Upper bound on the sum of all waits of one call. */
  maxTotalWaitMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxTotalWaitMs: 30_000,
};

export interface RetryClock {
  sleep(ms: number): Promise<void>;
  now(): number;
  random(): number;
}

export const realClock: RetryClock = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
  random: () => Math.random(),
};

/** What one attempt produced, as far as the policy cares. */
export type AttemptOutcome =
  | { kind: 'response'; status: number; retryAfter?: string | null }
  /** No (complete) response: reset, refused, header/body timeout, truncated body. */
  | { kind: 'network'; reason: string }
  /** The call's overall deadline passed: nothing is left to retry with. */
  | { kind: 'deadline' };

export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; why: 'not_retryable' | 'attempts_exhausted' | 'wait_budget_exhausted'; retryAfterMs?: number };

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/** Retry-After is either delta-seconds or an HTTP date. Returns ms to wait, or undefined when absent/unparseable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Exponential backoff with equal jitter: never less than half the step, so retries do spread out. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

export function isRetryable(method: HttpMethod, outcome: AttemptOutcome): boolean {
  if (outcome.kind === 'deadline') return false;
  if (outcome.kind === 'response') {
    if (outcome.status === 429) return true; // rejected before processing: safe even for POST
    return method !== 'POST' && RETRYABLE_STATUS.has(outcome.status);
  }
  // A create whose connection broke may have been processed: retrying could double-provision.
  return method !== 'POST';
}

/**
 * @param attempt the 1-based number of the attempt that produced `outcome`
 * @param waitedMs time already spent waiting between attempts of this call
 */
export function decideRetry(
  method: HttpMethod,
  outcome: AttemptOutcome,
  attempt: number,
  waitedMs: number,
  policy: RetryPolicy,
  clock: Pick<RetryClock, 'now' | 'random'>,
): RetryDecision {
  if (!isRetryable(method, outcome)) return { retry: false, why: 'not_retryable' };
  const retryAfterMs = outcome.kind === 'response' ? parseRetryAfter(outcome.retryAfter, clock.now()) : undefined;
  if (attempt >= policy.maxAttempts) return { retry: false, why: 'attempts_exhausted', retryAfterMs };
  const delayMs = retryAfterMs ?? backoffDelay(attempt, policy, clock.random);
  if (waitedMs + delayMs > policy.maxTotalWaitMs) return { retry: false, why: 'wait_budget_exhausted', retryAfterMs };
  return { retry: true, delayMs };
}

export interface RetryRun<T> {
  value: T;
  outcome: AttemptOutcome;
  attempts: number;
  waitedMs: number;
  /** Outcomes of the attempts before the last one. */
  earlier: AttemptOutcome[];
  final: RetryDecision;
}

/**
 * Runs `attempt` until its outcome is not retried. `attempt` never throws for
 * expected failures: it reports them as an outcome with a value.
 */
export async function runWithRetry<T>(
  method: HttpMethod,
  attempt: (n: number) => Promise<{ value: T; outcome: AttemptOutcome }>,
  policy: RetryPolicy,
  clock: RetryClock,
): Promise<RetryRun<T>> {
  const earlier: AttemptOutcome[] = [];
  let waitedMs = 0;
  for (let n = 1; ; n++) {
    const { value, outcome } = await attempt(n);
    const decision = decideRetry(method, outcome, n, waitedMs, policy, clock);
    if (!decision.retry) return { value, outcome, attempts: n, waitedMs, earlier, final: decision };
    earlier.push(outcome);
    await clock.sleep(decision.delayMs);
    waitedMs += decision.delayMs;
  }
}
