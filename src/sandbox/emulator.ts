/**
 * A local Cloudflare API v4 emulator for the users endpoints: a real HTTP
 * server (node:http) with deterministic demo data, Cloudflare-style errors
 * and fault injection. It backs `--sandbox` (use the MCP server without a
 * Cloudflare account) and every integration test.
 *
 * Imports only node: built-ins and its own folder: it ships in the product.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { failure, handleApiRequest, type ApiCredentials, type ApiResponse, type Envelope } from './api.js';
import { errorForStatus, FaultQueue, htmlErrorPage, MALFORMED_JSON_BODY, redirectPage, withExtraFields, writeHugeResponse, type Fault, type FaultRule } from './faults.js';
import { DEFAULT_SEED, DEFAULT_USER_COUNT, SANDBOX_ACCOUNT_ID, seedSandbox, type SeedShape } from './seed.js';
import type { SandboxState } from './types.js';

export { SANDBOX_ACCOUNT_ID, SANDBOX_ALICE, SANDBOX_BOB, SANDBOX_CAROL, SANDBOX_REFERENCE_NOW_MS } from './seed.js';
export { ERROR_CODES, DEFAULT_PER_PAGE, MAX_PER_PAGE } from './api.js';
export type { Fault, FaultRule } from './faults.js';
export type { SeedShape } from './seed.js';
export type {
  AccessApp,
  AccessUser,
  ActiveSession,
  DevicePostureRule,
  FailedLogin,
  Identity,
  SandboxState,
  StoredSession,
  TokenOwner,
} from './types.js';

export interface EmulatorOptions {
  host?: string;
  port?: number;
  apiToken?: string;
  email?: string;
  apiKey?: string;
  /** A bearer token that may only GET; writes get 403 code 10000. */
  readOnlyToken?: string;
  accountId?: string;
  seed?: number;
  userCount?: number;
  /** The data's shape (src/sandbox/seed.ts): `varied` has long non-ASCII names and emails, seats varying per row. */
  shape?: SeedShape;
  /** A fixed delay before every answer (benchmarks: a network that is not a loopback). Default 0. */
  latencyMs?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path + query as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface Emulator {
  readonly origin: string;
  readonly baseUrl: string;
  readonly port: number;
  readonly accountId: string;
  readonly credentials: { apiToken: string; email: string; apiKey: string };
  /** Every request received since the last resetRequests(), in arrival order (faulted ones included). */
  readonly requests: RecordedRequest[];
  requestCount(): number;
  /** The most requests ever being answered at once since the last resetRequests() (a client's real concurrency). */
  maxInFlight(): number;
  /** Queues a fault; rules are matched in order, each match uses up one of its `times`. */
  inject(rule: FaultRule): void;
  clearFaults(): void;
  resetRequests(): void;
  /** Live, read-only view of the emulated account. */
  readonly state: SandboxState;
  /** Stops listening and destroys every open connection (hanging ones included). */
  close(): Promise<void>;
}

export const DEFAULT_SANDBOX_CREDENTIALS = {
  apiToken: 'sandbox-token',
  email: 'admin@example.com',
  apiKey: 'sandbox-global-key',
} as const;

/** Request bodies above this are answered 413 (and not kept). */
const MAX_BODY_BYTES = 1024 * 1024;
/** Per-request body kept in `requests`. */
const MAX_RECORDED_BODY_CHARS = 64 * 1024;
/** Oldest records are dropped past this, so a long-running --sandbox does not grow without bound. */
const MAX_RECORDED_REQUESTS = 10_000;
const ACCOUNT_ID_PATTERN = /^[0-9a-f]{32}$/;

interface ReceivedBody {
  text: string;
  tooLarge: boolean;
}

/** Reads the whole body, keeping at most MAX_BODY_BYTES; resolves undefined if the client goes away first. */
function readBody(req: IncomingMessage): Promise<ReceivedBody | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve({ text: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), tooLarge }));
    req.on('error', () => resolve(undefined));
    req.on('close', () => {
      if (!req.complete) resolve(undefined);
    });
  });
}

