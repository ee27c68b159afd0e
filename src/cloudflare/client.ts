/**
 * The one Cloudflare API client: builds URLs, sends credentials, speaks the
 * V4 envelope, retries, and turns every failure into a CloudflareApiError.
 *
 * Portable by construction: the network is a fetch-shaped function passed in
 * (undici on Node, the platform fetch on Workers), and settings are a plain
 * object, never process.env.
 */
import { z } from 'zod';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { RequestGate } from './concurrency.js';
import { CloudflareApiError, type ApiErrorDetails, type CloudflareMessage } from './errors.js';
import {
  DEFAULT_RETRY_POLICY,
  realClock,
  runWithRetry,
  type AttemptOutcome,
  type AttemptReport,
  type HttpMethod,
  type RetryClock,
  type RetryGate,
  type RetryPolicy,
  type RetryRun,
} from './retry.js';

/** The reason a deadline aborts with, so an abort can tell a timeout from a cancellation. */
export function deadlineReason(): Error {
  const reason = new Error('deadline passed');
  reason.name = 'TimeoutError';
  return reason;
}

export function isDeadlineAbort(signal: AbortSignal | undefined): boolean {
  return (signal?.reason as { name?: unknown } | undefined)?.name === 'TimeoutError';
}

export const DEFAULT_BASE_URL = 'https://api.cloudflare.com/client/v4';

/** The part of a fetch Response we use; undici's and the platform's both fit. */
export interface FetchResponse {
  status: number;
  headers: { get(name: string): string | null };
  body: ReadableStream<Uint8Array> | null;
  /**
   * Optional, for a seam that can do better than a web stream (the Node one, on undici.request): the body as
   * UTF-8 text, read to the end, or `undefined` (and the rest discarded) once more than maxBytes arrived.
   * Without it the body stream is read.
   */
  readText?(maxBytes: number): Promise<string | undefined>;
}
export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Always 'manual': a redirect is answered, never followed (credentials must not reach another host). */
  redirect: 'manual';
}
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponse>;

export interface ClientSettings {
  baseUrl: string;
  fetch: FetchLike;
  /** Deadline for one call, all attempts and waits included. */
  timeoutMs?: number;
  maxResponseBytes?: number;
  retry?: Partial<RetryPolicy>;
  clock?: RetryClock;
  logger?: Logger;
  userAgent?: string;
}

export interface ApiRequest {
  method: HttpMethod;
  /** Path segments below the base URL; each is encoded, none may be '.' or '..'. */
  path: readonly string[];
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Credential headers from the auth resolver. */
  authHeaders: Record<string, string>;
  /** The call's cancellation and deadline: aborted, nothing more is sent and no retry wait goes on. */
  signal?: AbortSignal;
  /** The call's deadline on the client's clock; defaults to now + timeoutMs. */
  deadlineAt?: number;
  /** Told after every attempt (for the caller's log); nothing is built for it when absent. */
  onAttempt?: (attempt: UpstreamAttempt) => void;
  /** The fan-out's shared wait (createGate): no attempt starts while it is closed, and a 429 closes it. */
  gate?: RetryGate;
}

/** One attempt of a request, for a log: what happened and what comes next; never the URL, headers or body. */
export interface UpstreamAttempt {
  method: HttpMethod;
  /** 1-based. */
  attempt: number;
  /** The HTTP status, when an answer came. */
  status?: number;
  /** No usable answer: the connection or body broke (network), the deadline passed, or the call was cancelled. */
  failure?: 'network' | 'deadline' | 'cancelled';
  /** How long the attempt took, on the client's clock. */
  ms: number;
  /** Answered 429: Cloudflare's rate limit. */
  rateLimited: boolean;
  /** The wait before the next attempt, when one follows. */
  retryInMs?: number;
}

