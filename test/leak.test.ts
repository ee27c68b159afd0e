/**
 * Secret-leak scan: the whole tool surface (every tool's success path and the
 * error paths: bad input, 404, bad credentials, rate limit, 5xx, network reset,
 * no credentials, missing account, delete without confirm, an upstream that
 * echoes the credentials back) with distinctive canary credentials, through
 *  (a) the in-memory MCP client: every result, log notification and stderr log line;
 *  (b) the real CLI over stdio (node --import tsx src/index.ts): all of stdout and stderr,
 *      with a token, with email + Global API Key, with bad credentials, without any,
 *      and at --log-level debug.
 * None of the canaries, nor any Authorization / X-Auth-Key header value the
 * emulator received, may appear in anything the server emitted. The emulator
 * must have received them (so the scan is not vacuous).
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/sandbox/emulator.js';
import { SANDBOX_ALICE, SANDBOX_BOB } from '../src/sandbox/emulator.js';
import { allTools } from '../src/tools/index.js';
import { READ_ONLY_TOKEN, startHarness, startTestEmulator, TEST_KEY, TEST_TOKEN, textOf, type Harness, type HarnessOptions } from './helpers/harness.js';
import { cleanEnv, SOURCE_ENTRY } from './helpers/spawn.js';
import { StdioRpcSession } from './hardening/stdio-rpc.js';

/** The owner's email: not a secret (get_current_user exists to show it), but it must stay out of the logs. */
const OWNER_EMAIL = 'leak.owner@corp.example';
const BAD_TOKEN = 'cfut_LEAKCANARY_badtoken_0b1c2d3e4f5a6b7c';
const BAD_KEY = 'LEAKCANARYbadglobalkey_fedcba9876543210';
const CANARIES = [TEST_TOKEN, TEST_KEY, READ_ONLY_TOKEN, BAD_TOKEN, BAD_KEY];
const UNKNOWN_USER = '00000000-0000-4000-8000-00000000beef';
const OTHER_ACCOUNT = 'f'.repeat(32);

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startTestEmulator({ email: OWNER_EMAIL });
});
afterAll(async () => {
  await emulator?.close();
});

type Call = (name: string, args?: Record<string, unknown>) => Promise<CallToolResult>;

let uniqueness = 0;

/** Arguments every tool rejects (each has at least one of these fields, all invalid, plus hostile extras). */
const BAD_INPUT = {
  account_id: '../../user',
  user_id: '../x',
  email: 'not-an-email',
  name: '',
  nonce: '%2e%2e',
  fields: 5,
  confirm: 'yes',
  authorization: `Bearer ${TEST_TOKEN}`,
};

/**
 * Drives every tool's success path and every error path we can reach through
 * `call`. `fast`: the clock is fake, so persistent retry cases cost nothing.
 */
