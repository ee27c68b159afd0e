/**
 * The one HTTP app (Hono, web-standard fetch): routing, Host/Origin, endpoint
 * auth, credential headers, body limits, sessions and health, written once
 * and served on Node (src/transports/http.ts, @hono/node-server) and on
 * Workers (src/worker.ts).
 *
 *   GET /healthz, GET /readyz   outside every check; tiny bodies that say nothing about the setup
 *   /mcp                        Streamable HTTP (stateful, or stateless per request)
 *   GET /sse, POST /messages    legacy SSE, when the host plugs it in (Node only: it needs Node's response)
 *
 * Order for everything else: Host/Origin → endpoint auth → credential headers → route. Nothing reaches MCP
 * (nor is a body read) before the caller is authenticated.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { Logger } from '../log.js';
import { patternRedactor, type Redactor } from '../redact.js';
import type { AccessVerifierOptions } from './access.js';
import { EndpointAuth, type EndpointAuthSettings } from './auth.js';
import { jsonRpcError, onBodyEnd, readJsonBody, SERVER_ERROR } from './body.js';
import { readRequestCredentials, SessionBinding, sessionServerOptions, type RequestCredentials, type ServerFactory } from './credentials.js';
import { isAllowedHostAndOrigin, type HostPolicy } from './hosts.js';
import { SessionTable, type TrackedSession } from './sessions.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './settings.js';
import { rebindRefused, shuttingDown, statefulMcp, statelessMcp, type McpHandler } from './streamable.js';

export { DEFAULT_HTTP_LIMITS, type HttpLimits } from './settings.js';

/** A new legacy SSE session: its binding and a server already built for its credentials and caller. */
export interface LegacyOpen {
  binding: SessionBinding;
  createServer: () => Server;
}

/** Legacy SSE, plugged in by the Node host; `env` is what the host passed to fetch (Node's request and response). */
export interface LegacyRoutes {
  openStream(request: Request, env: unknown, open: LegacyOpen): Promise<Response>;
  /** The body is already read under the cap; the session found and its binding checked. */
  postMessage(request: Request, env: unknown, session: TrackedSession, body: unknown): Promise<Response>;
}

export interface HttpAppOptions {
  createServer: ServerFactory;
  logger: Logger;
  /** The wiring's Redactor (knows the server's own secrets); request credentials are added per request. */
  redactor?: Redactor;
  auth: EndpointAuthSettings;
  accessOptions?: AccessVerifierOptions;
  hostPolicy: HostPolicy;
  limits?: Partial<HttpLimits>;
  /** No sessions: a fresh server per request (any replica answers any request); no legacy SSE. */
  stateless?: boolean;
  legacy?: (table: SessionTable) => LegacyRoutes;
  /**
   * The host's own way to learn that a response has been sent (Node: the response's 'close'), given the env
   * it passed to fetch; false when it has none, and the app wraps the body instead (Workers).
   */
  whenSent?: (env: unknown, done: () => void) => boolean;
}

export interface HttpApp {
  fetch(request: Request, env?: object): Promise<Response>;
  readonly table: SessionTable;
  readonly limits: HttpLimits;
  /** Shutdown began: a new initialize, stateless request or SSE stream gets 503 (no session); /readyz 503. */
  stopAccepting(): void;
  /** Closes sessions idle past the limit; call it periodically. */
  sweep(): void;
  /**
   * Resolves once no answer is being written (or after `ms`): a call that just finished still has its result
   * on the way out, and closing its session first would lose it.
   */
  quiet(ms: number): Promise<void>;
  closeSessions(): Promise<void>;
}

interface Variables {
  actor: string | undefined;
  credentials: RequestCredentials;
}
type AppEnv = { Bindings: object; Variables: Variables };
type AppContext = Context<AppEnv>;

const NOT_FOUND = 'Not found. MCP endpoint: /mcp (Streamable HTTP)';

