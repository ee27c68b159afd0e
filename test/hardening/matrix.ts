/**
 * The fault-injection matrix as data: every upstream failure we harden
 * against, and what each tool kind (GET/POST/PUT/DELETE) must do about it.
 *
 * Driven by test/fault-matrix.test.ts (assertions) and scripts/reliability.ts
 * (RELIABILITY.md, generated from observed behaviour). Pure data + types: no
 * vitest, no I/O.
 *
 * Waits are what the harness's fake clock records. Its random() is 0.5, so
 * the backoff (equal jitter, base 500 ms, doubling) is exactly
 * 375, 750, 1500 ms for the 1st, 2nd, 3rd retry.
 */
import type { Fault } from '../../src/sandbox/emulator.js';

export type ToolKind = 'GET' | 'POST' | 'PUT' | 'DELETE';
export const TOOL_KINDS: readonly ToolKind[] = ['GET', 'POST', 'PUT', 'DELETE'];

/** The tool each kind is exercised through. */
export const KIND_TOOL: Readonly<Record<ToolKind, string>> = {
  GET: 'get_access_user',
  POST: 'create_access_user',
  PUT: 'update_access_user',
  DELETE: 'delete_access_user',
};

/**
 * Harness timeouts the matrix runs with. undici checks them on a coarse timer (~0.5 s ticks),
 * so a 300 ms timeout fires after about 1 s: each hang/slow-body cell costs ~1 s, which is why
 * "never answers" is matrixed once rather than on every attempt (reset/503 cover exhaustion).
 */
export const MATRIX_HEADERS_TIMEOUT_MS = 300;
export const MATRIX_BODY_TIMEOUT_MS = 300;
/** The small response cap of the main matrix harness. */
export const SMALL_CAP_BYTES = 64 * 1024;
/** The real default cap (src/cloudflare/client.ts DEFAULT_MAX_RESPONSE_BYTES), for the 11 MB case. */
export const DEFAULT_CAP_BYTES = 10 * 1024 * 1024;
/** RSS may grow at most this much while an over-cap body is refused. */
export const MAX_RSS_GROWTH_BYTES = 50 * 1024 * 1024;

/** Backoff waits with the fake clock's random() = 0.5. */
export const BACKOFF = [375, 750, 1500] as const;

/** Waits between attempts: fixed, or computed from the fake clock's now() at injection time. */
export type Waits = readonly number[] | ((nowMs: number) => readonly number[]);

export interface Expectation {
  outcome: 'ok' | 'error';
  /** Errors: the actionable text the user must get. ok: a pattern the result text must match (e.g. the DELETE note). */
  message?: RegExp;
  /** Upstream requests with the tool's method (all requests, for that matter: nothing else may be sent). */
  attempts: number;
  waits: Waits;
  /**
   * Side effect visible in the emulator afterwards (ignored for GET):
   * POST: the user exists; PUT: the new name is stored; DELETE: the user is gone.
   */
  applied: boolean;
}

export interface FaultCase {
  /** Stable slug: test names and emails are built from it. */
  id: string;
  /** How the fault reads in RELIABILITY.md (the doc test checks each one is there). */
  label: string;
  fault: (nowMs: number) => Fault;
  /** How many requests the fault applies to (100 = every attempt). */
  times: number;
  /** 'default-cap': run through a harness with the default 10 MB response cap, and measure RSS. */
  harness?: 'small-cap' | 'default-cap';
  expect: Readonly<Record<ToolKind, Expectation>>;
}

export const EVERY_ATTEMPT = 100;

// ---------------------------------------------------------------------------
// Expected texts (wording from src/tools/errors.ts describeApiError)

const CHECK_BEFORE_RETRY = String.raw`The create may or may not have happened: check with list_access_users \(email: matrix\.[\w.-]+@corp\.example\) before retrying\.`;