export interface ApiResponse {
  status: number;
  result: unknown;
  resultInfo: unknown;
  attempts: number;
  /** A DELETE whose first response was lost, and whose retry found the user already gone. */
  deletedOnRetry?: boolean;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

const messageSchema = z.looseObject({ code: z.number(), message: z.string() });
const envelopeSchema = z.looseObject({
  success: z.boolean(),
  errors: z.array(messageSchema).nullish(),
  messages: z.array(z.unknown()).nullish(),
  result: z.unknown().optional(),
  result_info: z.unknown().optional(),
});
type Envelope = z.infer<typeof envelopeSchema>;

// Ids are validated by the tools' schemas; this is the last line of defence before a URL.
const SAFE_SEGMENT = /^[A-Za-z0-9_@.+-]{1,128}$/;

/** What one attempt ended with: either a parsed envelope or a failure to report. */
type AttemptValue = { envelope: Envelope; status: number } | { failure: CloudflareApiError };
type AttemptResult = { value: AttemptValue; outcome: AttemptOutcome };
type AttemptFailer = (failure: Omit<ApiErrorDetails, 'attempts' | 'method'>, outcome: AttemptOutcome) => AttemptResult;

export class CloudflareClient {
  private readonly baseUrl: string;
  private readonly policy: RetryPolicy;
  private readonly clock: RetryClock;
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(private readonly settings: ClientSettings) {
    this.baseUrl = settings.baseUrl.replace(/\/+$/, '');
    this.policy = { ...DEFAULT_RETRY_POLICY, ...settings.retry };
    this.clock = settings.clock ?? realClock;
    this.logger = settings.logger ?? silentLogger;
    this.timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = settings.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  /** A shared wait for the requests of one call's fan-outs, on this client's clock (see ./concurrency.ts). */
  createGate(signal?: AbortSignal): RequestGate {
    return new RequestGate(this.clock, signal);
  }

  buildUrl(path: readonly string[], query?: ApiRequest['query']): string {
    for (const segment of path) {
      if (!SAFE_SEGMENT.test(segment) || segment === '.' || segment === '..') {
        throw new Error(`Refusing to build a Cloudflare API path from an unsafe segment (${JSON.stringify(segment.slice(0, 40))}).`);
      }
    }
    let url = `${this.baseUrl}/${path.map(encodeURIComponent).join('/')}`;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== '') params.set(key, String(value));
    }
    const search = params.toString();
    if (search) url += `?${search}`;
    return url;
  }

  async request(req: ApiRequest): Promise<ApiResponse> {
    const url = this.buildUrl(req.path, req.query);
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(this.settings.userAgent ? { 'user-agent': this.settings.userAgent } : {}),
      ...req.authHeaders,
    };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    const limits = this.callLimits(req);
    let run: RetryRun<AttemptValue>;
    try {
      // A request of a rate-limited fan-out waits before its first attempt too.
      await req.gate?.ready();
      // A call cancelled (or out of time) before its first request sends nothing at all.
      if (limits.signal.aborted) throw this.abortError(req.method, limits.signal, 0, undefined);
      const init: FetchInit = { method: req.method, headers, body, signal: limits.signal, redirect: 'manual' };
      const onAttempt = req.onAttempt && attemptObserver(req.method, req.onAttempt);
      run = await runWithRetry<AttemptValue>(req.method, (attempt) => this.attempt(url, init, attempt), this.policy, this.clock, { ...limits, onAttempt, gate: req.gate });
    } finally {
      limits.release();
    }
    const mayHaveApplied = [...run.earlier, run.outcome].some(mightHaveBeenApplied);
    if (run.interrupted) {
      const last = 'failure' in run.value ? run.value.failure : undefined;
      throw this.abortError(req.method, limits.signal, run.attempts, last, mayHaveApplied);
    }
    const { value, attempts } = run;

