/**
 * The Node side of the client's fetch seam: undici's fetch on one keep-alive
 * pool with connect/headers/body timeouts. Workers pass their own fetch.
 */
import { Agent, fetch as undiciFetch } from 'undici';
import type { FetchLike } from '../cloudflare/client.js';

export interface UndiciSettings {
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  connections?: number;
}

export interface UndiciFetch {
  fetch: FetchLike;
  close(): Promise<void>;
}

export function createUndiciFetch(settings: UndiciSettings = {}): UndiciFetch {
  const dispatcher = new Agent({
    connect: { timeout: settings.connectTimeoutMs ?? 10_000 },
    headersTimeout: settings.headersTimeoutMs ?? 30_000,
    bodyTimeout: settings.bodyTimeoutMs ?? 30_000,
    keepAliveTimeout: settings.keepAliveTimeoutMs ?? 30_000,
    connections: settings.connections ?? 16,
  });
  const fetch: FetchLike = async (url, init) => {
    const response = await undiciFetch(url, {
      method: init.method,
      headers: init.headers,
      body: init.body,
      signal: init.signal,
      // Never followed: undici's default would send X-Auth-Key to whatever host a Location names.
      redirect: init.redirect,
      dispatcher,
    });
    // undici's web-stream types differ nominally from lib.dom's; the runtime object is the same.
    return response as unknown as Awaited<ReturnType<FetchLike>>;
  };
  return { fetch, close: () => dispatcher.close() };
}