const TEXT = {
  rateLimitedExhausted: /^Cloudflare rate limit reached \(HTTP 429\); retried 3 times\. Try again in a minute\. Cloudflare said: 971 Please wait/,
  rateLimitedTooLong: /^Cloudflare rate limit reached \(HTTP 429\); not retried, the wait asked for is longer than this call may take\. Try again after 120 s\./,
  http500: /^Cloudflare API error \(HTTP 500\)\. Cloudflare said: 10500 Internal Server Error\. The service may be degraded; try again shortly\.$/,
  httpOnce: (status: number, reason: string) =>
    new RegExp(String.raw`^Cloudflare API error \(HTTP ${status}\)\. Cloudflare said: ${10_000 + status} ${reason}\. The service may be degraded; try again shortly\.$`),
  http503Exhausted: /^Cloudflare API error \(HTTP 503, after 3 retries\)\. Cloudflare said: 10503 Service Unavailable\. The service may be degraded; try again shortly\.$/,
  /** A create answered by a gateway's 502/504 may have gone through behind it: check, do not just retry. */
  html502Post: new RegExp(String.raw`^Cloudflare API error \(HTTP 502\)\. The change may have been applied all the same \(a gateway error, or an attempt without an answer\): check with list_access_users \(email: matrix\.[\w.-]+@corp\.example\) before trying again\.$`),
  postGateway: (status: number, reason: string) =>
    new RegExp(
      String.raw`^Cloudflare API error \(HTTP ${status}\)\. Cloudflare said: ${10_000 + status} ${reason}\. The change may have been applied all the same \(a gateway error, or an attempt without an answer\): check with list_access_users \(email: matrix\.[\w.-]+@corp\.example\) before trying again\.$`,
    ),
  /** A create whose connection broke: never retried, and the user is told to check first. */
  postNoAnswer: (reason: string) => new RegExp(String.raw`^Could not get a complete response from the Cloudflare API \(${reason}\)\. ${CHECK_BEFORE_RETRY}$`),
  networkExhausted: (reason: string) =>
    new RegExp(String.raw`^Could not get a complete response from the Cloudflare API \(${reason}, after 3 retries\)\. Check network access to api\.cloudflare\.com, or try again shortly\.$`),
  badResponse: (detail: string) =>
    new RegExp(String.raw`^Cloudflare returned an unexpected response \(HTTP 200: ${detail}\)\. This is usually a transient Cloudflare-side problem: try again shortly\.$`),
  /**
   * A create answered 2xx with an unusable body was (most likely) processed: the text must not
   * invite a blind retry. EXPECTED TO FAIL until src/cloudflare/errors.ts is fixed (see the report).
   */
  postBadResponse: (detail: string) =>
    new RegExp(String.raw`^Cloudflare returned an unexpected response \(HTTP 200: ${detail}\)\. ${CHECK_BEFORE_RETRY}$`),
  successFalse: /^Cloudflare refused the request \(HTTP 200\)\. Cloudflare said: 1000 An unknown error has occurred\. Check the arguments against the tool's description\.$/,
  /** The size must be stated truthfully: a 64 KB cap is not "0 MB" (EXPECTED TO FAIL until fixed). */
  tooLargeSmall: /^Cloudflare's response was too large to process \(over (?!0 MB)[^)]+\)\. Ask for less: a smaller per_page, or filters\.$/,
  tooLargeDefault: /^Cloudflare's response was too large to process \(over 10 MB\)\. Ask for less: a smaller per_page, or filters\.$/,
  postTooLarge: new RegExp(String.raw`^Cloudflare's response was too large to process \(over [^)]+\)\.[^]*${CHECK_BEFORE_RETRY}`),
  deletedOnRetry: /"note":"The first response was lost; a retry found the user already gone, so it was deleted\."/,
  plainDelete: /^\{"deleted":true,"id":"[0-9a-f-]{36}"\}$/,
} as const;

// Network reasons: the wording may change ("connection reset, ECONNRESET"); the code must stay.
const HEADERS_TIMEOUT = '[^()]*UND_ERR_HEADERS_TIMEOUT';
const BODY_TIMEOUT = 'response body interrupted: [^()]*UND_ERR_BODY_TIMEOUT';
const RESET = '[^()]*ECONNRESET';
const TRUNCATED = 'response body interrupted: [^()]*UND_ERR_SOCKET';

// ---------------------------------------------------------------------------
// Expectation builders

const ok = (waits: readonly number[] = [], message?: RegExp): Expectation => ({
  outcome: 'ok',
  attempts: waits.length + 1,
  waits,
  applied: true,
  ...(message ? { message } : {}),
});
const okAfter = (waits: Waits, attempts: number): Expectation => ({ outcome: 'ok', attempts, waits, applied: true });
const fail = (message: RegExp, attempts = 1, waits: readonly number[] = [], applied = false): Expectation => ({
  outcome: 'error',
  message,
  attempts,
  waits,
  applied,
});

/** GET, PUT and DELETE behave alike (idempotent: retried on the same faults). */
function idempotent(e: Expectation, overrides: Partial<Record<'GET' | 'PUT' | 'DELETE', Expectation>> = {}) {
  return { GET: e, PUT: e, DELETE: e, ...overrides };
}

const retryAfterDate = (nowMs: number) => new Date(nowMs + 5_000).toUTCString();
const dateWait = (nowMs: number) => [Date.parse(retryAfterDate(nowMs)) - nowMs];