async function exerciseSurface(call: Call, secrets: { token?: string; key?: string }, fast: boolean, accountArgs: Record<string, string> = {}): Promise<CallToolResult[]> {
  const results: CallToolResult[] = [];
  const run = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await call(name, { ...accountArgs, ...args });
    results.push(result);
    return result;
  };
  const userArgs = { user_id: SANDBOX_ALICE.id };
  emulator.clearFaults();

  // Success paths, every tool.
  await run('get_current_user');
  await run('list_access_users', { email: SANDBOX_ALICE.email });
  await run('get_access_user', userArgs);
  const email = `leak.${process.pid}.${++uniqueness}@corp.example`;
  const created = await run('create_access_user', { email, name: 'Leak Scan' });
  await run('update_access_user', { ...userArgs, email: SANDBOX_ALICE.email, name: 'Alice Nakamura' });
  await run('list_active_sessions', userArgs);
  await run('get_active_session', { ...userArgs, nonce: SANDBOX_ALICE.sessionNonce, detail: 'full' });
  await run('get_last_seen_identity', { ...userArgs, detail: 'full' });
  await run('list_failed_logins', userArgs);
  const createdId = (created.structuredContent as { id?: string } | undefined)?.id;
  // Delete without confirm, then with.
  await run('delete_access_user', { user_id: createdId ?? UNKNOWN_USER });
  await run('delete_access_user', { user_id: createdId ?? UNKNOWN_USER, confirm: true });

  // Bad input, every tool.
  for (const tool of allTools) await run(tool.name, BAD_INPUT);

  // Not found, and the wrong account.
  await run('get_access_user', { user_id: UNKNOWN_USER });
  await run('get_active_session', { ...userArgs, nonce: 'NoSuchNonce' });
  await run('get_last_seen_identity', { user_id: SANDBOX_BOB.id });
  await run('delete_access_user', { user_id: UNKNOWN_USER, confirm: true });
  await run('list_access_users', { account_id: OTHER_ACCOUNT });

  // Rate limit, 5xx, network resets.
  emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '120' } });
  await run('list_access_users');
  emulator.inject({ fault: { kind: 'status', status: 500 } });
  await run('get_access_user', userArgs);
  emulator.inject({ fault: { kind: 'status', status: 503 } });
  await run('get_access_user', userArgs);
  emulator.inject({ fault: { kind: 'reset', after: 'receive' } });
  await run('list_failed_logins', userArgs);
  emulator.inject({ fault: { kind: 'reset', after: 'process' }, method: 'POST' });
  await run('create_access_user', { email: `leak.lost.${process.pid}.${++uniqueness}@corp.example` });
  emulator.inject({ fault: { kind: 'truncated' } });
  await run('get_access_user', userArgs);
  if (fast) {
    emulator.inject({ fault: { kind: 'status', status: 429 }, times: 4 });
    await run('list_access_users');
    emulator.inject({ fault: { kind: 'reset' }, times: 4 });
    await run('get_access_user', userArgs);
    emulator.inject({ fault: { kind: 'status', status: 503 }, times: 4 });
    await run('list_active_sessions', userArgs);
  }

  // An upstream that echoes the credentials back: in an error, an HTML page, and a successful result.
  const token = secrets.token ?? 'none';
  const key = secrets.key ?? 'none';
  const echo = `Invalid request headers: Authorization: Bearer ${token}; X-Auth-Key: ${key}; token=${token}`;
  emulator.inject({ fault: { kind: 'status', status: 400, body: JSON.stringify({ success: false, errors: [{ code: 6003, message: echo }], messages: [], result: null }) } });
  await run('get_access_user', userArgs);
  emulator.inject({ fault: { kind: 'status', status: 200, body: `<!DOCTYPE html><html><head><title>${echo}</title></head><body>${echo}</body></html>` } });
  await run('get_access_user', userArgs);
  emulator.inject({
    fault: {
      kind: 'status',
      status: 200,
      body: JSON.stringify({
        success: true,
        errors: [],
        messages: [{ code: 1, message: echo }],
        result: { id: SANDBOX_ALICE.id, email: SANDBOX_ALICE.email, name: `Bearer ${token}`, note: echo, custom: { key, token } },
      }),
    },
  });
  await run('get_access_user', userArgs);
  emulator.clearFaults();
  return results;
}

/** Header values the emulator received, so the scan covers exactly what was sent. */
function credentialHeaderValues(from: number): string[] {
  const values = new Set<string>();
  for (const request of emulator.requests.slice(from)) {
    for (const name of ['authorization', 'x-auth-key']) {
      const value = request.headers[name];
      for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
        values.add(v);
        const bearer = /^Bearer\s+(\S+)$/i.exec(v)?.[1];
        if (bearer) values.add(bearer);
      }
    }
  }
  return [...values];
}

