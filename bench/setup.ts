/**
 * What the sections measure against: the server in-process (createServer +
 * InMemoryTransport + SDK Client, as test/helpers/harness.ts, but with the
 * real clock and the CLI's undici settings), the direct-undici baseline, and
 * the built dist/.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Agent, fetch as undiciFetch, request as undiciRequest } from 'undici';
import { buildDist } from '../scripts/build.js';
import { createUndiciFetch } from '../src/node/undici-fetch.js';
import type { ToolServices } from '../src/tools/index.js';
import { wire, type Settings } from '../src/wiring.js';
import { connectInMemory } from '../test/helpers/harness.js';
import { PROJECT_ROOT } from '../test/helpers/spawn.js';
import type { DistStatus } from './lib.js';

export interface Upstream {
  baseUrl: string;
  token: string;
  accountId: string;
}

export interface InProcessServer {
  mcp: Client;
  services: ToolServices;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** The server as the CLI wires it (src/wiring.ts: undici defaults, real clock, info-level logger to nowhere), reached in memory. */
export async function startInProcess(upstream: Upstream, settings: Partial<Settings> = {}): Promise<InProcessServer> {
  const network = createUndiciFetch();
  const wired = wire({
    settings: { baseUrl: upstream.baseUrl, defaultAccountId: upstream.accountId, ...settings },
    fetch: network.fetch,
    credentials: { CLOUDFLARE_API_TOKEN: upstream.token },
    logSink: () => {},
  });
  const server = wired.createServer();
  const mcp = new Client({ name: 'bench', version: '1.0.0' });
  await connectInMemory(server, mcp);
  // A real client lists tools first; that is also what arms the SDK client's output-schema validation.
  await mcp.listTools();
  return {
    mcp,
    services: wired.services,
    call: async (name, args = {}) => (await mcp.callTool({ name, arguments: args })) as CallToolResult,
    async close() {
      await mcp.close();
      await server.close();
      await network.close();
    },
  };
}

export interface DirectClient {
  /** undici fetch (same Agent settings as src/node/undici-fetch.ts) + text + JSON.parse. */
  fetchJson(pathAndQuery: string): Promise<unknown>;
  /** undici.request on the same Agent + JSON.parse: the cheapest way undici offers. */
  requestJson(pathAndQuery: string): Promise<unknown>;
  close(): Promise<void>;
}

/** The baseline: what a caller pays to get the same upstream data without us. */
export function createDirectClient(upstream: Upstream, origin: string): DirectClient {
  // The same settings as createUndiciFetch()'s defaults.
  const dispatcher = new Agent({
    connect: { timeout: 10_000 },
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
    keepAliveTimeout: 30_000,
    connections: 16,
  });
  const headers = { accept: 'application/json', authorization: `Bearer ${upstream.token}` };
  return {
    async fetchJson(pathAndQuery) {
      const response = await undiciFetch(`${origin}${pathAndQuery}`, { headers, dispatcher });
      return JSON.parse(await response.text()) as unknown;
    },
    async requestJson(pathAndQuery) {
      const response = await undiciRequest(`${origin}${pathAndQuery}`, { headers, dispatcher });
      return JSON.parse(await response.body.text()) as unknown;
    },
    close: () => dispatcher.close(),
  };
}

// ---------- dist/ ----------

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export const DIST_INDEX = join(PROJECT_ROOT, 'dist/index.js');

/**
 * Builds dist/ with `npm run build`'s esbuild step (scripts/build.ts) when it is missing or older than src/.
 * `rebuildStale: false` (quick mode) builds only a missing dist/: the test suite
 * runs next to other tests that spawn and build dist/, and quick figures are indicative anyway.
 */
export async function buildDistIfStale(progress: (message: string) => void, options: { rebuildStale: boolean }): Promise<DistStatus> {
  const srcNewest = newestMtime(join(PROJECT_ROOT, 'src'));
  if (existsSync(DIST_INDEX)) {
    if (statSync(DIST_INDEX).mtimeMs >= srcNewest) return { present: true, note: 'dist/ was up to date' };
    if (!options.rebuildStale) return { present: true, note: 'dist/ is older than src/ and was used as is (quick mode does not rebuild)' };
  }
  progress('building dist/ (scripts/build.ts: esbuild)');
  const started = performance.now();
  try {
    const built = await buildDist(join(PROJECT_ROOT, 'dist'));
    return {
      present: existsSync(DIST_INDEX),
      note: `dist/ rebuilt by this run with esbuild (${Math.round(performance.now() - started)} ms; ${Math.round(built.startupBytes / 1024)} KiB loaded at start of ${Math.round(built.totalBytes / 1024)} KiB)`,
    };
  } catch (error) {
    return { present: existsSync(DIST_INDEX), note: `dist/ build failed (${String(error instanceof Error ? error.message : error).slice(0, 160)})` };
  }
}
