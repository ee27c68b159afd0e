/**
 * One context per tools/call: everything a handler may use, built by runTool
 * from the server's services and from what the SDK knows about this request
 * (its cancellation signal, progress token, session, the client's abilities).
 *
 * - api: the typed endpoints, sending with this call's credentials, signal and deadline, and auditing
 *   every upstream write on its own line, with the real status of each;
 * - signal: the client's cancellation, the call's deadline and server shutdown, in one AbortSignal;
 * - progress / confirm / log: reach the calling client only.
 */
import type { ElicitRequestFormParams, ElicitResult, ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import type { CallIdentity, ResolvedAuth } from '../cloudflare/auth.js';
import { deadlineReason, type ApiResponse, type CloudflareClient, type UpstreamAttempt } from '../cloudflare/client.js';
import { Limiter, settleAll } from '../cloudflare/concurrency.js';
import { cloudflareEndpoints, type CloudflareEndpoints, type EndpointRequest } from '../cloudflare/endpoints.js';
import { CloudflareApiError } from '../cloudflare/errors.js';
import type { RetryClock } from '../cloudflare/retry.js';
import type { Logger, LogLevel } from '../log.js';
import type { Redactor } from '../redact.js';
import { ToolInputError } from './define.js';
import { scopedUserCache, type ScopedUserCache, type UserCache } from './user-cache.js';

/** What the person answered when asked to confirm; `unsupported` when this client cannot be asked. */
export type Confirmation = 'confirmed' | 'declined' | 'cancelled' | 'unsupported';

export interface ToolContext {
  /** Cloudflare's documented operations, with this call's credentials, signal and audit. */
  readonly api: CloudflareEndpoints;
  /** The account to act on: the argument, else the configured default; throws a ToolInputError when neither. */
  accountId(argument: string | undefined): string;
  /** Aborts on the client's cancellation, the call's deadline, or server shutdown. */
  readonly signal: AbortSignal;
  /** notifications/progress to the caller, when it sent a progressToken; nothing otherwise. */
  progress(done: number, total?: number, message?: string): Promise<void>;
  /** Whether confirm() can reach a person: the client declared elicitation and the transport can ask. */
  readonly canAsk: boolean;
  /** Asks the person (MCP elicitation) when the client can be asked; `unsupported` otherwise. */
  confirm(question: string): Promise<Confirmation>;
  /** A log notification to the calling client (stderr gets its own line through the logger). */
  log(level: LogLevel, data: Record<string, unknown>): Promise<void>;
  /** Response budget in characters (the trimmer's maxChars). */
  readonly maxResponseChars: number;
  /** Requests of this call in flight at once, at most (`--max-concurrency`): every fan-out of the call shares it. */
  readonly maxConcurrency: number;
  /**
   * Runs `task` per item, at most maxConcurrency at a time, and settles them all in order (one failure does
   * not stop the rest). The call's requests share one limit and one rate-limit wait (src/cloudflare/concurrency.ts).
   */
  fanOut<T, R>(items: readonly T[], task: (item: T, index: number) => Promise<R>): Promise<PromiseSettledResult<R>[]>;
  /** Email → user id resolutions for this call's credential (./user-cache.ts, used by ./resolve-user.ts). */
  readonly userCache: ScopedUserCache;
}

/** What the server passes for one request, taken from the SDK's request handler `extra`. */
export interface CallChannel {
  /** The client's cancellation of this request. */
  signal: AbortSignal;
  identity: CallIdentity;
  progressToken?: string | number | undefined;
  notify(notification: ServerNotification): Promise<void>;
  /** Present only when the client declared elicitation and the transport can carry a server request. */
  elicit?: ((params: ElicitRequestFormParams, options: { signal: AbortSignal; timeoutMs: number }) => Promise<ElicitResult>) | undefined;
  /** A logging notification to this request's session. */
  log(level: LogLevel, data: Record<string, unknown>): Promise<void>;
}

/** What every call shares: the server's services, built once by the wiring (src/wiring.ts). */
export interface ToolServices {
  client: CloudflareClient;
  /** Where each call's credentials come from (src/cloudflare/auth.ts). */
  credentials: (identity: CallIdentity) => ResolvedAuth;
  defaultAccountId?: string | undefined;
  maxResponseChars: number;
  /** Deadline for one tool call, every request and retry wait included. */
  timeoutMs: number;
  logger: Logger;
  /** Knows the server's own secrets; each call adds its credentials. */
  redactor: Redactor;
  /** The client's clock: deadlines are measured on it so that injected clocks stay consistent. */
  clock: Pick<RetryClock, 'now'>;
  calls: CallTracker;
  /** Requests one call may have in flight at once (`--max-concurrency`, default 4). */
  maxConcurrency: number;
  /** Email → user id per account and credential; every write through this server drops its account's entries. */
  userCache: UserCache;
}

export const ACCOUNT_ID_HELP =
  'No account_id given and CLOUDFLARE_ACCOUNT_ID is not set. Pass account_id (32 hex characters), or set CLOUDFLARE_ACCOUNT_ID in the server\'s environment. ' +
  'Find the Account ID in the Cloudflare dashboard: Account home > your account > Overview, right-hand column "Account ID" (also in the URL: dash.cloudflare.com/<account_id>).';

/** The reason shutdown aborts calls with: the calls it cuts off audit their writes as `unknown`. */
export function shutdownReason(): Error {
  const reason = new Error('the server is shutting down');
  reason.name = 'ShutdownError';
  return reason;
}

/**
 * The calls in flight, so shutdown can stop taking new ones, let those running finish for a grace period,
 * then cut off the rest (their writes are audited `unknown`).
 */
export class CallTracker {
  private readonly active = new Set<AbortController>();
  private readonly idleWaiters = new Set<() => void>();
  private closing = false;

  get size(): number {
    return this.active.size;
  }

  get accepting(): boolean {
    return !this.closing;
  }

  /** A controller for a new call, or undefined once shutdown has begun. */
  begin(): AbortController | undefined {
    if (this.closing) return undefined;
    const controller = new AbortController();
    this.active.add(controller);
    return controller;
  }

  end(controller: AbortController): void {
    this.active.delete(controller);
    if (this.active.size === 0) for (const wake of [...this.idleWaiters]) wake();
  }

  /** Resolves when no call is in flight, or after `ms`; true when idle. */
  private whenIdle(ms: number): Promise<boolean> {
    if (this.active.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (idle: boolean) => {
        clearTimeout(timer);
        this.idleWaiters.delete(wake);
        resolve(idle);
      };
      const wake = () => finish(true);
      const timer = setTimeout(() => finish(false), ms);
      this.idleWaiters.add(wake);
    });
  }

  /**
   * Stops taking calls; waits up to `graceMs` for those in flight; aborts what is left (shutdown reason),
   * then waits up to `settleMs` for the cut-off calls to write their audit lines. Returns how many were cut off.
   */
  async drain(graceMs: number, settleMs = 2_000): Promise<number> {
    this.closing = true;
    if (await this.whenIdle(graceMs)) return 0;
    const cutOff = this.active.size;
    for (const controller of this.active) controller.abort(shutdownReason());
    await this.whenIdle(settleMs);
    return cutOff;
  }
}