function expectNoSecrets(label: string, emitted: string, extraSecrets: readonly string[] = []): void {
  expect(emitted.length, `${label}: nothing was collected`).toBeGreaterThan(0);
  for (const secret of [...CANARIES, ...extraSecrets]) {
    if (emitted.includes(secret)) {
      const at = emitted.indexOf(secret);
      throw new Error(`${label} leaks a credential (${secret.slice(0, 10)}…) in: ${JSON.stringify(emitted.slice(Math.max(0, at - 120), at + secret.length + 40))}`);
    }
  }
  expect(emitted, label).not.toMatch(/LEAKCANARY/);
  // A bearer header with anything but the redaction marker.
  expect(emitted, label).not.toMatch(/Bearer\s+(?!\[REDACTED\])[A-Za-z0-9._~+/=-]{8,}/i);
  expect(emitted, label).not.toMatch(/x-auth-key"?\s*[:=]\s*"?(?!\[REDACTED\])[A-Za-z0-9]{8,}/i);
}

// ---------------------------------------------------------------------------
// (a) in memory

describe('in-memory client: results, log notifications, stderr log lines', () => {
  const harnesses: Harness[] = [];
  const start = async (options: HarnessOptions) => {
    const h = await startHarness({ sharedEmulator: emulator, headersTimeoutMs: 500, bodyTimeoutMs: 500, ...options });
    harnesses.push(h);
    return h;
  };
  afterAll(async () => {
    for (const h of harnesses) await h.close();
  });

  const emittedBy = (h: Harness) =>
    [...h.results.map((r) => JSON.stringify(r)), ...h.notifications.map((n) => JSON.stringify(n)), ...h.logLines].join('\n');
  const logsOf = (h: Harness) => [...h.notifications.map((n) => JSON.stringify(n)), ...h.logLines].join('\n');

  it('API token (token, email and key all set: the token is used)', async () => {
    const from = emulator.requests.length;
    const h = await start({ credentials: { CLOUDFLARE_API_TOKEN: TEST_TOKEN, CLOUDFLARE_EMAIL: OWNER_EMAIL, CLOUDFLARE_API_KEY: TEST_KEY } });
    const results = await exerciseSurface(h.call, { token: TEST_TOKEN, key: TEST_KEY }, true);
    // The surface really was exercised: successes, errors, audits, debug lines.
    expect(results.filter((r) => !r.isError).length).toBeGreaterThanOrEqual(10);
    expect(results.filter((r) => r.isError).length).toBeGreaterThanOrEqual(20);
    // The echoes reached the output, scrubbed.
    expect(emittedBy(h)).toContain('[REDACTED]');
    expect(h.notifications.length).toBeGreaterThan(0);
    expect(h.logLines.some((line) => line.includes('"level":"debug"'))).toBe(true);
    // And the credentials really were sent.
    const sent = credentialHeaderValues(from);
    expect(sent).toContain(`Bearer ${TEST_TOKEN}`);
    expectNoSecrets('token run', emittedBy(h), sent);
    expect(logsOf(h)).not.toContain(OWNER_EMAIL);
  });

  it('email + Global API Key', async () => {
    const from = emulator.requests.length;
    const h = await start({ credentials: { CLOUDFLARE_EMAIL: OWNER_EMAIL, CLOUDFLARE_API_KEY: TEST_KEY } });
    const results = await exerciseSurface(h.call, { key: TEST_KEY }, true);
    expect(results.filter((r) => !r.isError).length).toBeGreaterThanOrEqual(10);
    const sent = credentialHeaderValues(from);
    expect(sent).toContain(TEST_KEY);
    expect(emulator.requests.slice(from).some((r) => r.headers['x-auth-email'] === OWNER_EMAIL)).toBe(true);
    expectNoSecrets('global key run', emittedBy(h), sent);
    expect(logsOf(h)).not.toContain(OWNER_EMAIL);
  });

  it('bad token, bad key, read-only token: auth failures on every path', async () => {
    const from = emulator.requests.length;
    const badToken = await start({ credentials: { CLOUDFLARE_API_TOKEN: BAD_TOKEN } });
    const badKey = await start({ credentials: { CLOUDFLARE_EMAIL: OWNER_EMAIL, CLOUDFLARE_API_KEY: BAD_KEY } });
    const readOnly = await start({ credentials: { CLOUDFLARE_API_TOKEN: READ_ONLY_TOKEN } });
    for (const [h, secret] of [[badToken, BAD_TOKEN], [badKey, BAD_KEY], [readOnly, READ_ONLY_TOKEN]] as const) {
      const results = await exerciseSurface(h.call, { token: secret, key: secret }, true);
      expect(results.some((r) => r.isError && /Cloudflare rejected the credentials \(HTTP 403\)/.test(textOf(r)))).toBe(true);
    }
    const sent = credentialHeaderValues(from);
    expect(sent).toEqual(expect.arrayContaining([`Bearer ${BAD_TOKEN}`, BAD_KEY, `Bearer ${READ_ONLY_TOKEN}`]));
    for (const h of [badToken, badKey, readOnly]) expectNoSecrets('auth failure run', emittedBy(h), sent);
  });

  it('no credentials, and no account', async () => {
    const none = await start({ credentials: {} });
    const noAccount = await start({ defaultAccountId: null });
    await exerciseSurface(none.call, {}, true);
    expect(none.results.some((r) => /No Cloudflare credentials configured/.test(textOf(r)))).toBe(true);
    await exerciseSurface(noAccount.call, { token: TEST_TOKEN }, true);
    expect(noAccount.results.some((r) => /No account_id given and CLOUDFLARE_ACCOUNT_ID is not set/.test(textOf(r)))).toBe(true);
    expectNoSecrets('no credentials run', emittedBy(none));
    expectNoSecrets('no account run', emittedBy(noAccount));
  });
});

