/**
 * Upstream safety, end to end through the real MCP SDK client, the real server, undici and the emulator:
 * - a redirect is an answer, never followed: credentials reach no other host, another host's body never
 *   passes for Cloudflare's, and a redirected write is reported as not confirmed;
 * - the call's deadline bounds retry waits: a Retry-After longer than the time left is reported, not slept;
 * - a cancelled call stops: no retry after an aborted request, none after a wait the cancel cut short.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX_ALICE, SANDBOX_BOB, SANDBOX_CAROL } from '../src/sandbox/emulator.js';
import { allTools, type ToolDefinition } from '../src/tools/index.js';
import {
  buildWiring,
  startHarness,
  startTestEmulator,
  TEST_EMAIL,
  TEST_KEY,
  TEST_TOKEN,
  textOf,
  type FakeClock,
  type Harness,
  type HarnessOptions,
} from './helpers/harness.js';
import { cleanEnv, PROJECT_ROOT, SOURCE_ENTRY } from './helpers/spawn.js';

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds (fails the test after `ms`). */
async function until(check: () => boolean, what: string, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(5);
  }
}

function audits(lines: readonly string[]): Record<string, unknown>[] {
  return lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.msg === 'audit');
}

function toolNamed(name: string): ToolDefinition {
  const tool = allTools.find((candidate) => candidate.name === name);
  if (!tool) throw new Error(`no tool ${name}`);
  return tool;
}

/** Every harness a test starts, closed after it whatever happens. */
const open: Array<{ close(): Promise<void> }> = [];
async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const h = await startHarness(options);
  open.push(h);
  return h;
}
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

// ---------------------------------------------------------------------------------------------------------
// 1. Redirects are never followed
// ---------------------------------------------------------------------------------------------------------