/** RST rather than FIN where possible, so the client sees a reset, not a clean close. */
function resetSocket(socket: Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const accountId = options.accountId ?? SANDBOX_ACCOUNT_ID;
  if (!ACCOUNT_ID_PATTERN.test(accountId)) throw new RangeError('accountId must be 32 lowercase hex characters');
  const credentials: ApiCredentials = {
    apiToken: options.apiToken ?? DEFAULT_SANDBOX_CREDENTIALS.apiToken,
    readOnlyToken: options.readOnlyToken,
    email: options.email ?? DEFAULT_SANDBOX_CREDENTIALS.email,
    apiKey: options.apiKey ?? DEFAULT_SANDBOX_CREDENTIALS.apiKey,
  };
  const data = seedSandbox({
    seed: options.seed ?? DEFAULT_SEED,
    userCount: options.userCount ?? DEFAULT_USER_COUNT,
    shape: options.shape ?? 'default',
    accountId,
    ownerEmail: credentials.email,
  });

  const faults = new FaultQueue();
  const requests: RecordedRequest[] = [];
  let receivedCount = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  const latencyMs = Math.max(0, options.latencyMs ?? 0);
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let rayCounter = 0;
  let closePromise: Promise<void> | undefined;

  const later = (ms: number, action: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, Math.max(0, ms));
    timers.add(timer);
  };

  const edgeHeaders = (): Record<string, string> => {
    rayCounter += 1;
    return { 'cf-ray': `${(0x8c1f000000000000n + BigInt(rayCounter)).toString(16)}-SJC`, server: 'cloudflare' };
  };

  const apply = (method: string, url: string, req: IncomingMessage, body: ReceivedBody): ApiResponse => {
    try {
      return handleApiRequest(data, credentials, { method, url, headers: req.headers, body: body.text, bodyTooLarge: body.tooLarge });
    } catch {
      // A bug here must still look like an API error, not a dead server.
      const { code, message } = errorForStatus(500);
      return failure(500, code, message);
    }
  };

  const sendJson = (res: ServerResponse, status: number, payload: Envelope | Record<string, unknown>, headers: Record<string, string>) => {
    if (res.destroyed || res.headersSent) return;
    const text = JSON.stringify(payload);
    res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  };

  const sendRaw = (res: ServerResponse, status: number, contentType: string, text: string, headers: Record<string, string>) => {
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  };

  const respond = (req: IncomingMessage, res: ServerResponse, method: string, url: string, body: ReceivedBody, fault: Fault | undefined) => {
    const headers = edgeHeaders();
    if (fault === undefined) {
      const response = apply(method, url, req, body);
      sendJson(res, response.status, response.envelope, headers);
      return;
    }
    switch (fault.kind) {
      case 'status': {
        const { code, message } = errorForStatus(fault.status);
        const statusHeaders = fault.retryAfter !== undefined ? { ...headers, 'retry-after': fault.retryAfter } : headers;
        const text = fault.body ?? JSON.stringify({ success: false, errors: [{ code, message }], messages: [], result: null });
        sendRaw(res, fault.status, 'application/json', text, statusHeaders);
        return;
      }
      case 'reset':
        // 'process': the change happens, the answer is lost.
        if (fault.after === 'process') apply(method, url, req, body);
        resetSocket(req.socket);
        return;
      case 'hang':
        // Never answered; close() destroys the socket.
        return;
      case 'delay': {
        const response = apply(method, url, req, body);
        if (fault.phase === 'headers') {
          later(fault.ms, () => sendJson(res, response.status, response.envelope, headers));
          return;
        }
        const text = JSON.stringify(response.envelope);
        res.writeHead(response.status, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
        res.flushHeaders();
        later(fault.ms, () => {
          if (!res.destroyed) res.end(text);
        });
        return;
      }
      case 'truncated': {
        const response = apply(method, url, req, body);
        const bytes = Buffer.from(JSON.stringify(response.envelope));
        res.writeHead(response.status, { ...headers, 'content-type': 'application/json', 'content-length': String(bytes.length) });
        // Half the promised bytes, then the connection ends.
        res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => req.socket.destroy());
        return;
      }
      case 'malformed':
        sendRaw(res, 200, 'application/json', MALFORMED_JSON_BODY, headers);
        return;
      case 'html': {
        const status = fault.status ?? 502;
        sendRaw(res, status, 'text/html; charset=UTF-8', htmlErrorPage(status), headers);
        return;
      }
      case 'success_false':
        sendJson(
          res,
          200,
          { success: false, errors: [{ code: fault.code ?? 1000, message: fault.message ?? 'An unknown error has occurred' }], messages: [], result: null },
          headers,
        );
        return;
      case 'missing_result': {
        apply(method, url, req, body);
        sendJson(res, 200, { success: true, errors: [], messages: [] }, headers);
        return;
      }
      case 'extra_fields': {
        const response = apply(method, url, req, body);
        sendJson(res, response.status, withExtraFields({ ...response.envelope }), headers);
        return;
      }
      case 'huge':
        writeHugeResponse(res, fault.bytes, headers).catch(() => res.destroy());
        return;
      case 'redirect':
        // Answered, not applied: whatever the method, the emulated account is unchanged.
        sendRaw(res, fault.status, 'text/html; charset=UTF-8', redirectPage(fault.status, fault.location), { ...headers, location: fault.location });
        return;
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const record: RecordedRequest = { method, url, headers: { ...req.headers }, body: '' };
    receivedCount += 1;
    // In flight from arrival until the answer is handed to the socket ('finish') or the connection goes ('close').
    inFlight += 1;
    peakInFlight = Math.max(peakInFlight, inFlight);
    let settled = false;
    const settle = () => {
      if (!settled) inFlight -= 1;
      settled = true;
    };
    res.once('finish', settle);
    res.once('close', settle);
    requests.push(record);
    if (requests.length > MAX_RECORDED_REQUESTS) requests.shift();
    const fault = faults.take(method, url);

    void readBody(req).then((body) => {
      if (!body || closePromise) return;
      record.body = body.text.length > MAX_RECORDED_BODY_CHARS ? body.text.slice(0, MAX_RECORDED_BODY_CHARS) : body.text;
      if (fault?.kind === 'reset' && fault.after !== 'process') {
        resetSocket(req.socket);
        return;
      }
      const answer = () => {
        try {
          respond(req, res, method, url, body, fault);
        } catch {
          res.destroy();
        }
      };
      if (latencyMs > 0) later(latencyMs, answer);
      else answer();
    });
  };

  const server = createServer(onRequest);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // Unparseable HTTP: answer like any server would, never crash.
    if (error.code !== 'ECONNRESET' && socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('emulator did not bind to a TCP port');
  const port = address.port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    origin,
    baseUrl: `${origin}/client/v4`,
    port,
    accountId,
    credentials: { apiToken: credentials.apiToken, email: credentials.email, apiKey: credentials.apiKey },
    requests,
    requestCount: () => receivedCount,
    maxInFlight: () => peakInFlight,
    inject: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    resetRequests: () => {
      requests.length = 0;
      receivedCount = 0;
      peakInFlight = inFlight;
    },
    state: data,
    close: () => {
      closePromise ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        faults.clear();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closePromise;
    },
  };
}