// ---------------------------------------------------------------------------
// (b) the real CLI over stdio

describe('the CLI over stdio: all of stdout and stderr', () => {
  const baseEnv = (extra: Record<string, string>) =>
    cleanEnv({ CLOUDFLARE_BASE_URL: emulator.baseUrl, CLOUDFLARE_ACCOUNT_ID: emulator.accountId, ...extra });

  /** Runs the surface through a spawned CLI; returns everything it wrote. */
  async function cliRun(env: Record<string, string>, flags: string[], secrets: { token?: string; key?: string }, accountArgs: Record<string, string> = {}) {
    const session = new StdioRpcSession([...SOURCE_ENTRY, ...flags], env);
    let results: CallToolResult[] = [];
    try {
      await session.initialize();
      const level = await session.request('logging/setLevel', { level: 'debug' });
      expect(level.error).toBeUndefined();
      const listed = await session.request('tools/list');
      expect((listed.result as { tools: unknown[] }).tools).toHaveLength(13);
      results = await exerciseSurface((name, args) => session.callTool(name, args), secrets, false, accountArgs);
    } finally {
      expect(await session.close()).toBe(0);
    }
    // stdout is JSON-RPC only; stderr is JSON log lines only.
    for (const message of session.messages()) expect(message).toMatchObject({ jsonrpc: '2.0' });
    for (const line of session.stderr.split('\n').filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();
    return { results, stdout: session.stdout, stderr: session.stderr };
  }

  it('token + email + key set (token used), --log-level debug', async () => {
    const from = emulator.requests.length;
    const run = await cliRun(
      baseEnv({ CLOUDFLARE_API_TOKEN: TEST_TOKEN, CLOUDFLARE_EMAIL: OWNER_EMAIL, CLOUDFLARE_API_KEY: TEST_KEY }),
      ['--log-level', 'debug'],
      { token: TEST_TOKEN, key: TEST_KEY },
    );
    expect(run.results.filter((r) => !r.isError).length).toBeGreaterThanOrEqual(10);
    expect(run.stderr).toMatch(/"level":"debug"/);
    expect(run.stdout).toContain('[REDACTED]');
    expect(run.stdout).toMatch(/"method":"notifications\/message"/);
    const sent = credentialHeaderValues(from);
    expect(sent).toContain(`Bearer ${TEST_TOKEN}`);
    expect(emulator.requests.slice(from).every((r) => String(r.headers['user-agent']).startsWith('cloudflare-users-mcp/'))).toBe(true);
    expectNoSecrets('CLI stdout (token)', run.stdout, sent);
    expectNoSecrets('CLI stderr (token)', run.stderr, sent);
    expect(run.stderr).not.toContain(OWNER_EMAIL);
  });

  it('email + Global API Key only, --log-level debug, no CLOUDFLARE_ACCOUNT_ID', async () => {
    const from = emulator.requests.length;
    const env = baseEnv({ CLOUDFLARE_EMAIL: OWNER_EMAIL, CLOUDFLARE_API_KEY: TEST_KEY, CLOUDFLARE_ACCOUNT_ID: '' });
    // First without any account (the missing-account path), then the whole surface with account_id passed.
    const session = new StdioRpcSession([...SOURCE_ENTRY, '--log-level', 'debug'], env);
    let missing: CallToolResult;
    try {
      await session.initialize();
      missing = await session.callTool('list_access_users', {});
    } finally {
      await session.close();
    }
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/No account_id given and CLOUDFLARE_ACCOUNT_ID is not set/);
    expectNoSecrets('CLI (no account) stdout', session.stdout);
    expectNoSecrets('CLI (no account) stderr', session.stderr);

    const run = await cliRun(env, ['--log-level', 'debug'], { key: TEST_KEY }, { account_id: emulator.accountId });
    expect(run.results.filter((r) => !r.isError).length).toBeGreaterThanOrEqual(9);
    const sent = credentialHeaderValues(from);
    expect(sent).toContain(TEST_KEY);
    expect(emulator.requests.slice(from).some((r) => r.headers['x-auth-email'] === OWNER_EMAIL && r.headers.authorization === undefined)).toBe(true);
    expectNoSecrets('CLI stdout (global key)', run.stdout, sent);
    expectNoSecrets('CLI stderr (global key)', run.stderr, sent);
    expect(run.stderr).not.toContain(OWNER_EMAIL);
  });

  it('a bad token and a bad key: auth failures', async () => {
    const from = emulator.requests.length;
    const badToken = await cliRun(baseEnv({ CLOUDFLARE_API_TOKEN: BAD_TOKEN }), [], { token: BAD_TOKEN });
    const badKey = await cliRun(baseEnv({ CLOUDFLARE_EMAIL: OWNER_EMAIL, CLOUDFLARE_API_KEY: BAD_KEY }), ['--log-level', 'debug'], { key: BAD_KEY });
    for (const run of [badToken, badKey]) {
      expect(run.results.some((r) => r.isError && /Cloudflare rejected the credentials \(HTTP 403\)/.test(textOf(r)))).toBe(true);
    }
    const sent = credentialHeaderValues(from);
    expect(sent).toEqual(expect.arrayContaining([`Bearer ${BAD_TOKEN}`, BAD_KEY]));
    for (const run of [badToken, badKey]) {
      expectNoSecrets('CLI stdout (bad credentials)', run.stdout, sent);
      expectNoSecrets('CLI stderr (bad credentials)', run.stderr, sent);
    }
  });

  it('no credentials at all', async () => {
    const run = await cliRun(baseEnv({}), ['--log-level', 'debug'], {});
    expect(run.results.every((r) => r.isError)).toBe(true);
    expect(run.results.some((r) => /No Cloudflare credentials configured/.test(textOf(r)))).toBe(true);
    expectNoSecrets('CLI stdout (no credentials)', run.stdout);
    expectNoSecrets('CLI stderr (no credentials)', run.stderr);
  });
});
