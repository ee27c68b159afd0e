/**
 * A raw JSON-RPC session with the real CLI over stdio: every byte the server
 * writes to stdout and stderr is kept (the SDK's StdioClientTransport would
 * consume stdout), so tests can scan all of it.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { spawnServer, type Spawned } from '../helpers/spawn.js';

export interface RpcResponse {
  jsonrpc: '2.0';
  id: number;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export class StdioRpcSession {
  private nextId = 1;
  readonly spawned: Spawned;

  constructor(args: string[], env: Record<string, string>) {
    this.spawned = spawnServer(args, env);
  }

  get stdout(): string {
    return this.spawned.stdout();
  }
  get stderr(): string {
    return this.spawned.stderr();
  }

  /** Every complete stdout line, parsed (a non-JSON line is returned as a string, so it can be reported). */
  messages(): unknown[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        try {
          return JSON.parse(line) as unknown;
        } catch {
          return line;
        }
      });
  }

  notify(method: string, params?: Record<string, unknown>): void {
    this.spawned.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method, ...(params ? { params } : {}) })}\n`);
  }

  async request(method: string, params?: Record<string, unknown>, timeoutMs = 20_000): Promise<RpcResponse> {
    const id = this.nextId++;
    this.spawned.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) })}\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages().find((m): m is RpcResponse => typeof m === 'object' && m !== null && (m as { id?: unknown }).id === id);
      if (found) return found;
      if (this.spawned.child.exitCode !== null) throw new Error(`server exited (${this.spawned.child.exitCode}) before answering ${method}; stderr:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no answer to ${method} (id ${id}) within ${timeoutMs} ms; stderr:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async initialize(): Promise<RpcResponse> {
    const response = await this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'leak-scan', version: '1.0.0' },
    });
    this.notify('notifications/initialized');
    return response;
  }

  async callTool(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
    const response = await this.request('tools/call', { name, arguments: args });
    if (response.error) throw new Error(`tools/call ${name}: JSON-RPC error ${response.error.code} ${response.error.message}`);
    return response.result as CallToolResult;
  }

  /** Closes stdin (the end of a stdio session) and waits for the exit code. */
  async close(): Promise<number | null> {
    this.spawned.child.stdin.end();
    const timer = setTimeout(() => this.spawned.child.kill('SIGKILL'), 10_000);
    try {
      return await this.spawned.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
