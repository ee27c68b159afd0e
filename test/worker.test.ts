/**
 * The Cloudflare Workers entry for real: src/worker.ts bundled with esbuild
 * (workerd conditions, neutral platform, ESM, no nodejs_compat) and run in
 * workerd through miniflare 3 (`cf: false`: nothing fetched from the
 * network), driven by the SDK's StreamableHTTPClientTransport, with the
 * emulator on loopback as the Cloudflare API.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/sandbox/emulator.js';
import { startTestEmulator, TEST_EMAIL, TEST_KEY, TEST_TOKEN } from './helpers/harness.js';
import { callTool, headerFetch, INITIALIZE, MCP_HEADERS, textOfResult } from './helpers/http.js';
import { PROJECT_ROOT } from './helpers/spawn.js';

const BEARER = 'worker-bearer-LEAKCANARY-1a2b3c4d5e6f';
const AUTH = { authorization: `Bearer ${BEARER}` };

let emulator: Emulator;
let script: string;
/** Env credentials and account as Worker secrets/vars. */
let withSecrets: Miniflare;
/** No Cloudflare credentials: each client brings its own in headers. */
let bare: Miniflare;
/** No endpoint auth at all: must refuse to serve. */
let open: Miniflare;
const urls: Record<'withSecrets' | 'bare' | 'open', string> = { withSecrets: '', bare: '', open: '' };

