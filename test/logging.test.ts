/**
 * MCP logging through the real SDK Client: logging/setLevel is honoured per session, each upstream request
 * is summarised to the calling client (debug), rate limits and retries are warnings, a client that never
 * chose a level gets info and up, and progress is never filtered by the log level.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  LoggingMessageNotificationSchema,
  type LoggingLevel,
  type LoggingMessageNotification,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SANDBOX_ALICE, type Emulator } from '../src/sandbox/emulator.js';
import { DEFAULT_CLIENT_LOG_LEVEL } from '../src/server.js';
import { defineTool } from '../src/tools/define.js';
import { allTools } from '../src/tools/index.js';
import { connectInMemory, startHarness, startTestEmulator, TEST_TOKEN, type Harness } from './helpers/harness.js';

type LogParams = LoggingMessageNotification['params'];
interface Summary {
  msg: string;
  tool: string;
  request: string;
  status?: number;
  failure?: string;
  ms: number;
  attempt: number;
  retry_in_ms?: number;
}

const dataOf = (notifications: unknown[]) => notifications.map((params) => (params as LogParams).data as Summary);
const summaries = (notifications: unknown[]) => dataOf(notifications).filter((data) => data.msg?.startsWith('cloudflare '));

let emulator: Emulator;
let h: Harness | undefined;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterEach(async () => {
  emulator.clearFaults();
  await h?.close();
  h = undefined;
});
afterAll(async () => {
  await emulator.close();
});

async function harnessAt(level: LoggingLevel | undefined): Promise<Harness> {
  h = await startHarness({ sharedEmulator: emulator });
  if (level) await h.mcp.setLoggingLevel(level);
  return h;
}

describe('upstream request summaries', () => {
  it('a client at debug gets one summary per upstream request: method, path template, status, ms, attempt', async () => {
    const harness = await harnessAt('debug');
    emulator.resetRequests();
    await harness.ok('list_access_users', { email: SANDBOX_ALICE.email });
    await harness.ok('get_access_user', { user_id: SANDBOX_ALICE.id });
    const sent = summaries(harness.notifications);
    expect(sent).toHaveLength(emulator.requests.length);
    expect(sent.map(({ msg, tool, request, status, attempt }) => ({ msg, tool, request, status, attempt }))).toEqual([
      { msg: 'cloudflare request', tool: 'list_access_users', request: 'GET /accounts/{account_id}/access/users', status: 200, attempt: 1 },
      { msg: 'cloudflare request', tool: 'get_access_user', request: 'GET /accounts/{account_id}/access/users/{user_id}', status: 200, attempt: 1 },
    ]);
    for (const summary of sent) expect(summary.ms).toBeGreaterThanOrEqual(0);
    for (const params of harness.notifications as LogParams[]) expect(params.level).toBe('debug');
    // The template, never the filled path, and never a credential.
    const everything = JSON.stringify(harness.notifications);
    expect(everything).not.toContain(emulator.accountId);
    expect(everything).not.toContain(SANDBOX_ALICE.id);
    expect(everything).not.toContain(TEST_TOKEN);
  });

  it('a client at warning gets only the rate limit, as a warning saying when the retry comes', async () => {
    const harness = await harnessAt('warning');
    emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '1' } });
    emulator.resetRequests();
    await harness.ok('list_access_users');
    expect(emulator.requests).toHaveLength(2);
    expect(harness.notifications).toHaveLength(1);
    const [params] = harness.notifications as LogParams[];
    expect(params!.level).toBe('warning');
    expect(params!.data).toMatchObject({
      msg: 'cloudflare rate limit',
      tool: 'list_access_users',
      request: 'GET /accounts/{account_id}/access/users',
      status: 429,
      attempt: 1,
      retry_in_ms: 1000,
    });
  });

  it('a retry after a gateway error is a warning; the attempt that succeeds is debug', async () => {
    const harness = await harnessAt('debug');
    emulator.inject({ fault: { kind: 'status', status: 503 } });
    await harness.ok('get_access_user', { user_id: SANDBOX_ALICE.id });
    const sent = (harness.notifications as LogParams[]).map(({ level, data }) => ({ level, ...(data as Summary) }));
    expect(sent.map(({ level, msg, status, attempt }) => ({ level, msg, status, attempt }))).toEqual([
      { level: 'warning', msg: 'cloudflare retry', status: 503, attempt: 1 },
      { level: 'debug', msg: 'cloudflare request', status: 200, attempt: 2 },
    ]);
    expect(sent[0]!.retry_in_ms).toBeGreaterThan(0);
  });

  it(`a client that never set a level gets ${DEFAULT_CLIENT_LOG_LEVEL} and up: warnings and audits, no debug summaries`, async () => {
    const harness = await harnessAt(undefined);
    await harness.ok('get_current_user');
    expect(harness.notifications).toEqual([]);
    emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '1' } });
    const created = await harness.ok<{ id: string }>('create_access_user', { email: `logging-default-${Date.now()}@corp.example` });
    expect(dataOf(harness.notifications).map((data) => data.msg)).toEqual(['cloudflare rate limit', 'audit']);
    await harness.ok('delete_access_user', { user_id: created.id, confirm: true });
  });

  it('setLevel error: only errors, so no summary, warning or audit reaches the client', async () => {
    const harness = await harnessAt('error');
    emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '1' } });
    await harness.ok('list_access_users');
    expect(harness.notifications).toEqual([]);
  });

  it('an unknown level is refused', async () => {
    const harness = await harnessAt(undefined);
    await expect(harness.mcp.request({ method: 'logging/setLevel', params: { level: 'verbose' } }, z.object({}))).rejects.toThrow();
  });
});

describe('sessions', () => {
  it('a second session receives none of the first session’s messages, and keeps its own level', async () => {
    const first = await harnessAt('debug');
    const secondServer = first.wired.createServer();
    const second = new Client({ name: 'second', version: '1.0.0' });
    const secondReceived: LogParams[] = [];
    second.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => void secondReceived.push(notification.params));
    await connectInMemory(secondServer, second);
    try {
      await second.setLoggingLevel('debug');
      await first.ok('get_current_user');
      await first.ok('list_access_users');
      expect(summaries(first.notifications)).toHaveLength(2);
      expect(secondReceived).toEqual([]);

      // The second session's own call reaches it, and only it.
      const before = first.notifications.length;
      await second.callTool({ name: 'get_current_user', arguments: {} });
      expect(secondReceived.map(({ data }) => (data as Summary).tool)).toEqual(['get_current_user']);
      expect(first.notifications).toHaveLength(before);

      // Raising the first session's level changes nothing for the second.
      await first.mcp.setLoggingLevel('error');
      await second.callTool({ name: 'get_current_user', arguments: {} });
      expect(secondReceived).toHaveLength(2);
    } finally {
      await second.close();
      await secondServer.close();
    }
  });
});

describe('progress', () => {
  const steps = defineTool({
    name: 'test_steps',
    title: 'Steps (test)',
    toolset: 'users',
    description: 'Reports progress three times, reading the current user at each step.',
    permission: 'none',
    inputSchema: {},
    outputSchema: z.object({ steps: z.number() }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async handler(_args, ctx) {
      for (let step = 1; step <= 3; step++) {
        await ctx.api.getCurrentUser();
        await ctx.progress(step, 3);
      }
      return { data: { steps: 3 }, text: '{"steps":3}' };
    },
  });

  it('is not a log message: a client at error still gets every progress notification', async () => {
    h = await startHarness({ sharedEmulator: emulator, server: { tools: [...allTools, steps] } });
    await h.mcp.setLoggingLevel('error');
    const progress: Progress[] = [];
    await h.mcp.callTool({ name: 'test_steps', arguments: {} }, undefined, { onprogress: (update) => progress.push(update) });
    expect(progress.map((update) => update.progress)).toEqual([1, 2, 3]);
    expect(h.notifications).toEqual([]);
  });
});
