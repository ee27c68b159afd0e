/**
 * What provision_access_users and offboard_access_users share: plan/apply, the duplicate check that runs
 * before anything, and how one person's failure is told in a row (status, Cloudflare's code, why) without
 * failing the whole batch.
 */
import { z } from 'zod';
import { CloudflareApiError } from '../cloudflare/errors.js';

export const MAX_BATCH = 500;

export type Mode = 'plan' | 'apply';

export const modeField = z
  .enum(['plan', 'apply'], { error: 'mode must be "plan" or "apply"' })
  .optional()
  .describe('Default plan');

/** 1 to MAX_BATCH items: enforced, not advertised (the description says it once). */
export function batchOf<T extends z.ZodType>(item: T, error: string) {
  return z.array(item, { error }).refine((list) => list.length >= 1 && list.length <= MAX_BATCH, `users must list 1 to ${MAX_BATCH} people`);
}

/** The values that occur more than once, compared ignoring case, with their 1-based positions. */
export function duplicatesIgnoringCase(values: readonly string[]): string[] {
  const positions = new Map<string, number[]>();
  values.forEach((value, index) => positions.set(value.toLowerCase(), [...(positions.get(value.toLowerCase()) ?? []), index + 1]));
  return [...positions].filter(([, at]) => at.length > 1).map(([value, at]) => `${value} (items ${at.join(', ')})`);
}

/** A row's account of a failed request: HTTP status and Cloudflare's code when there was an answer, and why. */
export interface FailureFacts {
  status?: number;
  code?: number;
  reason: string;
}

/**
 * `write`: what the request was doing ("create", "rename", "delete"), so that an unanswered write says it may
 * have happened (a create is never retried blindly: the next plan shows whether it did).
 */
export function failureFacts(error: unknown, write: string): FailureFacts {
  if (!(error instanceof CloudflareApiError)) return { reason: error instanceof Error ? error.message : String(error) };
  const facts: FailureFacts = { reason: '' };
  if (error.status !== undefined) facts.status = error.status;
  const first = error.errors[0];
  if (first !== undefined) facts.code = first.code;
  if (error.kind === 'api') {
    facts.reason = first?.message ?? `HTTP ${error.status ?? '?'}`;
    if (error.status === 429) facts.reason += `: rate limited${error.retryAfterSeconds !== undefined ? `, try again after ${error.retryAfterSeconds} s` : ''}`;
  } else {
    const what = error.kind === 'cancelled' ? 'cancelled' : error.kind === 'timeout' ? 'out of time' : `${error.kind}${error.detail ? ` (${error.detail})` : ''}`;
    facts.reason = error.attempts === 0 ? `not sent: ${what}` : `${what}: the ${write} may or may not have happened; run plan to see`;
  }
  return facts;
}

/** Rows per value of `key` (the summary of a plan or an apply). */
export function countBy<T>(rows: readonly T[], key: (row: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) counts[key(row)] = (counts[key(row)] ?? 0) + 1;
  return counts;
}

/** Rows in the order `order` gives their `key` (what needs attention first); stable within a key. */
export function sortedBy<T, K>(rows: readonly T[], key: (row: T) => K, order: readonly K[]): T[] {
  return [...rows].sort((a, b) => order.indexOf(key(a)) - order.indexOf(key(b)));
}
