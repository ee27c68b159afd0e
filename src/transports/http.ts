/**
 * The shared HTTP app (src/http/app.ts) served on Node: node:http through
 * @hono/node-server, plus legacy SSE (sse.ts), which needs Node's response
 * object and so lives here, beside the app, not in it. Also the Node-only
 * chores: listening, the idle-session sweeper, closing connections.
 */
import { createServer as createHttpServer, type Server as NodeHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { AccessSettings, AccessVerifierOptions } from '../http/access.js';
import { createHttpApp, type HttpLimits } from '../http/app.js';
import type { ServerFactory } from '../http/credentials.js';
import { isLoopbackHost, listedHostPolicy } from '../http/hosts.js';
import type { Logger } from '../log.js';
import type { Redactor } from '../redact.js';
import { createSseRoutes, nodeBindings, onceClosed } from './sse.js';

export interface HttpOptions extends Partial<HttpLimits> {
  host: string;
  port: number;
  createServer: ServerFactory;
  logger: Logger;
  /** The wiring's Redactor, so error lines never carry the server's own secrets. */
  redactor?: Redactor;
  /** Endpoint auth: `Authorization: Bearer <bearer>` on every request. */
  bearer?: string | undefined;
  /** Endpoint auth: a verified Cloudflare Access JWT on every request. */
  access?: AccessSettings | undefined;
  accessOptions?: AccessVerifierOptions;
  /** Host header names beyond this server's loopback names (`host` any port, or `host:port`). */
  allowedHosts?: readonly string[];
  allowedOrigins?: readonly string[];
  stateless?: boolean;
}

export interface HttpHandle {
  /** Base URL, e.g. http://127.0.0.1:8787 */
  url: string;
  port: number;
  /** Shutdown began: no new session (a new initialize gets 503); sessions in flight keep being served. */
  stopAccepting(): void;
  /** Open sessions, Streamable HTTP and SSE together. */
  sessionCount(): number;
  close(): Promise<void>;
}

/** On close: how long answers on their way out may take, before sessions close and then before connections are cut. */
const CLOSE_SETTLE_MS = 2_000;

/** Node says when a response is done: its 'close' (sent, or the client went away); no body wrapper needed. */
function whenResponseClosed(env: unknown, done: () => void): boolean {
  onceClosed(nodeBindings(env).outgoing, done);
  return true;
}

function listen(server: NodeHttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function serveHttp(options: HttpOptions): Promise<HttpHandle> {
  const auth = { bearer: options.bearer, access: options.access };
  // The CLI refuses this with a friendlier message first (src/node/config.ts); this is the last line.
  if (!isLoopbackHost(options.host) && !auth.bearer && !auth.access) {
    throw new Error(`refusing to serve ${options.host} without endpoint auth: set MCP_HTTP_BEARER or the Cloudflare Access options`);
  }
  // No request listener until the port (and so the Host policy) is known: nothing is answered before.
  const httpServer = createHttpServer();
  const port = await listen(httpServer, options.port, options.host);
  const app = createHttpApp({
    createServer: options.createServer,
    logger: options.logger,
    redactor: options.redactor,
    auth,
    accessOptions: options.accessOptions,
    hostPolicy: listedHostPolicy(options.host, port, { hosts: options.allowedHosts, origins: options.allowedOrigins }),
    limits: { maxBodyBytes: options.maxBodyBytes, sessionIdleMs: options.sessionIdleMs, maxSessions: options.maxSessions },
    stateless: options.stateless,
    legacy: createSseRoutes,
    whenSent: whenResponseClosed,
  });
  // The adapter's default: its lightweight Request/Response stand in for the globals (they still pass
  // instanceof), which spares building a full web Response per answer; this alone is ~1.6× the calls/s.
  httpServer.on('request', getRequestListener((request, env) => app.fetch(request, env), { overrideGlobalObjects: true }));

  // Sessions whose client vanished without closing would otherwise live as long as the process.
  const { sessionIdleMs } = app.limits;
  const sweeper = setInterval(() => app.sweep(), Math.min(60_000, Math.max(10, Math.floor(sessionIdleMs / 2))));
  sweeper.unref();
  const displayHost = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${displayHost}:${port}`,
    port,
    stopAccepting: () => app.stopAccepting(),
    sessionCount: () => app.table.size,
    async close() {
      clearInterval(sweeper);
      app.stopAccepting();
      // Results of calls that just finished are still being written: let them out before sessions close.
      await app.quiet(CLOSE_SETTLE_MS);
      await app.closeSessions();
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      // Streams that just ended may still be flushing; a client that never reads is cut off after that.
      const cutOff = setTimeout(() => httpServer.closeAllConnections(), CLOSE_SETTLE_MS);
      await closed;
      clearTimeout(cutOff);
    },
  };
}
