/**
 * Child process of the HTTP section (forked as `node --expose-gc --import tsx
 * bench/http-child.ts`, with IPC): the server as the CLI wires it, served over
 * HTTP twice from one wiring (stateful and --stateless) on loopback, in its
 * own process like a deployment, so the clients and the emulator in the
 * parent do not count against its memory or CPU. Answers `sample` (memory
 * after full GCs, and the open sessions), `cpu` (its CPU time) and `close` over IPC.
 */
import { createUndiciFetch } from '../src/node/undici-fetch.js';
import { serveHttp } from '../src/transports/http.js';
import { wire } from '../src/wiring.js';
import type { Upstream } from './setup.js';

export type HttpChildRequest = { type: 'sample' } | { type: 'cpu' } | { type: 'close' };
export type HttpChildMessage =
  | { type: 'ready'; stateful: string; stateless: string }
  | { type: 'sample'; rss: number; heapUsed: number; sessions: number; gcExposed: boolean }
  /** CPU time (user + system) this process has used, in microseconds. */
  | { type: 'cpu'; micros: number };

const upstream = JSON.parse(process.env.BENCH_HTTP ?? '{}') as Upstream;
const gc = (globalThis as { gc?: () => void }).gc;
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const network = createUndiciFetch();
const wired = wire({
  settings: { baseUrl: upstream.baseUrl, defaultAccountId: upstream.accountId, logLevel: 'error' },
  fetch: network.fetch,
  credentials: { CLOUDFLARE_API_TOKEN: upstream.token },
  logSink: () => {},
});
const common = { host: '127.0.0.1', port: 0, createServer: wired.createServer, logger: wired.logger, redactor: wired.services.redactor };
const stateful = await serveHttp(common);
const stateless = await serveHttp({ ...common, stateless: true });

const send = (message: HttpChildMessage) => process.send?.(message);

/** Reachable memory only: full GC with a timer turn between (finalizers clear AbortSignal timers), as bench/memory-child.ts. */
async function sample(): Promise<HttpChildMessage> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await pause(10);
  }
  const usage = process.memoryUsage();
  return { type: 'sample', rss: usage.rss, heapUsed: usage.heapUsed, sessions: stateful.sessionCount() + stateless.sessionCount(), gcExposed: gc !== undefined };
}

async function close(): Promise<void> {
  await Promise.all([stateful.close(), stateless.close()]);
  await network.close();
  process.disconnect?.();
}

process.on('message', (request: HttpChildRequest) => {
  if (request.type === 'sample') void sample().then(send);
  else if (request.type === 'cpu') {
    const usage = process.cpuUsage();
    send({ type: 'cpu', micros: usage.user + usage.system });
  } else void close();
});
send({ type: 'ready', stateful: stateful.url, stateless: stateless.url });