export const FAULT_MATRIX: readonly FaultCase[] = [
  {
    id: '429-retry-after-seconds',
    label: '429 with Retry-After: 2 (seconds), once',
    fault: () => ({ kind: 'status', status: 429, retryAfter: '2' }),
    times: 1,
    // 429 means "not processed": even a create is retried, after exactly the wait asked for.
    expect: { ...idempotent(ok([2000])), POST: ok([2000]) },
  },
  {
    id: '429-retry-after-date',
    label: '429 with Retry-After as an HTTP date ~5 s ahead, once',
    fault: (now) => ({ kind: 'status', status: 429, retryAfter: retryAfterDate(now) }),
    times: 1,
    expect: { ...idempotent(okAfter(dateWait, 2)), POST: okAfter(dateWait, 2) },
  },
  {
    id: '429-no-retry-after',
    label: '429 without Retry-After, once',
    fault: () => ({ kind: 'status', status: 429 }),
    times: 1,
    expect: { ...idempotent(ok([375])), POST: ok([375]) },
  },
  {
    id: '429-persistent',
    label: '429 without Retry-After, every attempt',
    fault: () => ({ kind: 'status', status: 429 }),
    times: EVERY_ATTEMPT,
    expect: { ...idempotent(fail(TEXT.rateLimitedExhausted, 4, BACKOFF)), POST: fail(TEXT.rateLimitedExhausted, 4, BACKOFF) },
  },
  {
    id: '429-retry-after-too-long',
    label: '429 with Retry-After: 120 (over the 30 s wait budget)',
    fault: () => ({ kind: 'status', status: 429, retryAfter: '120' }),
    times: 1,
    expect: { ...idempotent(fail(TEXT.rateLimitedTooLong)), POST: fail(TEXT.rateLimitedTooLong) },
  },
  {
    id: '500',
    label: 'HTTP 500, once',
    fault: () => ({ kind: 'status', status: 500 }),
    times: 1,
    // 500 is not retried for any method.
    expect: { ...idempotent(fail(TEXT.http500)), POST: fail(TEXT.http500) },
  },
  ...([
    [502, 'Bad Gateway'],
    [503, 'Service Unavailable'],
    [504, 'Gateway Timeout'],
  ] as const).map(
    ([status, reason]): FaultCase => ({
      id: String(status),
      label: `HTTP ${status}, once`,
      fault: () => ({ kind: 'status', status }),
      times: 1,
      // A create is sent once: a 5xx may have been processed.
      expect: { ...idempotent(ok([375])), POST: fail(status === 503 ? TEXT.httpOnce(status, reason) : TEXT.postGateway(status, reason)) },
    }),
  ),
  {
    id: '503-persistent',
    label: 'HTTP 503, every attempt',
    fault: () => ({ kind: 'status', status: 503 }),
    times: EVERY_ATTEMPT,
    expect: { ...idempotent(fail(TEXT.http503Exhausted, 4, BACKOFF)), POST: fail(TEXT.httpOnce(503, 'Service Unavailable')) },
  },
  {
    id: 'reset-before-processing',
    label: 'connection reset before processing, once',
    fault: () => ({ kind: 'reset', after: 'receive' }),
    times: 1,
    expect: { ...idempotent(ok([375])), POST: fail(TEXT.postNoAnswer(RESET)) },
  },
  {
    id: 'reset-after-processing',
    label: 'connection reset after processing (lost response), once',
    fault: () => ({ kind: 'reset', after: 'process' }),
    times: 1,
    expect: {
      ...idempotent(ok([375]), { DELETE: ok([375], TEXT.deletedOnRetry) }),
      // Processed, answer lost: not retried (no double create), and the user is told to check.
      POST: fail(TEXT.postNoAnswer(RESET), 1, [], true),
    },
  },
  {
    id: 'reset-persistent',
    label: 'connection reset before processing, every attempt',
    fault: () => ({ kind: 'reset', after: 'receive' }),
    times: EVERY_ATTEMPT,
    expect: { ...idempotent(fail(TEXT.networkExhausted(RESET), 4, BACKOFF)), POST: fail(TEXT.postNoAnswer(RESET)) },
  },
  {
    id: 'hang',
    label: 'accepts and never answers (headers timeout), once',
    fault: () => ({ kind: 'hang' }),
    times: 1,
    expect: { ...idempotent(ok([375])), POST: fail(TEXT.postNoAnswer(HEADERS_TIMEOUT)) },
  },
  {
    id: 'slow-headers-within-timeout',
    label: 'slow headers (100 ms, under the 300 ms headers timeout)',
    fault: () => ({ kind: 'delay', phase: 'headers', ms: 100 }),
    times: 1,
    expect: { ...idempotent(ok()), POST: ok() },
  },
  {
    id: 'slow-body-within-timeout',
    label: 'slow body (100 ms, under the 300 ms body timeout)',
    fault: () => ({ kind: 'delay', phase: 'body', ms: 100 }),
    times: 1,
    expect: { ...idempotent(ok()), POST: ok() },
  },
  {
    id: 'slow-body-over-timeout',
    // Well past the timeout: undici fires it on a ~0.5 s tick, i.e. up to ~1 s after 300 ms.
    label: 'slow body (3000 ms, over the 300 ms body timeout), once',
    fault: () => ({ kind: 'delay', phase: 'body', ms: 3_000 }),
    times: 1,
    // The emulator processes the request before stalling the body.
    expect: {
      ...idempotent(ok([375]), { DELETE: ok([375], TEXT.deletedOnRetry) }),
      POST: fail(TEXT.postNoAnswer(BODY_TIMEOUT), 1, [], true),
    },
  },
  {
    id: 'truncated',
    label: 'truncated body (half the Content-Length, then the connection closes), once',
    fault: () => ({ kind: 'truncated' }),
    times: 1,
    expect: {
      ...idempotent(ok([375]), { DELETE: ok([375], TEXT.deletedOnRetry) }),
      POST: fail(TEXT.postNoAnswer(TRUNCATED), 1, [], true),
    },
  },
  {
    id: 'malformed-json',
    label: 'malformed JSON at HTTP 200',
    fault: () => ({ kind: 'malformed' }),
    times: 1,
    expect: {
      ...idempotent(fail(TEXT.badResponse('JSON that is not a Cloudflare V4 envelope or is malformed'))),
      POST: fail(TEXT.postBadResponse('JSON that is not a Cloudflare V4 envelope or is malformed')),
    },
  },
  {
    id: 'html-200',
    label: 'HTML error page at HTTP 200',
    fault: () => ({ kind: 'html', status: 200 }),
    times: 1,
    expect: {
      ...idempotent(fail(TEXT.badResponse(String.raw`an HTML page instead of JSON \("api\.cloudflare\.com \| 200: OK"\)`))),
      POST: fail(TEXT.postBadResponse(String.raw`an HTML page instead of JSON \("api\.cloudflare\.com \| 200: OK"\)`)),
    },
  },
  {
    id: 'html-502',
    label: 'HTML error page at HTTP 502, once',
    fault: () => ({ kind: 'html', status: 502 }),
    times: 1,
    expect: { ...idempotent(ok([375])), POST: fail(TEXT.html502Post) },
  },
  {
    id: 'success-false-200',
    label: 'success:false with HTTP 200',
    fault: () => ({ kind: 'success_false' }),
    times: 1,
    expect: { ...idempotent(fail(TEXT.successFalse)), POST: fail(TEXT.successFalse) },
  },
  {
    id: 'missing-result',
    label: 'envelope without result (success:true, HTTP 200)',
    fault: () => ({ kind: 'missing_result' }),
    times: 1,
    // The emulator processes the request, then drops `result`. DELETE needs no result.
    expect: {
      GET: fail(TEXT.badResponse('the response envelope has no result')),
      PUT: fail(TEXT.badResponse('the response envelope has no result'), 1, [], true),
      DELETE: ok([], TEXT.plainDelete),
      POST: fail(TEXT.postBadResponse('the response envelope has no result'), 1, [], true),
    },
  },
  {
    id: 'extra-fields',
    label: 'unexpected extra fields (envelope, result_info, result)',
    fault: () => ({ kind: 'extra_fields' }),
    times: 1,
    expect: { ...idempotent(ok()), POST: ok() },
  },
  {
    id: 'huge-over-small-cap',
    label: 'body over the response cap (68 KB with a 64 KB cap)',
    fault: () => ({ kind: 'huge', bytes: SMALL_CAP_BYTES + 4 * 1024 }),
    times: 1,
    expect: { ...idempotent(fail(TEXT.tooLargeSmall)), POST: fail(TEXT.postTooLarge) },
  },
  {
    id: 'huge-over-default-cap',
    label: 'body over the default 10 MB cap (11 MB, Content-Length declared), RSS growth < 50 MB',
    fault: () => ({ kind: 'huge', bytes: 11 * 1024 * 1024 }),
    times: 1,
    harness: 'default-cap',
    expect: { ...idempotent(fail(TEXT.tooLargeDefault)), POST: fail(TEXT.postTooLarge) },
  },
];
