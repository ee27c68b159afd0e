/**
 * One typed error for everything that can go wrong between us and Cloudflare:
 * kind, status, Cloudflare's codes, attempts, when to retry. No wording for a
 * model here: the tools layer (src/tools/errors.ts) turns it into a sentence.
 */
import { patternRedactor } from '../redact.js';

export type ApiErrorKind =
  | 'api' //            Cloudflare answered with an error envelope or a non-2xx status
  | 'bad_response' //   2xx that is not a usable V4 envelope (HTML page, invalid JSON, no result)
  | 'network' //        no complete response: reset, refused, header/body timeout, truncated body
  | 'timeout' //        the call's overall deadline passed
  | 'cancelled' //      the caller cancelled the call; nothing more was sent
  | 'redirect' //       a 3xx: never followed, so credentials reach no other host
  | 'too_large'; //     body over the response-size cap

export interface CloudflareMessage {
  code: number;
  message: string;
}

export interface ApiErrorDetails {
  kind: ApiErrorKind;
  method: string;
  status?: number;
  errors?: CloudflareMessage[];
  attempts: number;
  /** Seconds the caller should wait before trying again (429). */
  retryAfterSeconds?: number;
  /** Short technical detail: network error code, body snippet. */
  detail?: string;
  /**
   * Whether any attempt may have been applied upstream: one that got no (complete) answer, a success, a
   * redirect, or a gateway's 502/504. False when every attempt was answered with a refusal, or none was sent.
   */
  mayHaveApplied?: boolean;
}

export class CloudflareApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly method: string;
  readonly status: number | undefined;
  readonly errors: CloudflareMessage[];
  readonly attempts: number;
  readonly retryAfterSeconds: number | undefined;
  readonly detail: string | undefined;
  readonly mayHaveApplied: boolean;

  constructor(details: ApiErrorDetails) {
    const codes = (details.errors ?? []).map((e) => `${e.code}: ${e.message}`).join('; ');
    super(patternRedactor.text(`Cloudflare API ${details.kind} error${details.status ? ` (HTTP ${details.status})` : ''}${codes ? ` [${codes}]` : ''}${details.detail ? ` ${details.detail}` : ''}`));
    this.name = 'CloudflareApiError';
    this.kind = details.kind;
    this.method = details.method;
    this.status = details.status;
    this.errors = details.errors ?? [];
    this.attempts = details.attempts;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.detail = details.detail;
    this.mayHaveApplied = details.mayHaveApplied ?? false;
  }

  hasCode(...codes: number[]): boolean {
    return this.errors.some((e) => codes.includes(e.code));
  }
}
