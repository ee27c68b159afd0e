/**
 * A server whose account is fixed (CLOUDFLARE_ACCOUNT_ID, or a session's X-Cloudflare-Account-Id) lists no
 * account_id (src/tools/listing.ts), yet one a model passes anyway is checked (fixedAccountIssue in
 * src/tools/fields.ts, called by runTool): the fixed account is accepted, any other refused before a request.
 * It never switches accounts, and never silently ignores a different one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_ALICE } from '../src/sandbox/emulator.js';
import { startHarness, type Harness } from './helpers/harness.js';

const OTHER_ACCOUNT = 'f'.repeat(32);

let fixed: Harness;
let open: Harness;
let session: Harness;
beforeAll(async () => {
  fixed = await startHarness();
  open = await startHarness({ sharedEmulator: fixed.emulator, defaultAccountId: null });
  // No configured account; the session brings its own (as the HTTP header does).
  session = await startHarness({ sharedEmulator: fixed.emulator, defaultAccountId: null, server: { defaultAccountId: fixed.emulator.accountId } });
});
afterAll(async () => {
  await session.close();
  await open.close();
  await fixed.close();
});

const hasAccountId = (h: Harness) => async () =>
  (await h.mcp.listTools()).tools.some((tool) => Object.hasOwn(tool.inputSchema.properties ?? {}, 'account_id'));

describe('account fixed', () => {
  it('lists no account_id, whether configured or from the session', async () => {
    expect(await hasAccountId(fixed)()).toBe(false);
    expect(await hasAccountId(session)()).toBe(false);
    expect(await hasAccountId(open)()).toBe(true);
  });

  it('accepts account_id equal to the fixed account', async () => {
    for (const h of [fixed, session]) {
      const user = await h.ok('get_access_user', { user_id: SANDBOX_ALICE.id, account_id: h.emulator.accountId });
      expect(user['email']).toBe(SANDBOX_ALICE.email);
    }
  });

  it('refuses another account_id before any request, naming the field and the rule', async () => {
    for (const h of [fixed, session]) {
      h.emulator.resetRequests();
      const text = await h.fails('list_access_users', { account_id: OTHER_ACCOUNT });
      expect(text).toBe(
        `Invalid arguments for list_access_users: account_id must be omitted or equal ${h.emulator.accountId}: this server is fixed to that account ` +
          "(CLOUDFLARE_ACCOUNT_ID or the session's X-Cloudflare-Account-Id). Nothing was sent to Cloudflare.",
      );
      expect(h.emulator.requestCount()).toBe(0);
    }
  });

  it('still checks the format first', async () => {
    expect(await fixed.fails('list_access_users', { account_id: '../x' })).toMatch(/account_id must be 32 lowercase hex characters/);
  });

  it('without a fixed account, account_id picks the account (another one is Cloudflare\'s to refuse)', async () => {
    const user = await open.ok('get_access_user', { user_id: SANDBOX_ALICE.id, account_id: open.emulator.accountId });
    expect(user['id']).toBe(SANDBOX_ALICE.id);
    expect(await open.fails('list_access_users', { account_id: OTHER_ACCOUNT })).toMatch(/rejected the credentials/);
  });
});
