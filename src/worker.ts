/**
 * Cloudflare Workers entry (module worker): stateless Streamable HTTP at /mcp,
 * plus /healthz and /readyz, from the same app as Node (src/http/app.ts).
 * Settings come from Worker vars and secrets named like the CLI's environment
 * variables; the Cloudflare API client uses the platform's fetch. No Node API,
 * so no nodejs_compat. Deploy: `npx wrangler deploy` (see wrangler.toml, DEPLOY.md).
 *
 * Stateless, because an isolate's memory is neither shared nor kept between
 * requests: every POST gets a fresh server, no Mcp-Session-Id, no elicitation
 * (a delete then needs confirm: true), and no legacy SSE.
 */
import type { CredentialInput } from './cloudflare/auth.js';
import type { FetchLike } from './cloudflare/client.js';
import { parseAccessSettings, parseBearer, parseReadOnly, type AccessSettings } from './http/settings.js';
import { createHttpApp } from './http/app.js';
import { jsonRpcError, SERVER_ERROR } from './http/body.js';
import { HttpSettingsError, isLoopbackHost, parseAllowedOrigins, sameOriginPolicy } from './http/hosts.js';
import { wire } from './wiring.js';

/** Vars and secrets (`npx wrangler secret put NAME`); the names are the CLI's environment variables. */
export interface WorkerEnv {
  CLOUDFLARE_API_TOKEN?: unknown;
  CLOUDFLARE_EMAIL?: unknown;
  CLOUDFLARE_API_KEY?: unknown;
  CLOUDFLARE_ACCOUNT_ID?: unknown;
  CLOUDFLARE_BASE_URL?: unknown;
  CLOUDFLARE_READ_ONLY?: unknown;
  MCP_HTTP_BEARER?: unknown;
  CLOUDFLARE_ACCESS_TEAM_DOMAIN?: unknown;
  CLOUDFLARE_ACCESS_AUD?: unknown;
  MCP_ALLOWED_ORIGINS?: unknown;
}

type Handler = (request: Request) => Promise<Response>;

const DEFAULT_BASE_URL = 'https://api.cloudflare.com/client/v4';

/** A var that is not a non-empty string (unset, or a JSON var of another type) counts as unset. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

interface WorkerSettings {
  credentials: CredentialInput;
  accountId: string | undefined;
  baseUrl: string;
  readOnly: boolean;
  bearer: string | undefined;
  access: AccessSettings | undefined;
  allowedOrigins: string[];
}

/** The same rules as the CLI (src/node/config.ts); a broken setting names the variable, never its value. */
function readSettings(env: WorkerEnv): WorkerSettings {
  const accountId = text(env.CLOUDFLARE_ACCOUNT_ID);
  if (accountId !== undefined && !/^[0-9a-f]{32}$/.test(accountId)) {
    throw new HttpSettingsError('CLOUDFLARE_ACCOUNT_ID must be 32 lowercase hex characters.');
  }
  const baseUrl = text(env.CLOUDFLARE_BASE_URL) ?? DEFAULT_BASE_URL;
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new HttpSettingsError('CLOUDFLARE_BASE_URL must be an absolute https URL.');
  }
  // Credentials travel in headers: plain http only to this machine (local development).
  if (base.protocol !== 'https:' && !(base.protocol === 'http:' && isLoopbackHost(base.hostname))) {
    throw new HttpSettingsError('CLOUDFLARE_BASE_URL must use https (plain http only for a loopback address).');
  }
  const settings: WorkerSettings = {
    credentials: {
      CLOUDFLARE_API_TOKEN: text(env.CLOUDFLARE_API_TOKEN),
      CLOUDFLARE_EMAIL: text(env.CLOUDFLARE_EMAIL),
      CLOUDFLARE_API_KEY: text(env.CLOUDFLARE_API_KEY),
    },
    accountId,
    baseUrl,
    readOnly: parseReadOnly(text(env.CLOUDFLARE_READ_ONLY)),
    bearer: parseBearer(text(env.MCP_HTTP_BEARER), 'MCP_HTTP_BEARER'),
    access: parseAccessSettings(text(env.CLOUDFLARE_ACCESS_TEAM_DOMAIN), text(env.CLOUDFLARE_ACCESS_AUD)),
    allowedOrigins: parseAllowedOrigins(text(env.MCP_ALLOWED_ORIGINS)),
  };
  // A Worker is on the internet: without endpoint auth anyone could use its secrets.
  if (!settings.bearer && !settings.access) {
    throw new HttpSettingsError(
      'This Worker has no endpoint auth. Set MCP_HTTP_BEARER (npx wrangler secret put MCP_HTTP_BEARER), ' +
        'and/or put Cloudflare Access in front and set CLOUDFLARE_ACCESS_TEAM_DOMAIN and CLOUDFLARE_ACCESS_AUD.',
    );
  }
  return settings;
}

/** Health still answers; everything else says which setting to fix. */
function misconfigured(message: string): Handler {
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (request.method === 'GET' && path === '/healthz') return Response.json({ ok: true });
    if (request.method === 'GET' && path === '/readyz') return Response.json({ ready: false }, { status: 503 });
    return jsonRpcError(500, SERVER_ERROR, `Server misconfigured: ${message}`);
  };
}

/** The platform fetch as the client's seam (redirect: 'manual' is honoured by Workers). */
const platformFetch: FetchLike = (url, init) => fetch(url, init);

function buildHandler(env: WorkerEnv): Handler {
  let settings: WorkerSettings;
  try {
    settings = readSettings(env);
  } catch (error) {
    if (error instanceof HttpSettingsError) return misconfigured(error.message);
    throw error;
  }
  const wired = wire({
    settings: { baseUrl: settings.baseUrl, defaultAccountId: settings.accountId, readOnly: settings.readOnly },
    fetch: platformFetch,
    credentials: settings.credentials,
    logSink: (line) => console.log(line),
  });
  const app = createHttpApp({
    createServer: (session) => wired.createServer(session),
    logger: wired.logger,
    redactor: wired.services.redactor,
    auth: { bearer: settings.bearer, access: settings.access },
    hostPolicy: sameOriginPolicy(settings.allowedOrigins),
    stateless: true,
  });
  return (request) => app.fetch(request);
}

// One wiring per isolate and env (env is the same object for the isolate's life).
const handlers = new WeakMap<object, Handler>();

function handlerFor(env: WorkerEnv): Handler {
  let handler = handlers.get(env);
  if (!handler) {
    handler = buildHandler(env);
    handlers.set(env, handler);
  }
  return handler;
}

export default {
  fetch(request: Request, env: WorkerEnv): Promise<Response> {
    return handlerFor(env)(request);
  },
};