interface OtherHost {
  origin: string;
  /** host:port, as the error text should name it. */
  host: string;
  requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/**
 * "The other host": a plain server that records what reaches it and answers every request with a valid V4
 * envelope holding a plausible user, so that a followed redirect would pass for Cloudflare's answer.
 */
async function startOtherHost(): Promise<OtherHost> {
  const requests: OtherHost['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } });
    req.resume();
    const id = (req.url ?? '').split('?')[0]!.split('/').pop() ?? '';
    const body = JSON.stringify({
      success: true,
      errors: [],
      messages: [],
      result: {
        id,
        uid: id,
        email: 'impostor@other.example',
        name: 'OTHER HOST',
        access_seat: false,
        gateway_seat: false,
        active_device_count: 0,
        created_at: '2024-01-01T00:00:00Z',
        updated_at: '2024-01-01T00:00:00Z',
      },
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const other: OtherHost = {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  open.push(other);
  return other;
}

/** The user URL the server asks for, on `origin`. */
function userUrl(origin: string, accountId: string, userId: string): string {
  return `${origin}/client/v4/accounts/${accountId}/access/users/${userId}`;
}

describe('redirects are never followed', () => {
  it('a 302 to another host: Global API Key and email never leave, the error names status and host', async () => {
    const other = await startOtherHost();
    const h = await harness({ credentials: { CLOUDFLARE_EMAIL: TEST_EMAIL, CLOUDFLARE_API_KEY: TEST_KEY } });
    h.emulator.inject({ fault: { kind: 'redirect', status: 302, location: userUrl(other.origin, h.emulator.accountId, SANDBOX_ALICE.id) }, method: 'GET' });

    const result = await h.call('get_access_user', { user_id: SANDBOX_ALICE.id });

    // Followed, the next hop would get X-Auth-Key / X-Auth-Email (fetch strips only Authorization cross-origin).
    expect(other.requests).toHaveLength(0);
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    const text = textOf(result);
    expect(text).toContain('HTTP 302');
    expect(text).toContain(other.host);
    expect(text).not.toContain(TEST_KEY);
    expect(text).not.toContain(TEST_EMAIL);
    expect(text).not.toContain('OTHER HOST');
    expect(h.emulator.requests).toHaveLength(1);
    // The one request did carry the key credentials (so the test is about them).
    expect(h.emulator.requests[0]!.headers['x-auth-key']).toBe(TEST_KEY);
  });

  it("a 307 to another host with a token: isError, the other host's body is not passed off as Cloudflare's", async () => {
    const other = await startOtherHost();
    const h = await harness();
    h.emulator.inject({ fault: { kind: 'redirect', status: 307, location: userUrl(other.origin, h.emulator.accountId, SANDBOX_BOB.id) }, method: 'GET' });

    const result = await h.call('get_access_user', { user_id: SANDBOX_BOB.id });

    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    expect(textOf(result)).not.toContain('OTHER HOST');
    expect(textOf(result)).not.toContain(TEST_TOKEN);
    expect(other.requests).toHaveLength(0);
    expect(h.emulator.requests).toHaveLength(1);
  });

  it('a DELETE answered 307 is not confirmed, is sent once, and is audited unknown with status 307', async () => {
    const other = await startOtherHost();
    const h = await harness();
    h.emulator.inject({
      fault: { kind: 'redirect', status: 307, location: userUrl(other.origin, h.emulator.accountId, SANDBOX_CAROL.id) },
      method: 'DELETE',
    });

    const result = await h.call('delete_access_user', { user_id: SANDBOX_CAROL.id, confirm: true });

    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    expect(textOf(result)).not.toContain('"deleted":true');
    expect(textOf(result)).toContain('not confirmed');
    expect(other.requests).toHaveLength(0);
    expect(h.emulator.requests.filter((request) => request.method === 'DELETE')).toHaveLength(1);
    // A redirect is neither a confirmation nor a refusal: whether the write happened is open.
    const audit = audits(h.logLines).filter((record) => record.tool === 'delete_access_user');
    expect(audit).toEqual([expect.objectContaining({ outcome: 'unknown', status: 307, attempts: 1, user_id: SANDBOX_CAROL.id })]);
    // The emulator applies nothing on a redirect: the user is still there.
    expect((await h.ok<{ id: string }>('get_access_user', { user_id: SANDBOX_CAROL.id })).id).toBe(SANDBOX_CAROL.id);
  });

  it('a same-host redirect loop costs exactly one request (following it, then retrying, made 84)', async () => {
    const h = await harness();
    const self = userUrl(h.emulator.origin, h.emulator.accountId, SANDBOX_ALICE.id);
    h.emulator.inject({ fault: { kind: 'redirect', status: 308, location: self }, method: 'GET', times: 100 });

    const result = await h.call('get_access_user', { user_id: SANDBOX_ALICE.id });

    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('HTTP 308');
    expect(h.emulator.requestCount()).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 2. The deadline is a deadline
// ---------------------------------------------------------------------------------------------------------

describe('retry waits stay within the call deadline', () => {
  it('a Retry-After longer than the time left is reported at once, not slept', async () => {
    const h = await harness({ timeoutMs: 2_000 });
    h.emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '25' }, method: 'GET', times: 4 });

    const text = await h.fails('get_access_user', { user_id: SANDBOX_ALICE.id });

    expect(h.emulator.requestCount()).toBe(1);
    expect(h.clock.totalSlept()).toBe(0);
    expect(text).toContain('HTTP 429');
    expect(text).toContain('after 25 s');
  });

  it('a Retry-After that fits in the time left is still waited out and retried', async () => {
    const h = await harness({ timeoutMs: 20_000 });
    h.emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '1' }, method: 'GET' });

    const user = await h.ok<{ id: string }>('get_access_user', { user_id: SANDBOX_ALICE.id });

    expect(user.id).toBe(SANDBOX_ALICE.id);
    expect(h.emulator.requestCount()).toBe(2);
    expect(h.clock.sleeps).toEqual([1_000]);
  });

  it('the spawned CLI (real clock, --timeout-ms 2000) answers a 429 Retry-After 25 well before 25 s', async () => {
    const emulator = await startTestEmulator();
    open.push(emulator);
    emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '25' }, method: 'GET', times: 4 });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...SOURCE_ENTRY, '--timeout-ms', '2000'],
      env: cleanEnv({ CLOUDFLARE_API_TOKEN: TEST_TOKEN, CLOUDFLARE_BASE_URL: emulator.baseUrl, CLOUDFLARE_ACCOUNT_ID: emulator.accountId }),
      cwd: PROJECT_ROOT,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'upstream-safety', version: '1.0.0' });
    await client.connect(transport);
    open.push(client);

    const started = Date.now();
    const result = (await client.callTool({ name: 'get_access_user', arguments: { user_id: SANDBOX_ALICE.id } })) as CallToolResult;
    const elapsed = Date.now() - started;

    expect(elapsed).toBeLessThan(10_000);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('after 25 s');
    expect(emulator.requestCount()).toBe(1);
  }, 40_000);
});

// ---------------------------------------------------------------------------------------------------------
// 3. Cancellation (notifications/cancelled from the SDK client's per-request signal)
// ---------------------------------------------------------------------------------------------------------

/**
 * A FakeClock whose sleep really waits: until the call's signal aborts or the test calls release().
 * Time advances only by waits that ran to their end.
 */
