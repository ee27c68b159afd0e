/**
 * Helpers for the HTTP tests: raw requests over node:http (they may set any
 * Host header, which fetch refuses), and SDK clients that send extra headers.
 */
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
export const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});
export const LIST = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });

export function callBody(name: string, args: Record<string, unknown>, id = 3): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? (options.body === undefined ? 'GET' : 'POST'), headers: options.headers ?? {} }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The JSON-RPC messages of an SSE or JSON answer. */
export function messagesOf(body: string): Array<Record<string, unknown>> {
  const trimmed = body.trim();
  if (trimmed.startsWith('{')) return [JSON.parse(trimmed) as Record<string, unknown>];
  return [...body.matchAll(/^data: (.+)$/gm)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
}

export type HeaderSource = Record<string, string> | (() => Record<string, string>);

/** A fetch that adds headers chosen at each request (so a test can change them mid-session) and records every answer. */
export function headerFetch(headers: HeaderSource, seen?: string[]): typeof fetch {
  return async (input, init) => {
    const extra = typeof headers === 'function' ? headers() : headers;
    const merged = new Headers(init?.headers);
    for (const [name, value] of Object.entries(extra)) merged.set(name, value);
    const response = await fetch(input, { ...init, headers: merged });
    // Only answers that end (POST): the GET stream stays open for the session's life.
    if (seen && init?.method === 'POST') seen.push(await response.clone().text());
    return response;
  };
}

export async function streamableClient(url: string, headers: HeaderSource = {}, seen?: string[]): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { fetch: headerFetch(headers, seen) });
  const client = new Client({ name: 'http-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

export async function sseClient(url: string, headers: HeaderSource = {}): Promise<Client> {
  const fetchWithHeaders = headerFetch(headers);
  const transport = new SSEClientTransport(new URL(`${url}/sse`), { fetch: fetchWithHeaders, eventSourceInit: { fetch: fetchWithHeaders } });
  const client = new Client({ name: 'sse-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

export async function callTool(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

export function textOfResult(result: CallToolResult): string {
  return result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}