    if ('failure' in value) {
      // A DELETE whose earlier response was lost may have succeeded: a 404 now means it is gone.
      if (
        req.method === 'DELETE' &&
        value.failure.status === 404 &&
        // Only an attempt whose answer we never saw, or a gateway's 502/504 (the request may have gone through
        // behind it), may have done the delete; a 503 or any other answer means it did not.
        run.earlier.some((o) => o.kind === 'network' || (o.kind === 'response' && (o.status === 502 || o.status === 504)))
      ) {
        return { status: 404, result: null, resultInfo: undefined, attempts, deletedOnRetry: true };
      }
      const retryAfterMs = run.final.retry ? undefined : run.final.retryAfterMs;
      // A wait cut short by the deadline is reported with the upstream failure that asked for it (a 429 says
      // when to try again), not as a timeout.
      throw new CloudflareApiError({
        kind: value.failure.kind,
        method: req.method,
        status: value.failure.status,
        errors: value.failure.errors,
        detail: value.failure.detail,
        attempts,
        retryAfterSeconds: retryAfterMs !== undefined ? Math.ceil(retryAfterMs / 1000) : undefined,
        mayHaveApplied,
      });
    }
    return { status: value.status, result: value.envelope.result, resultInfo: value.envelope.result_info, attempts };
  }

  /**
   * The signal and deadline one request runs under: the caller's, or, for a caller that brings none, a
   * deadline of our own. A timer we clear ourselves rather than AbortSignal.timeout(), whose timer and
   * listeners outlive the call until a GC finalizer runs.
   */
  private callLimits(req: ApiRequest): { signal: AbortSignal; deadlineAt: number; release(): void } {
    if (req.signal) return { signal: req.signal, deadlineAt: req.deadlineAt ?? this.clock.now() + this.timeoutMs, release: () => {} };
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(deadlineReason()), this.timeoutMs);
    return { signal: deadline.signal, deadlineAt: req.deadlineAt ?? this.clock.now() + this.timeoutMs, release: () => clearTimeout(timer) };
  }

  /** What an aborted call reports: a timeout, or a cancellation; with the last upstream answer if any. */
  private abortError(
    method: HttpMethod,
    signal: AbortSignal,
    attempts: number,
    last: CloudflareApiError | undefined,
    mayHaveApplied = false,
  ): CloudflareApiError {
    const timedOut = isDeadlineAbort(signal);
    return new CloudflareApiError({
      kind: timedOut ? 'timeout' : 'cancelled',
      method,
      status: last?.status,
      errors: last?.errors,
      attempts,
      mayHaveApplied,
      detail: timedOut ? `no answer within ${Math.round(this.timeoutMs / 1000)} s` : 'the call was cancelled',
    });
  }

  /** An attempt stopped by the call's signal: a timeout or a cancellation, never retried. */
  private abortedAttempt(signal: AbortSignal, fail: AttemptFailer, status: number | undefined): AttemptResult {
    if (isDeadlineAbort(signal)) {
      return fail({ kind: 'timeout', status, detail: `no ${status ? 'complete ' : ''}answer within ${Math.round(this.timeoutMs / 1000)} s` }, { kind: 'deadline' });
    }
    return fail({ kind: 'cancelled', status, detail: 'the call was cancelled' }, { kind: 'cancelled' });
  }

  private async attempt(url: string, init: FetchInit, attempt: number): Promise<AttemptResult> {
    const started = this.clock.now();
    const fail: AttemptFailer = (failure, outcome) => ({
      value: { failure: new CloudflareApiError({ ...failure, method: init.method, attempts: attempt }) },
      outcome,
    });
    let response: FetchResponse;
    try {
      response = await this.settings.fetch(url, init);
    } catch (error) {
      if (init.signal?.aborted) return this.abortedAttempt(init.signal, fail, undefined);
      const reason = networkReason(error);
      this.logger.warn('cloudflare request failed', { method: init.method, attempt, reason });
      return fail({ kind: 'network', detail: reason }, { kind: 'network', reason });
    }

    const status = response.status;
    const retryAfter = response.headers.get('retry-after');
    const outcome: AttemptOutcome = { kind: 'response', status, retryAfter };
    if (status >= 300 && status < 400) {
      // Never followed: the next hop would get our credentials, or its answer would pass for Cloudflare's.
      await response.body?.cancel().catch(() => {});
      return fail({ kind: 'redirect', status, detail: redirectTarget(response.headers.get('location'), url) }, outcome);
    }
    let text: string;
    try {
      text = await readCapped(response, this.maxResponseBytes);
    } catch (error) {
      if (error instanceof ResponseTooLargeError) {
        return fail({ kind: 'too_large', status, detail: `over ${formatBytes(this.maxResponseBytes)}` }, outcome);
      }
      if (init.signal?.aborted) return this.abortedAttempt(init.signal, fail, status);
      const reason = `response body interrupted: ${networkReason(error)}`;
      return fail({ kind: 'network', status, detail: reason }, { kind: 'network', reason });
    }
    this.logger.debug('cloudflare response', { method: init.method, status, attempt, ms: this.clock.now() - started });

    const envelope = parseEnvelope(text);
    if (!envelope) {
      const detail = describeUnparsable(text, response.headers.get('content-type'));
      // A 5xx/429 HTML page is still a retryable status; the status decides, not the body.
      return fail({ kind: status >= 200 && status < 300 ? 'bad_response' : 'api', status, detail }, outcome);
    }
    const errors: CloudflareMessage[] = (envelope.errors ?? []).map((e) => ({ code: e.code, message: e.message }));
    if (status < 200 || status >= 300 || !envelope.success) {
      return fail({ kind: 'api', status, errors }, { ...outcome, refused: true });
    }
    if (envelope.result === undefined && init.method !== 'DELETE') {
      return fail({ kind: 'bad_response', status, detail: 'the response envelope has no result' }, outcome);
    }
    return { value: { envelope, status }, outcome };
  }
}

