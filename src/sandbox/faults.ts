/**
 * Fault injection for the emulator: the ways the real API (or the network in
 * front of it) misbehaves, queued by tests and consumed one request at a time.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'reset'; after?: 'receive' | 'process' }
  | { kind: 'hang' }
  | { kind: 'delay'; phase: 'headers' | 'body'; ms: number }
  | { kind: 'truncated' }
  | { kind: 'malformed' }
  | { kind: 'html'; status?: number }
  | { kind: 'success_false'; code?: number; message?: string }
  | { kind: 'missing_result' }
  | { kind: 'extra_fields' }
  | { kind: 'huge'; bytes: number }
  /** A 3xx with a Location header and a small HTML body; nothing is applied. */
  | { kind: 'redirect'; status: 301 | 302 | 303 | 307 | 308; location: string };

export interface FaultRule {
  fault: Fault;
  /** How many matching requests this rule applies to. Default 1. */
  times?: number;
  /** Only requests with this method (case-insensitive). Undefined = any. */
  method?: string;
  /** Only requests whose path + query contains this text. Undefined = any. */
  pathIncludes?: string;
}

interface QueuedRule {
  rule: FaultRule;
  remaining: number;
}

/** Rules in the order they were injected; the first match with uses left wins. */
export class FaultQueue {
  private rules: QueuedRule[] = [];

  add(rule: FaultRule): void {
    const times = rule.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new RangeError('FaultRule.times must be a whole number >= 1');
    this.rules.push({ rule: { ...rule, fault: { ...rule.fault } }, remaining: times });
  }

  clear(): void {
    this.rules = [];
  }

  /** Consumes one use of the first matching rule, if any. */
  take(method: string, url: string): Fault | undefined {
    for (const queued of this.rules) {
      const { rule } = queued;
      if (queued.remaining <= 0) continue;
      if (rule.method !== undefined && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (rule.pathIncludes !== undefined && !url.includes(rule.pathIncludes)) continue;
      queued.remaining -= 1;
      this.rules = this.rules.filter((q) => q.remaining > 0);
      return rule.fault;
    }
    return undefined;
  }
}

/** Cloudflare's own codes where we know them; otherwise 10000 + status, unique and >= 1000 as the schema requires. */
export function errorForStatus(status: number): { code: number; message: string } {
  if (status === 429) return { code: 971, message: 'Please wait and consider throttling your request speed' };
  return { code: 10_000 + status, message: STATUS_CODES[status] ?? 'Error' };
}

/** The kind of page Cloudflare's edge serves when the origin API is unreachable. */
export function htmlErrorPage(status: number): string {
  const reason = STATUS_CODES[status] ?? 'Error';
  return [
    '<!DOCTYPE html>',
    '<html lang="en-US">',
    `<head><title>api.cloudflare.com | ${status}: ${reason}</title><meta charset="UTF-8" /></head>`,
    '<body>',
    `<div id="cf-error-details"><h1>${reason}</h1><span class="cf-error-code">Error code ${status}</span>`,
    '<p>The web server reported a bad gateway error.</p>',
    `<p>Cloudflare Ray ID: <strong>8c1f2e3d4a5b6c7d</strong></p></div>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The small page a server sends with a redirect; the target is escaped, never interpreted. */
export function redirectPage(status: number, location: string): string {
  const escaped = location.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<html><head><title>${status} ${STATUS_CODES[status] ?? 'Redirect'}</title></head><body><a href="${escaped}">moved here</a></body></html>\n`;
}

/** A body that starts like an envelope and stops mid-object: content-type says JSON, parsing fails. */
export const MALFORMED_JSON_BODY = '{"success":true,"errors":[],"messages":[],"result":[{"id":"3f0c6a52-9d1e-4b7a-a3c5-7e2d8f1b6049","email":"alice@corp.ex';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Adds fields a client must tolerate: at envelope level, in result_info, and on every result item. */
export function withExtraFields(envelope: Record<string, unknown>): Record<string, unknown> {
  const decorate = (item: unknown): unknown =>
    isRecord(item) ? { ...item, x_sandbox_extra: 'unexpected field', policy_flags: { beta: true, tier: 'enterprise' } } : item;
  const result = envelope['result'];
  const resultInfo = envelope['result_info'];
  return {
    ...envelope,
    result: Array.isArray(result) ? result.map(decorate) : decorate(result),
    ...(isRecord(resultInfo) ? { result_info: { ...resultInfo, cursor: 'c2FuZGJveA' } } : {}),
    request_id: '5b1c9e7a-2f4d-4e8a-9c3b-7d6e5f4a3b2c',
    api_version: '2026-07-27',
  };
}

/**
 * Streams a valid V4 list envelope of about `bytes` bytes without building it
 * in memory. Content-Length is exact, so clients can refuse it up front.
 */
export async function writeHugeResponse(res: ServerResponse, bytes: number, extraHeaders: Record<string, string>): Promise<void> {
  const item = JSON.stringify({
    id: '00000000-0000-4000-8000-000000000000',
    uid: '00000000-0000-4000-8000-000000000000',
    seat_uid: '0'.repeat(32),
    email: 'bulk.user@corp.example',
    name: 'Bulk User',
    access_seat: false,
    gateway_seat: false,
    active_device_count: 0,
    created_at: '2024-01-01T00:00:00.000000Z',
    updated_at: '2024-01-01T00:00:00.000000Z',
  });
  const head = '{"success":true,"errors":[],"messages":[],"result":[';
  const tailFor = (count: number) => `],"result_info":{"page":1,"per_page":${count},"count":${count},"total_count":${count},"total_pages":1}}`;
  let count = Math.max(1, Math.floor((bytes - head.length - tailFor(0).length) / (item.length + 1)));
  if (!Number.isFinite(count)) count = 1;
  const tail = tailFor(count);
  const total = head.length + count * item.length + (count - 1) + tail.length;
  res.writeHead(200, { ...extraHeaders, 'content-type': 'application/json', 'content-length': String(total) });

  // Chunks of ~64 KiB, waiting for drain so a slow (or gone) client never makes us buffer the lot.
  const perChunk = Math.max(1, Math.floor(65_536 / (item.length + 1)));
  const chunkOf = (n: number) => Array.from({ length: n }, () => item).join(',');
  const fullChunk = chunkOf(perChunk);
  let written = 0;
  if (!(await write(res, head))) return;
  while (written < count) {
    const n = Math.min(perChunk, count - written);
    const text = (written > 0 ? ',' : '') + (n === perChunk ? fullChunk : chunkOf(n));
    written += n;
    if (!(await write(res, text))) return;
  }
  if (!res.destroyed) res.end(tail);
}

/** Resolves true once the chunk is accepted (or drained), false if the connection went away. */
function write(res: ServerResponse, chunk: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  if (res.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