export function createHttpApp(options: HttpAppOptions): HttpApp {
  const given = options.limits ?? {};
  const limits: HttpLimits = {
    maxBodyBytes: given.maxBodyBytes ?? DEFAULT_HTTP_LIMITS.maxBodyBytes,
    sessionIdleMs: given.sessionIdleMs ?? DEFAULT_HTTP_LIMITS.sessionIdleMs,
    maxSessions: given.maxSessions ?? DEFAULT_HTTP_LIMITS.maxSessions,
  };
  const { logger } = options;
  const redactor = options.redactor ?? patternRedactor;
  const table = new SessionTable({ maxSessions: limits.maxSessions, idleMs: limits.sessionIdleMs, logger });
  const auth = new EndpointAuth(options.auth, logger, options.accessOptions);
  let accepting = true;
  let statelessInFlight = 0;
  const beginStateless = () => {
    statelessInFlight += 1;
    return () => void (statelessInFlight -= 1);
  };
  const shared = { createServer: options.createServer, maxBodyBytes: limits.maxBodyBytes, accepting: () => accepting, begin: beginStateless };
  const mcp: McpHandler = options.stateless ? statelessMcp(shared) : statefulMcp({ ...shared, table });
  const legacy = options.stateless ? undefined : options.legacy?.(table);

  const guardHostAndOrigin: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (!isAllowedHostAndOrigin(c.req.raw.headers, c.req.url, options.hostPolicy)) {
      return jsonRpcError(403, SERVER_ERROR, 'Forbidden: Host or Origin is not a name of this server (see --allowed-hosts, --allowed-origins)');
    }
    await next();
  };

  const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
    const outcome = await auth.check(c.req.raw.headers, c.req.path);
    if (!outcome.ok) return outcome.response;
    c.set('actor', outcome.actor);
    await next();
  };

  const readCredentials: MiddlewareHandler<AppEnv> = async (c, next) => {
    const result = readRequestCredentials(c.req.raw.headers);
    if (!result.ok) return jsonRpcError(400, SERVER_ERROR, `Bad Request: ${result.message}`);
    c.set('credentials', result.value);
    await next();
  };

  const serveMcp = (c: AppContext) =>
    mcp({
      request: c.req.raw,
      credentials: c.get('credentials'),
      actor: c.get('actor'),
      settle: (response, done) => (options.whenSent?.(c.env, done) ? response : onBodyEnd(response, done)),
    });

  /** Legacy SSE is session-bound: a stateless server (and a Worker) has none to offer. */
  const noLegacy = () =>
    jsonRpcError(404, SERVER_ERROR, options.stateless ? 'Legacy SSE needs sessions and this server is stateless: use Streamable HTTP at /mcp' : NOT_FOUND);

  const openSse = async (c: AppContext) => {
    if (!legacy) return noLegacy();
    if (!accepting) return shuttingDown();
    const credentials = c.get('credentials');
    const actor = c.get('actor');
    const open: LegacyOpen = {
      binding: SessionBinding.of(credentials, actor),
      createServer: () => options.createServer(sessionServerOptions(credentials, actor, true)),
    };
    return legacy.openStream(c.req.raw, c.env, open);
  };

  const postSseMessage = async (c: AppContext) => {
    if (!legacy) return noLegacy();
    const session = table.get(c.req.query('sessionId') ?? '');
    if (session?.kind !== 'sse') return jsonRpcError(404, SERVER_ERROR, 'Unknown or expired SSE session: open GET /sse again');
    if (!session.binding?.admits(c.get('credentials'), c.get('actor'))) return rebindRefused();
    const read = await readJsonBody(c.req.raw, limits.maxBodyBytes);
    if (!read.ok) return read.response;
    // The SDK reads the request itself when the parsed body is null; it is already consumed.
    if (read.value === null) return jsonRpcError(400, -32600, 'Invalid Request: the body is null');
    return legacy.postMessage(c.req.raw, c.env, session, read.value);
  };

  /** Logged without the request's own credentials, whatever the error text holds. */
  const onError = (error: Error, c: AppContext) => {
    const secrets = readRequestCredentials(c.req.raw.headers);
    const scrub = secrets.ok ? redactor.with(secrets.value.secrets) : redactor;
    logger.withRedactor(scrub).error('http request failed', { path: c.req.path, error: error.message });
    return jsonRpcError(500, SERVER_ERROR, 'Internal server error');
  };

  const app = new Hono<AppEnv>();
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', (c) => c.json({ ready: accepting }, accepting ? 200 : 503));
  app.use('*', guardHostAndOrigin, authenticate, readCredentials);
  app.all('/mcp', serveMcp);
  app.get('/sse', openSse);
  app.post('/messages', postSseMessage);
  app.notFound(() => jsonRpcError(404, SERVER_ERROR, legacy ? `${NOT_FOUND}, /sse + /messages (legacy SSE)` : NOT_FOUND));
  app.onError(onError);

  return {
    fetch: async (request, env) => app.fetch(request, env),
    table,
    limits,
    stopAccepting() {
      accepting = false;
    },
    sweep: () => table.sweep(),
    async quiet(ms) {
      const until = Date.now() + ms;
      while (table.inFlight() + statelessInFlight > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    },
    closeSessions: () => table.closeAll(),
  };
}