/** The audit outcome of one upstream write: what we know about whether Cloudflare applied it. */
function writeOutcome(error: unknown): { outcome: string; status?: number | undefined; attempts?: number | undefined } {
  if (!(error instanceof CloudflareApiError)) return { outcome: 'unknown' };
  const { status, attempts } = error;
  if (attempts === 0) return { outcome: 'not_sent', attempts };
  // Every attempt was answered with a refusal: nothing was applied. Otherwise (an attempt got no answer,
  // was cut off, redirected, or answered in a way that may hide a success) it is open.
  if (!error.mayHaveApplied && status !== undefined && status >= 400) return { outcome: 'failed', status, attempts };
  return { outcome: 'unknown', status, attempts };
}

/**
 * One upstream attempt as the calling client sees it in its log: method, path template (never the filled
 * path), status or failure, ms, attempt. Rate limits and retries are warnings; the rest is debug.
 */
function attemptSummary(toolName: string, request: EndpointRequest, attempt: UpstreamAttempt): { level: LogLevel; data: Record<string, unknown> } {
  const msg = attempt.rateLimited ? 'cloudflare rate limit' : attempt.retryInMs !== undefined ? 'cloudflare retry' : 'cloudflare request';
  const data = {
    msg,
    tool: toolName,
    request: `${request.method} ${request.operation.template}`,
    ...(attempt.status !== undefined ? { status: attempt.status } : { failure: attempt.failure }),
    ms: attempt.ms,
    attempt: attempt.attempt,
    ...(attempt.retryInMs !== undefined ? { retry_in_ms: attempt.retryInMs } : {}),
  };
  return { level: msg === 'cloudflare request' ? 'debug' : 'warning', data };
}

interface CallState {
  accountId: string | undefined;
}

export interface BuiltContext {
  context: ToolContext;
  redactor: Redactor;
  logger: Logger;
  auth: ResolvedAuth;
  state: CallState;
  /** Clears the deadline timer and detaches from the client's signal. */
  release(): void;
}

/** Combines the client's cancellation, the deadline timer and the tracker's shutdown abort into one signal. */
function callSignal(channel: CallChannel, tracked: AbortController, timeoutMs: number): { signal: AbortSignal; release(): void } {
  const onCancel = () => tracked.abort(channel.signal.reason ?? new Error('cancelled'));
  if (channel.signal.aborted) onCancel();
  else channel.signal.addEventListener('abort', onCancel, { once: true });
  const timer = setTimeout(() => tracked.abort(deadlineReason()), timeoutMs);
  return {
    signal: tracked.signal,
    release() {
      clearTimeout(timer);
      channel.signal.removeEventListener('abort', onCancel);
    },
  };
}