function worker(bindings: Record<string, string>): Miniflare {
  // port 0: a free loopback port (miniflare binds 127.0.0.1); workerd may fetch the loopback emulator.
  return new Miniflare({ modules: true, script, cf: false, port: 0, compatibilityDate: '2025-07-01', bindings });
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  const bundle = await build({
    entryPoints: [join(PROJECT_ROOT, 'src/worker.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    target: 'es2022',
    logLevel: 'silent',
    metafile: true,
  });
  // Nothing from Node made it in: it runs without nodejs_compat.
  const inputs = Object.keys(bundle.metafile.inputs);
  expect(inputs.filter((input) => /^node:|node_modules\/(undici|@hono\/node-server)\//.test(input))).toEqual([]);
  script = bundle.outputFiles[0]!.text;
  const base = { CLOUDFLARE_BASE_URL: emulator.baseUrl };
  withSecrets = worker({ ...base, MCP_HTTP_BEARER: BEARER, CLOUDFLARE_API_TOKEN: TEST_TOKEN, CLOUDFLARE_ACCOUNT_ID: emulator.accountId });
  bare = worker({ ...base, MCP_HTTP_BEARER: BEARER });
  open = worker({ ...base, CLOUDFLARE_API_TOKEN: TEST_TOKEN });
  const [secretsUrl, bareUrl, openUrl] = await Promise.all([withSecrets.ready, bare.ready, open.ready]);
  Object.assign(urls, { withSecrets: secretsUrl.origin, bare: bareUrl.origin, open: openUrl.origin });
}, 60_000);

afterAll(async () => {
  await Promise.all([withSecrets?.dispose(), bare?.dispose(), open?.dispose()]);
  await emulator.close();
});

async function connect(origin: string, headers: Record<string, string>): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { fetch: headerFetch(headers) });
  const client = new Client({ name: 'worker-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

describe('the module worker in workerd', () => {
  it('lists the tools, reads and writes with its secrets, statelessly', async () => {
    const { client, transport } = await connect(urls.withSecrets, AUTH);
    try {
      expect(transport.sessionId).toBeUndefined();
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toEqual(expect.arrayContaining(['get_current_user', 'list_access_users', 'create_access_user', 'delete_access_user']));
      const from = emulator.requests.length;
      const read = await callTool(client, 'list_access_users', { email: 'alice@corp.example' });
      expect(read.isError).toBeFalsy();
      expect(textOfResult(read)).toContain('alice@corp.example');
      const write = await callTool(client, 'create_access_user', { email: 'from.worker@corp.example', name: 'From Worker' });
      expect(write.isError).toBeFalsy();
      expect([...emulator.state.users.values()].some((user) => user.email === 'from.worker@corp.example')).toBe(true);
      const upstream = emulator.requests.slice(from);
      expect(upstream.map((r) => r.method)).toEqual(['GET', 'POST']);
      for (const request of upstream) {
        expect(request.headers.authorization).toBe(`Bearer ${TEST_TOKEN}`);
        expect(JSON.stringify(request.headers)).not.toContain(BEARER);
      }
    } finally {
      await client.close();
    }
  });

  it('uses per-request header credentials and account when the worker holds none', async () => {
    const { client } = await connect(urls.bare, { ...AUTH, 'x-auth-email': TEST_EMAIL, 'x-auth-key': TEST_KEY, 'x-cloudflare-account-id': emulator.accountId });
    try {
      const from = emulator.requests.length;
      const read = await callTool(client, 'list_access_users', { email: 'bob@corp.example' });
      expect(read.isError).toBeFalsy();
      const upstream = emulator.requests.slice(from);
      expect(upstream).toHaveLength(1);
      expect(upstream[0]!.url).toContain(`/accounts/${emulator.accountId}/access/users`);
      expect(upstream[0]!.headers['x-auth-key']).toBe(TEST_KEY);
      expect(upstream[0]!.headers.authorization).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it('with no credentials anywhere: the usual error, nothing sent upstream', async () => {
    const { client } = await connect(urls.bare, AUTH);
    try {
      const from = emulator.requests.length;
      const result = await callTool(client, 'get_current_user');
      expect(result.isError).toBe(true);
      expect(textOfResult(result)).toMatch(/No Cloudflare credentials/);
      expect(emulator.requests.length).toBe(from);
    } finally {
      await client.close();
    }
  });

  it('requires the bearer: 401 with WWW-Authenticate before any MCP processing; health stays open', async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer not-the-worker-bearer-000' }];
    for (const headers of attempts) {
      const answer = await fetch(`${urls.withSecrets}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: INITIALIZE });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="cloudflare-users-mcp"');
      expect(await answer.text()).not.toContain(BEARER);
    }
    const healthz = await fetch(`${urls.withSecrets}/healthz`);
    expect([healthz.status, await healthz.text()]).toEqual([200, '{"ok":true}']);
    const readyz = await fetch(`${urls.withSecrets}/readyz`);
    expect([readyz.status, await readyz.text()]).toEqual([200, '{"ready":true}']);
    // A browser page elsewhere cannot drive it.
    const foreign = await fetch(`${urls.withSecrets}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, ...AUTH, origin: 'https://evil.example' }, body: INITIALIZE });
    expect(foreign.status).toBe(403);
  });

  it('refuses to serve without endpoint auth, naming what to set (and not its secrets); /readyz says not ready', async () => {
    const answer = await fetch(`${urls.open}/mcp`, { method: 'POST', headers: MCP_HEADERS, body: INITIALIZE });
    expect(answer.status).toBe(500);
    const body = await answer.text();
    expect(body).toMatch(/MCP_HTTP_BEARER/);
    expect(body).not.toContain(TEST_TOKEN);
    expect((await fetch(`${urls.open}/readyz`)).status).toBe(503);
    expect((await fetch(`${urls.open}/healthz`)).status).toBe(200);
  });
});

describe('wrangler.toml', () => {
  it('deploys src/worker.ts without nodejs_compat', () => {
    const toml = readFileSync(join(PROJECT_ROOT, 'wrangler.toml'), 'utf8');
    expect(toml).toMatch(/^main = "src\/worker\.ts"$/m);
    expect(toml).toMatch(/^compatibility_date = "\d{4}-\d{2}-\d{2}"$/m);
    const settings = toml.replace(/#.*$/gm, '');
    expect(settings).not.toMatch(/compatibility_flags|nodejs_compat/);
  });
});
