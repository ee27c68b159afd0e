/**
 * Checks shared by every HTTP path: Host/Origin (DNS-rebinding protection)
 * and JSON request bodies read under a size cap. The SDK transports' own
 * Host/Origin options are deprecated, so this is the one place it is checked.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** JSON-RPC error codes we answer with before a message reaches the SDK. */
export const PARSE_ERROR = -32700;
export const SERVER_ERROR = -32000;

export interface AllowedHosts {
  hosts: string[];
  origins: string[];
}

/** Host header values (exact host:port) and Origins we accept. */
export function allowedHostsFor(host: string, port: number): AllowedHosts {
  const names = new Set(LOOPBACK_NAMES);
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  if (!['0.0.0.0', '[::]', '::'].includes(host)) names.add(bracketed);
  const hosts = [...names].map((name) => `${name}:${port}`);
  const origins = hosts.flatMap((h) => [`http://${h}`, `https://${h}`]);
  return { hosts, origins };
}

/**
 * A page on another site can reach a loopback server by rebinding its own name
 * to 127.0.0.1; the Host (and, from browsers, Origin) header still names that site.
 * An absent Origin is a non-browser client and is allowed.
 */
export function isAllowedHostAndOrigin(req: IncomingMessage, allowed: AllowedHosts): boolean {
  const origin = req.headers.origin;
  return allowed.hosts.includes(req.headers.host ?? '') && (origin === undefined || allowed.origins.includes(origin));
}

export function sendJsonRpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...headers, 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; status: 400 | 413; code: number; message: string };

const tooLarge = (maxBytes: number): JsonBody => ({
  ok: false,
  status: 413,
  code: SERVER_ERROR,
  message: `Request body too large (over ${maxBytes} bytes)`,
});

/**
 * Reads and parses a JSON body of at most maxBytes. Past the cap it stops
 * buffering but lets the rest drain (destroying the request would reset the
 * socket before the 413 could be sent).
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<JsonBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return tooLarge(maxBytes);
  const text = await new Promise<string | undefined>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      cleanup();
      req.resume();
      resolve(undefined);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
  if (text === undefined) return tooLarge(maxBytes);
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, status: 400, code: PARSE_ERROR, message: 'Parse error: the body is not valid JSON' };
  }
}

/** Answers a failed readJsonBody; 413 also closes the connection, whose unread rest is discarded. */
export function sendBodyError(res: ServerResponse, body: Extract<JsonBody, { ok: false }>): void {
  sendJsonRpcError(res, body.status, body.code, body.message, body.status === 413 ? { connection: 'close' } : {});
}