class ResponseTooLargeError extends Error {}

/** Turns the retry loop's report into the caller's UpstreamAttempt; an observer that throws cannot fail the request. */
function attemptObserver(method: HttpMethod, onAttempt: (attempt: UpstreamAttempt) => void): (report: AttemptReport) => void {
  return ({ attempt, outcome, decision, ms }) => {
    const report: UpstreamAttempt = { method, attempt, ms, rateLimited: outcome.kind === 'response' && outcome.status === 429 };
    if (outcome.kind === 'response') report.status = outcome.status;
    else report.failure = outcome.kind;
    if (decision.retry) report.retryInMs = decision.delayMs;
    try {
      onAttempt(report);
    } catch {
      // Logging must never change what a request does.
    }
  };
}

/**
 * Whether an attempt may have changed something upstream: no (complete) answer, a success, a redirect,
 * or a gateway's 502/504 (the request may have gone through behind it). A 4xx or other 5xx is a refusal.
 */
function mightHaveBeenApplied(outcome: AttemptOutcome): boolean {
  if (outcome.kind !== 'response') return true;
  if (outcome.status === 502 || outcome.status === 504) return true;
  // A failure envelope (even at HTTP 200) is Cloudflare's refusal; an unreadable 2xx or a 3xx is not.
  return !outcome.refused && outcome.status < 400;
}

/** Where a redirect pointed, as much as is safe to say: the host (or that it named none), never the path. */
function redirectTarget(location: string | null, from: string): string {
  if (!location) return 'a redirect with no Location';
  try {
    const target = new URL(location, from);
    return target.host === new URL(from).host ? `a redirect to another path on ${target.host}` : `a redirect to ${target.host}`;
  } catch {
    return 'a redirect to an unparsable Location';
  }
}

/** "10 MB", "1.5 MB", "64 KB": never "0 MB" for a cap under half a megabyte. */
function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / 1024 / 1024).toFixed(1))} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** Reads at most maxBytes; stops reading (and cancels the stream) past it, so memory stays bounded. */
async function readCapped(response: FetchResponse, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new ResponseTooLargeError();
  }
  if (response.readText) {
    const text = await response.readText(maxBytes);
    if (text === undefined) throw new ResponseTooLargeError();
    return text;
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let received = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new ResponseTooLargeError();
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

function parseEnvelope(text: string): Envelope | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = envelopeSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

function describeUnparsable(text: string, contentType: string | null): string {
  const trimmed = text.trim();
  if (!trimmed) return 'empty body';
  if (/^<(!doctype|html)/i.test(trimmed) || contentType?.includes('html')) {
    const title = /<title>([^<]{0,120})<\/title>/i.exec(trimmed)?.[1]?.trim();
    return `an HTML page instead of JSON${title ? ` ("${title}")` : ''}`;
  }
  return trimmed.startsWith('{') || trimmed.startsWith('[') ? 'JSON that is not a Cloudflare V4 envelope or is malformed' : 'a body that is not JSON';
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNRESET: 'connection reset',
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
  UND_ERR_SOCKET: 'connection closed early',
};

/** A short, secret-free reason from fetch's error chain (undici puts the code in `cause`). */
function networkReason(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; current && typeof current === 'object' && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return NETWORK_REASONS[code] ? `${NETWORK_REASONS[code]}, ${code}` : code;
    current = (current as { cause?: unknown }).cause;
  }
  return error instanceof Error ? error.message : 'unknown network error';
}
