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
  /** Waits `ms`, or less when `signal` aborts first (a cancelled call must not wait out a Retry-After). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  now(): number;
  random(): number;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export const realClock: RetryClock = {
  sleep: abortableSleep,
  now: () => Date.now(),
  random: () => Math.random(),
};

/** What one attempt produced, as far as the policy cares. */
export type AttemptOutcome =
  /** `refused`: Cloudflare's envelope said the request failed (success: false), so nothing was applied. */
  | { kind: 'response'; status: number; retryAfter?: string | null; refused?: boolean }
  /** No (complete) response: reset, refused, header/body timeout, truncated body. */
  | { kind: 'network'; reason: string }
  /** The call's overall deadline passed: nothing is left to retry with. */
  | { kind: 'deadline' }
  /** The caller cancelled the call: nothing more may be sent. */
  | { kind: 'cancelled' };

export type RetryDecision =
  | { retry: true; delayMs: number }
  | {
      retry: false;
      /** `deadline`: the wait would end after the call's deadline, so it is not started. */
      why: 'not_retryable' | 'attempts_exhausted' | 'wait_budget_exhausted' | 'deadline';
      retryAfterMs?: number;
    };

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
  if (outcome.kind === 'deadline' || outcome.kind === 'cancelled') return false;
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
 * @param deadlineAt the call's deadline on `clock`; a wait that would end after it is not started
 */
export function decideRetry(
  method: HttpMethod,
  outcome: AttemptOutcome,
  attempt: number,
  waitedMs: number,
  policy: RetryPolicy,
  clock: Pick<RetryClock, 'now' | 'random'>,
  deadlineAt = Number.POSITIVE_INFINITY,
): RetryDecision {
  if (!isRetryable(method, outcome)) return { retry: false, why: 'not_retryable' };
  const retryAfterMs = outcome.kind === 'response' ? parseRetryAfter(outcome.retryAfter, clock.now()) : undefined;
  if (attempt >= policy.maxAttempts) return { retry: false, why: 'attempts_exhausted', retryAfterMs };
  const delayMs = retryAfterMs ?? backoffDelay(attempt, policy, clock.random);
  if (waitedMs + delayMs > policy.maxTotalWaitMs) return { retry: false, why: 'wait_budget_exhausted', retryAfterMs };
  // Waiting and then having no time left for the attempt is worse than answering now with when to retry.
  if (clock.now() + delayMs >= deadlineAt) return { retry: false, why: 'deadline', retryAfterMs: retryAfterMs ?? delayMs };
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
  /** The signal aborted during a wait: the retry that was due was not sent. */
  interrupted: boolean;
}

export interface RetryLimits {
  /** Cancellation and deadline: no attempt starts, and no wait goes on, once it aborts. */
  signal?: AbortSignal;
  /** The call's deadline on the clock. */
  deadlineAt?: number;
  /** Told of every attempt once its fate is decided (before any wait): for logging, must not throw. */
  onAttempt?: (report: AttemptReport) => void;
  /**
   * Shared by the requests of one fan-out (src/cloudflare/concurrency.ts): a 429's wait is held on the gate
   * (one wait for all of them, not one each), and no retry starts while the gate is closed.
   */
  gate?: RetryGate;
}

/** What runWithRetry needs of a fan-out's shared wait. */
export interface RetryGate {
  /** No request through the gate starts before now + ms. */
  hold(ms: number): void;
  /** Resolves once the gate is open. */
  ready(): Promise<void>;
}

/** One attempt as the retry loop saw it. */
export interface AttemptReport {
  /** 1-based. */
  attempt: number;
  outcome: AttemptOutcome;
  /** Whether a retry follows, after how long; or why not. */
  decision: RetryDecision;
  /** How long the attempt took, on the clock. */
  ms: number;
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
  limits: RetryLimits = {},
): Promise<RetryRun<T>> {
  const earlier: AttemptOutcome[] = [];
  let waitedMs = 0;
  for (let n = 1; ; n++) {
    const started = clock.now();
    const { value, outcome } = await attempt(n);
    const ms = clock.now() - started;
    const decision = decideRetry(method, outcome, n, waitedMs, policy, clock, limits.deadlineAt);
    limits.onAttempt?.({ attempt: n, outcome, decision, ms });
    if (!decision.retry) return { value, outcome, attempts: n, waitedMs, earlier, final: decision, interrupted: false };
    earlier.push(outcome);
    // A rate limit is the account's, not this request's: its wait is the whole fan-out's.
    if (limits.gate && outcome.kind === 'response' && outcome.status === 429) limits.gate.hold(decision.delayMs);
    else await clock.sleep(decision.delayMs, limits.signal);
    await limits.gate?.ready();
    waitedMs += decision.delayMs;
    // Checked after the wait, not only before it: a cancel during a Retry-After wait sends nothing more.
    if (limits.signal?.aborted) return { value, outcome, attempts: n, waitedMs, earlier, final: decision, interrupted: true };
  }
}