const CONFIRM_SCHEMA: ElicitRequestFormParams['requestedSchema'] = {
  type: 'object',
  properties: { confirm: { type: 'boolean', title: 'Confirm', description: 'Check to go ahead' } },
  required: ['confirm'],
};

export function buildContext(toolName: string, services: ToolServices, channel: CallChannel, tracked: AbortController): BuiltContext {
  const auth = services.credentials(channel.identity);
  const redactor = services.redactor.with(auth.secrets);
  const logger = services.logger.withRedactor(redactor);
  const state: CallState = { accountId: undefined };
  const { signal, release } = callSignal(channel, tracked, services.timeoutMs);
  const deadlineAt = services.clock.now() + services.timeoutMs;
  // One limit and one rate-limit wait for every request of this call, however many fan-outs it runs.
  const limiter = new Limiter(services.maxConcurrency);
  const gate = services.client.createGate(signal);

  const log = async (level: LogLevel, data: Record<string, unknown>): Promise<void> => {
    await channel.log(level, redactor.value(data)).catch(() => {});
  };

  const audit = async (request: EndpointRequest, result: { outcome: string; status?: number | undefined; attempts?: number | undefined }) => {
    const record = {
      tool: toolName,
      request: `${request.method} ${request.operation.template}`,
      ...request.subject,
      ...result,
      // Who asked for the write, when endpoint auth knows (Cloudflare Access); the credentials alone may be shared.
      ...(channel.identity.actor !== undefined ? { actor: channel.identity.actor } : {}),
    };
    logger.info('audit', record);
    await log('info', { msg: 'audit', ...record });
  };

  // After any write, applied or maybe applied: resolutions of that account may name a user that changed or went.
  const forgetResolutions = (request: EndpointRequest): void => {
    if (request.subject.account_id !== undefined) services.userCache.dropAccount(request.subject.account_id);
  };

  const send = async (request: EndpointRequest): Promise<ApiResponse> => {
    if (auth.kind === 'none') throw new ToolInputError(auth.message);
    const write = request.method !== 'GET';
    let response: ApiResponse;
    const summaries: Promise<void>[] = [];
    const onAttempt = (attempt: UpstreamAttempt): void => {
      const { level, data } = attemptSummary(toolName, request, attempt);
      summaries.push(log(level, data));
    };
    try {
      // The attempts' summaries are out before the audit line and the result (log() never rejects).
      response = await limiter
        .run(() => services.client.request({ ...request, authHeaders: auth.headers, signal, deadlineAt, onAttempt, gate }))
        .finally(() => Promise.all(summaries));
    } catch (error) {
      if (write) forgetResolutions(request);
      if (write) await audit(request, writeOutcome(error));
      throw error;
    }
    if (write) forgetResolutions(request);
    if (write) await audit(request, { outcome: response.deletedOnRetry ? 'deleted_on_retry' : 'ok', status: response.status, attempts: response.attempts });
    return response;
  };

  // The endpoints object (a closure per operation) is built on first use: a call refused before any request needs none.
  let api: CloudflareEndpoints | undefined;
  const context: ToolContext = {
    get api() {
      api ??= cloudflareEndpoints(send);
      return api;
    },
    accountId(argument) {
      state.accountId = argument ?? services.defaultAccountId;
      if (!state.accountId) throw new ToolInputError(ACCOUNT_ID_HELP);
      return state.accountId;
    },
    signal,
    canAsk: channel.elicit !== undefined,
    async progress(done, total, message) {
      if (channel.progressToken === undefined || signal.aborted) return;
      const params = { progressToken: channel.progressToken, progress: done, ...(total !== undefined ? { total } : {}), ...(message ? { message } : {}) };
      await channel.notify({ method: 'notifications/progress', params }).catch(() => {});
    },
    async confirm(question) {
      if (!channel.elicit) return 'unsupported';
      // The question is withdrawn when the call ends (deadline, cancel, shutdown); an unanswered question is
      // not a yes.
      let answer: ElicitResult;
      try {
        // No `mode`: clients on the 2025-06-18 spec know only form elicitation, and take params without it.
        answer = await channel.elicit({ message: question, requestedSchema: CONFIRM_SCHEMA }, { signal, timeoutMs: services.timeoutMs });
      } catch (error) {
        if (signal.aborted) return 'cancelled';
        throw error;
      }
      if (answer.action === 'accept') return answer.content?.confirm === true ? 'confirmed' : 'declined';
      return answer.action === 'decline' ? 'declined' : 'cancelled';
    },
    log,
    maxResponseChars: services.maxResponseChars,
    maxConcurrency: limiter.limit,
    fanOut: (items, task) => settleAll(items, limiter.limit, task),
    userCache: scopedUserCache(services.userCache, auth),
  };
  return { context, redactor, logger, auth, state, release };
}
