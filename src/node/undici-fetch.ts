/**
 * The Node side of the client's fetch seam: undici on one keep-alive pool with connect/headers/body timeouts.
 * Workers pass their own (platform) fetch; this one is fetch-shaped too (FetchLike), but sends with
 * `undici.request`, which skips the WHATWG fetch machinery (about a tenth of a millisecond per request), and
 * hands the client the body as text directly (`readText`), capped like the stream read.
 *
 * - Redirects: `request` never follows one (no redirect interceptor is installed): a 3xx is the answer, as
 *   `redirect: 'manual'` asks.
 * - undici is loaded on the first request, not at start: a server that only lists its tools never parses it
 *   (it is most of the bundle's start-up bytes).
 */
import { Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
import type { FetchLike, FetchResponse } from '../cloudflare/client.js';

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

type Undici = typeof import('undici');

/** undici's answer in the FetchResponse shape the client reads. */
function toFetchResponse(answer: Dispatcher.ResponseData): FetchResponse {
  const { body } = answer;
  let web: ReadableStream<Uint8Array> | undefined;
  return {
    status: answer.statusCode,
    headers: {
      get(name) {
        const value = answer.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    },
    // Only the rare paths (a redirect's or an oversize body's cancel) look at the stream.
    get body() {
      web ??= Readable.toWeb(body) as unknown as ReadableStream<Uint8Array>;
      return web;
    },
    async readText(maxBytes) {
      const chunks: Buffer[] = [];
      let received = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        received += chunk.byteLength;
        if (received > maxBytes) {
          body.destroy();
          return undefined;
        }
        chunks.push(chunk);
      }
      return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, received).toString('utf8');
    },
  };
}

export function createUndiciFetch(settings: UndiciSettings = {}): UndiciFetch {
  let loaded: { undici: Undici; dispatcher: Agent } | undefined;
  let loading: Promise<{ undici: Undici; dispatcher: Agent }> | undefined;
  let closed = false;
  const load = () =>
    (loading ??= import('undici').then((module: Undici & { default?: Undici }) => {
      // undici is CommonJS: bundled (dist/), its exports arrive on `default`; under tsx or tsc output, as named exports.
      const undici = typeof module.Agent === 'function' ? module : module.default!;
      const dispatcher = new undici.Agent({
        connect: { timeout: settings.connectTimeoutMs ?? 10_000 },
        headersTimeout: settings.headersTimeoutMs ?? 30_000,
        bodyTimeout: settings.bodyTimeoutMs ?? 30_000,
        keepAliveTimeout: settings.keepAliveTimeoutMs ?? 30_000,
        connections: settings.connections ?? 16,
      });
      loaded = { undici, dispatcher };
      // Closed before the first request finished loading: close this pool too.
      if (closed) void dispatcher.close();
      return loaded;
    }));

  const fetch: FetchLike = async (url, init) => {
    const { undici, dispatcher } = loaded ?? (await load());
    if (init.redirect !== 'manual') throw new Error('only redirect: "manual" is supported: a redirect is answered, never followed');
    const answer = await undici.request(url, {
      method: init.method as Dispatcher.HttpMethod,
      headers: init.headers,
      body: init.body,
      signal: init.signal,
      dispatcher,
    });
    return toFetchResponse(answer);
  };
  return {
    fetch,
    async close() {
      closed = true;
      if (loading) await (await loading).dispatcher.close();
    },
  };
}