function gatedClock(): { clock: FakeClock; pending(): number; release(): void } {
  const start = Date.now();
  let offset = 0;
  const sleeps: number[] = [];
  const waiting = new Set<() => void>();
  const clock: FakeClock = {
    sleeps,
    now: () => start + offset,
    random: () => 0.5,
    totalSlept: () => sleeps.reduce((sum, ms) => sum + ms, 0),
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        sleeps.push(ms);
        const finish = (elapsed: number) => {
          waiting.delete(released);
          signal?.removeEventListener('abort', aborted);
          offset += elapsed;
          resolve();
        };
        const released = () => finish(ms);
        const aborted = () => finish(0);
        if (signal?.aborted) return aborted();
        waiting.add(released);
        signal?.addEventListener('abort', aborted, { once: true });
      }),
  };
  return { clock, pending: () => waiting.size, release: () => [...waiting].forEach((wake) => wake()) };
}

describe('cancellation', () => {
  it('a request in flight is aborted and never retried', async () => {
    // Short undici timeouts: a server that ignored the cancel would time out the hung request and retry it
    // well within the waits below.
    const h = await harness({ headersTimeoutMs: 300, bodyTimeoutMs: 300 });
    h.emulator.inject({ fault: { kind: 'hang' }, method: 'GET', times: 10 });
    const controller = new AbortController();
    const call = h.mcp.callTool({ name: 'get_access_user', arguments: { user_id: SANDBOX_ALICE.id } }, undefined, { signal: controller.signal });
    const settled = call.then(
      () => 'resolved',
      () => 'rejected',
    );

    await until(() => h.emulator.requestCount() === 1, 'the first request');
    await pause(100);
    controller.abort();

    expect(await settled).toBe('rejected');
    await pause(500);
    expect(h.emulator.requestCount()).toBe(1);
    // The server side ended the call too (it did not sit on the hung request).
    expect(h.wired.services.calls.size).toBe(0);
    await pause(500);
    expect(h.emulator.requestCount()).toBe(1);
  });

  it('a cancel during a Retry-After wait sends no retry; the refused DELETE is audited failed', async () => {
    const gate = gatedClock();
    const h = await harness({ clock: gate.clock });
    h.emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '5' }, method: 'DELETE' });
    const controller = new AbortController();
    const call = h.mcp.callTool(
      { name: 'delete_access_user', arguments: { user_id: SANDBOX_CAROL.id, confirm: true } },
      undefined,
      { signal: controller.signal },
    );
    const settled = call.then(
      () => 'resolved',
      () => 'rejected',
    );

    await until(() => gate.pending() === 1, 'the Retry-After wait');
    expect(gate.clock.sleeps).toEqual([5_000]);
    controller.abort();
    expect(await settled).toBe('rejected');
    await until(() => audits(h.logLines).some((record) => record.tool === 'delete_access_user'), 'the audit line');
    // Whatever the clock does now, the retry that was due must not go out.
    gate.release();
    await pause(200);

    expect(h.emulator.requests.filter((request) => request.method === 'DELETE')).toHaveLength(1);
    expect((await h.ok<{ id: string }>('get_access_user', { user_id: SANDBOX_CAROL.id })).id).toBe(SANDBOX_CAROL.id);
    // The only DELETE sent was answered 429: Cloudflare refused it (rejected before processing, which is why
    // even a POST may be retried on 429). The cancel came during the wait, so no later attempt could have
    // applied it either. Nothing is open: by context.ts's own rule ("an error answer from Cloudflare means
    // the write was refused") the audit must say failed, with the 429, not unknown.
    const audit = audits(h.logLines).filter((record) => record.tool === 'delete_access_user');
    expect(audit).toEqual([expect.objectContaining({ outcome: 'failed', status: 429, attempts: 1, user_id: SANDBOX_CAROL.id })]);
  });

  it('a call cancelled before its first request sends nothing and is audited not_sent', async () => {
    // Through the SDK client this cannot be staged deterministically (an already-aborted signal makes the
    // client throw before it sends the tools/call at all, and a cancel racing the request is not ordered),
    // so the server side is driven directly: runTool with a channel whose signal is already aborted.
    const emulator = await startTestEmulator();
    open.push(emulator);
    const built = buildWiring(emulator);
    open.push({ close: () => built.closeNetwork() });

    const result = await built.run(toolNamed('delete_access_user'), { user_id: SANDBOX_CAROL.id, confirm: true }, { signal: AbortSignal.abort() });

    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/cancel/i);
    expect(emulator.requestCount()).toBe(0);
    expect(audits(built.logLines)).toEqual([expect.objectContaining({ tool: 'delete_access_user', outcome: 'not_sent', attempts: 0 })]);
  });
});
