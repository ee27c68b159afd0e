/**
 * The per-call ToolContext (src/tools/context.ts), seen from real MCP clients: progress, confirmation and
 * log notifications reach the calling client only; each session reaches Cloudflare with its own
 * credentials; every upstream write gets its own audit line; the call's own secrets are redacted.
 *
 * Test-only tools are served next to (or instead of) the registry's; everything else is the product's
 * wiring talking to the emulator over loopback.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  ElicitRequestSchema,
  ErrorCode,
  McpError,
  ProgressNotificationSchema,
  type CallToolResult,
  type ElicitRequest,
  type ElicitResult,
  type JSONRPCMessage,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fixedCredentials } from '../src/cloudflare/auth.js';
import { SANDBOX_ALICE, type Emulator } from '../src/sandbox/emulator.js';
import type { Confirmation } from '../src/tools/context.js';
import { defineTool } from '../src/tools/define.js';
import getAccessUser from '../src/tools/get-access-user.js';
import { buildWiring, READ_ONLY_TOKEN, startHarness, startTestEmulator, TEST_TOKEN, textOf, type Harness } from './helpers/harness.js';

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

const progressTool = defineTool({
  name: 'test_progress',
  toolset: 'users',
  title: 'Progress (test)',
  description: 'Reports progress `steps` times, then returns.',
  permission: 'none',
  inputSchema: { steps: z.number().int().min(1).max(50) },
  outputSchema: z.object({ steps: z.number() }),
  annotations: readOnly,
  async handler({ steps }, ctx) {
    for (let i = 1; i <= steps; i++) {
      await ctx.progress(i, steps, `step ${i}`);
      // Yield, so two concurrent calls interleave their notifications.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const data = { steps };
    return { data, text: JSON.stringify(data) };
  },
});

const confirmTool = defineTool({
  name: 'test_confirm',
  toolset: 'users',
  title: 'Confirm (test)',
  description: 'Asks the person `question` and returns the Confirmation.',
  permission: 'none',
  inputSchema: { question: z.string() },
  outputSchema: z.object({ answer: z.enum(['confirmed', 'declined', 'cancelled', 'unsupported']) }),
  annotations: readOnly,
  async handler({ question }, ctx) {
    const data: { answer: Confirmation } = { answer: await ctx.confirm(question) };
    return { data, text: JSON.stringify(data) };
  },
});

/** Run between the two writes of test_two_writes (e.g. to queue a fault for the second). */
let betweenWrites: (() => void) | undefined;

const twoWritesTool = defineTool({
  name: 'test_two_writes',
  toolset: 'users',
  title: 'Two writes (test)',
  description: 'Creates two Zero Trust users, one after the other.',
  permission: 'Access: Users Write',
  inputSchema: { first: z.string(), second: z.string() },
  outputSchema: z.object({ statuses: z.array(z.number()) }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler({ first, second }, ctx) {
    const account = ctx.accountId(undefined);
    const a = await ctx.api.createAccessUser(account, { email: first });
    betweenWrites?.();
    const b = await ctx.api.createAccessUser(account, { email: second });
    const data = { statuses: [a.status, b.status] };
    return { data, text: JSON.stringify(data) };
  },
});

/** Connects like the harness's connectInMemory, and also records every message the client receives. */
async function connectSpied(server: Server, client: Client): Promise<JSONRPCMessage[]> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  const received: JSONRPCMessage[] = [];
  const deliver = clientSide.onmessage;
  clientSide.onmessage = (message, extra) => {
    received.push(message);
    deliver?.(message, extra);
  };
  return received;
}

const methodsOf = (messages: JSONRPCMessage[]): string[] => messages.flatMap((message) => ('method' in message ? [message.method] : []));

const newClient = (name: string, capabilities?: ConstructorParameters<typeof Client>[1]) => new Client({ name, version: '1.0.0' }, capabilities);

interface AuditRecord {
  msg: string;
  tool: string;
  request: string;
  email?: string;
  outcome: string;
  status?: number;
  attempts?: number;
}

const auditLines = (lines: string[]): AuditRecord[] =>
  lines.map((line) => JSON.parse(line) as AuditRecord).filter((record) => record.msg === 'audit');

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.resetRequests();
  emulator.clearFaults();
  betweenWrites = undefined;
});

/** Closers of what a test opened by hand, run after it whatever its outcome. */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanups.splice(0).reverse()) await close();
});

describe('ctx.progress', () => {
  it('reaches the client that asked for it, in order, and no other session of the same wiring', async () => {
    const built = buildWiring(emulator);
    const serverA = built.wired.createServer({ tools: [progressTool] });
    const serverB = built.wired.createServer({ tools: [progressTool] });
    const clientA = newClient('a');
    const clientB = newClient('b');
    cleanups.push(built.closeNetwork, () => serverB.close(), () => serverA.close(), () => clientB.close(), () => clientA.close());
    const wireA = await connectSpied(serverA, clientA);
    const wireB = await connectSpied(serverB, clientB);
    // B's own handler replaces the SDK's token routing: it would see any progress at all, for any token.
    const progressAtB: unknown[] = [];
    clientB.setNotificationHandler(ProgressNotificationSchema, (notification) => void progressAtB.push(notification.params));

    const progressAtA: Progress[] = [];
    const steps = 6;
    const [resultA, resultB] = await Promise.all([
      clientA.callTool({ name: 'test_progress', arguments: { steps } }, undefined, { onprogress: (p) => void progressAtA.push(p) }),
      clientB.callTool({ name: 'test_progress', arguments: { steps } }),
    ]);

    expect(resultA.isError).toBeFalsy();
    expect(resultB.isError).toBeFalsy();
    expect(progressAtA).toEqual(Array.from({ length: steps }, (_, i) => ({ progress: i + 1, total: steps, message: `step ${i + 1}` })));
    expect(methodsOf(wireA).filter((method) => method === 'notifications/progress')).toHaveLength(steps);
    expect(progressAtB).toEqual([]);
    expect(methodsOf(wireB)).not.toContain('notifications/progress');
    expect(emulator.requests).toHaveLength(0);
  });

  it('sends nothing when the caller gave no progressToken', async () => {
    const built = buildWiring(emulator);
    const server = built.wired.createServer({ tools: [progressTool] });
    const client = newClient('quiet');
    cleanups.push(built.closeNetwork, () => server.close(), () => client.close());
    const wire = await connectSpied(server, client);
    const result = await client.callTool({ name: 'test_progress', arguments: { steps: 3 } });
    expect(result.structuredContent).toEqual({ steps: 3 });
    expect(methodsOf(wire)).not.toContain('notifications/progress');
  });
});

describe('ctx.confirm', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** A harness whose client can elicit and answers with `answers`, one per question, recording each question. */
  async function askingHarness(answers: ElicitResult[], canAskClient?: boolean) {
    h = await startHarness({
      sharedEmulator: emulator,
      server: { tools: [confirmTool], ...(canAskClient === undefined ? {} : { canAskClient }) },
      clientCapabilities: { capabilities: { elicitation: {} } },
    });
    const asked: ElicitRequest['params'][] = [];
    h.mcp.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(request.params);
      const answer = answers.shift();
      if (!answer) throw new Error('asked more often than expected');
      return answer;
    });
    return { harness: h, asked };
  }

  const answerOf = async (harness: Harness, question: string): Promise<Confirmation> =>
    (await harness.ok<{ answer: Confirmation }>('test_confirm', { question })).answer;

  it('maps the person’s answer: accept+true → confirmed, accept+false → declined, decline → declined, cancel → cancelled', async () => {
    const { harness, asked } = await askingHarness([
      { action: 'accept', content: { confirm: true } },
      { action: 'accept', content: { confirm: false } },
      { action: 'decline' },
      { action: 'cancel' },
    ]);
    expect(await answerOf(harness, 'Delete alice@corp.example?')).toBe('confirmed');
    expect(await answerOf(harness, 'Delete bob@corp.example?')).toBe('declined');
    expect(await answerOf(harness, 'Delete carol@example.com?')).toBe('declined');
    expect(await answerOf(harness, 'Delete dave@corp.example?')).toBe('cancelled');
    // The person saw exactly the question, with one boolean to tick.
    expect(asked.map((params) => params.message)).toEqual([
      'Delete alice@corp.example?',
      'Delete bob@corp.example?',
      'Delete carol@example.com?',
      'Delete dave@corp.example?',
    ]);
    for (const params of asked) {
      expect('requestedSchema' in params && params.requestedSchema.required).toEqual(['confirm']);
    }
  });

  it('accept without content is not a confirmation', async () => {
    const { harness } = await askingHarness([{ action: 'accept' }]);
    expect(await answerOf(harness, 'Delete x?')).toBe('declined');
  });

  it('is unsupported, and asks nothing, when the client did not declare elicitation', async () => {
    h = await startHarness({ sharedEmulator: emulator, server: { tools: [confirmTool] } });
    // A client without the capability cannot register an elicitation handler; the fallback sees any request.
    const requests: string[] = [];
    h.mcp.fallbackRequestHandler = async (request) => {
      requests.push(request.method);
      throw new McpError(ErrorCode.MethodNotFound, 'not supported');
    };
    expect(await answerOf(h, 'Delete x?')).toBe('unsupported');
    expect(requests).toEqual([]);
  });

  it('is unsupported on a server that cannot ask the client (canAskClient: false), even when the client could', async () => {
    const { harness, asked } = await askingHarness([{ action: 'accept', content: { confirm: true } }], false);
    expect(await answerOf(harness, 'Delete x?')).toBe('unsupported');
    expect(asked).toEqual([]);
  });

  // The question goes out with the call's signal, not only the client's: the deadline (or shutdown) withdraws
  // it with notifications/cancelled. Checked on the wire: the SDK 1.32 client ignores a cancellation of
  // request id 0 (`if (!requestId) return`), and the first server-to-client request has id 0.
  it('withdraws a question still open when the call’s deadline passes', async () => {
    h = await startHarness({
      sharedEmulator: emulator,
      timeoutMs: 100,
      server: { tools: [confirmTool] },
      clientCapabilities: { capabilities: { elicitation: {} } },
    });
    const received: Array<{ method?: string; id?: unknown; params?: { requestId?: unknown } }> = [];
    const transport = h.mcp.transport!;
    const deliver = transport.onmessage!;
    transport.onmessage = (message, extra) => {
      received.push(message as (typeof received)[number]);
      deliver(message, extra);
    };
    h.mcp.setRequestHandler(ElicitRequestSchema, async () => {
      // The person would answer after 1 s: past the call's 100 ms deadline.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return { action: 'accept', content: { confirm: true } };
    });
    const result = await h.call('test_confirm', { question: 'Delete x?' });
    expect(result.structuredContent).toEqual({ answer: 'cancelled' });
    const asked = received.find((message) => message.method === 'elicitation/create');
    expect(asked).toBeDefined();
    expect(received).toContainEqual(expect.objectContaining({ method: 'notifications/cancelled', params: expect.objectContaining({ requestId: asked!.id }) }));
  });
});

describe('credentials per session', () => {
  const bearer = (token: string) => `Bearer ${token}`;

  it('two sessions of one wiring each reach Cloudflare with their own token, under concurrent calls', async () => {
    // The wiring itself holds no credentials: whatever reaches the emulator comes from the session.
    const built = buildWiring(emulator, { credentials: {} });
    const serverA = built.wired.createServer({ credentials: fixedCredentials({ CLOUDFLARE_API_TOKEN: TEST_TOKEN }) });
    const serverB = built.wired.createServer({ credentials: fixedCredentials({ CLOUDFLARE_API_TOKEN: READ_ONLY_TOKEN }) });
    const clientA = newClient('a');
    const clientB = newClient('b');
    cleanups.push(built.closeNetwork, () => serverB.close(), () => serverA.close(), () => clientB.close(), () => clientA.close());
    await connectSpied(serverA, clientA);
    await connectSpied(serverB, clientB);

    // A asks for /user, B lists users: the path tells which session a request came from.
    const calls: Array<Promise<CallToolResult>> = [];
    for (let i = 0; i < 20; i++) {
      calls.push(clientA.callTool({ name: 'get_current_user', arguments: {} }) as Promise<CallToolResult>);
      calls.push(clientB.callTool({ name: 'list_access_users', arguments: { per_page: 5 } }) as Promise<CallToolResult>);
    }
    const results = await Promise.all(calls);
    expect(results.filter((result) => result.isError).map(textOf)).toEqual([]);

    const requests = emulator.requests;
    expect(requests).toHaveLength(40);
    const authOf = (index: number) => requests[index]!.headers['authorization'];
    const fromA = requests.filter((request) => request.url.split('?')[0]!.endsWith('/user'));
    const fromB = requests.filter((request) => request.url.split('?')[0]!.endsWith('/access/users'));
    expect(fromA).toHaveLength(20);
    expect(fromB).toHaveLength(20);
    expect(new Set(fromA.map((request) => request.headers['authorization']))).toEqual(new Set([bearer(TEST_TOKEN)]));
    expect(new Set(fromB.map((request) => request.headers['authorization']))).toEqual(new Set([bearer(READ_ONLY_TOKEN)]));
    // Exactly one credential per request: no global-key headers ride along.
    for (let i = 0; i < requests.length; i++) {
      expect([bearer(TEST_TOKEN), bearer(READ_ONLY_TOKEN)]).toContain(authOf(i));
      expect(requests[i]!.headers['x-auth-key']).toBeUndefined();
      expect(requests[i]!.headers['x-auth-email']).toBeUndefined();
    }
  });

  it('a wiring with no credentials answers with the no-credentials error and sends nothing', async () => {
    const built = buildWiring(emulator, { credentials: {} });
    const server = built.wired.createServer();
    const client = newClient('none');
    cleanups.push(built.closeNetwork, () => server.close(), () => client.close());
    await connectSpied(server, client);
    for (const name of ['get_current_user', 'list_access_users']) {
      const result = (await client.callTool({ name, arguments: {} })) as CallToolResult;
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain('No Cloudflare credentials configured');
    }
    expect(emulator.requests).toHaveLength(0);
  });
});

describe('audit of upstream writes', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const auditNotifications = (harness: Harness): AuditRecord[] =>
    harness.notifications
      .map((params) => (params as { data?: AuditRecord }).data)
      .filter((data): data is AuditRecord => data?.msg === 'audit');

  it('writes one audit line, and one log notification, per write, each with its own email and status', async () => {
    h = await startHarness({ sharedEmulator: emulator, server: { tools: [twoWritesTool, getAccessUser] } });
    const first = 'ctx-audit-one@corp.example';
    const second = 'ctx-audit-two@corp.example';
    expect(await h.ok('test_two_writes', { first, second })).toEqual({ statuses: [201, 201] });

    const lines = auditLines(h.logLines);
    expect(lines).toHaveLength(2);
    expect(lines.map(({ email, outcome, status, tool, request }) => ({ email, outcome, status, tool, request }))).toEqual([
      { email: first, outcome: 'ok', status: 201, tool: 'test_two_writes', request: 'POST /accounts/{account_id}/access/users' },
      { email: second, outcome: 'ok', status: 201, tool: 'test_two_writes', request: 'POST /accounts/{account_id}/access/users' },
    ]);
    const notified = auditNotifications(h);
    expect(notified.map(({ email, outcome, status }) => ({ email, outcome, status }))).toEqual([
      { email: first, outcome: 'ok', status: 201 },
      { email: second, outcome: 'ok', status: 201 },
    ]);
  });

  it('a read writes no audit line', async () => {
    h = await startHarness({ sharedEmulator: emulator, server: { tools: [twoWritesTool, getAccessUser] } });
    await h.ok('get_access_user', { user_id: SANDBOX_ALICE.id });
    expect(auditLines(h.logLines)).toEqual([]);
    expect(auditNotifications(h)).toEqual([]);
  });

  it('a second write that Cloudflare refuses is audited failed with its status, the first ok', async () => {
    h = await startHarness({ sharedEmulator: emulator, server: { tools: [twoWritesTool] } });
    const harness = h;
    // Queued only once the first write is done, so it can only hit the second.
    betweenWrites = () => harness.emulator.inject({ fault: { kind: 'status', status: 409 }, method: 'POST' });
    const first = 'ctx-audit-three@corp.example';
    const second = 'ctx-audit-four@corp.example';
    const text = await h.fails('test_two_writes', { first, second });
    expect(text).toMatch(/409|conflict|exists/i);

    const lines = auditLines(h.logLines);
    expect(lines.map(({ email, outcome, status }) => ({ email, outcome, status }))).toEqual([
      { email: first, outcome: 'ok', status: 201 },
      { email: second, outcome: 'failed', status: 409 },
    ]);
    // A refused POST is not retried.
    expect(lines[1]!.attempts).toBe(1);
    expect(auditNotifications(h).map(({ email, outcome, status }) => ({ email, outcome, status }))).toEqual([
      { email: first, outcome: 'ok', status: 201 },
      { email: second, outcome: 'failed', status: 409 },
    ]);
  });
});

describe('secret redaction per call', () => {
  /** A 200 answer for Alice whose name holds `secret`, as if Cloudflare echoed it. */
  const leakyAlice = (secret: string) => ({
    fault: {
      kind: 'status' as const,
      status: 200,
      body: JSON.stringify({
        success: true,
        errors: [],
        messages: [],
        result: { id: SANDBOX_ALICE.id, email: SANDBOX_ALICE.email, name: `Alice ${secret} Nakamura` },
      }),
    },
    method: 'GET',
    pathIncludes: SANDBOX_ALICE.id,
  });

  it('each session’s result is scrubbed of its own token, though the server holds none', async () => {
    // No server-wide secrets: only the call's own credentials can have done the redacting.
    const built = buildWiring(emulator, { credentials: {} });
    const sessions = [TEST_TOKEN, READ_ONLY_TOKEN].map((token) => ({
      token,
      server: built.wired.createServer({ tools: [getAccessUser], credentials: fixedCredentials({ CLOUDFLARE_API_TOKEN: token }) }),
      client: newClient(token.slice(-4)),
    }));
    cleanups.push(built.closeNetwork);
    for (const { server, client } of sessions) {
      cleanups.push(() => server.close(), () => client.close());
      await connectSpied(server, client);
    }

    for (const { token, client } of sessions) {
      emulator.inject(leakyAlice(token));
      const result = (await client.callTool({ name: 'get_access_user', arguments: { user_id: SANDBOX_ALICE.id } })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      const text = textOf(result);
      expect(text).toContain('[REDACTED]');
      expect(text).not.toContain(token);
      expect(JSON.stringify(result.structuredContent)).not.toContain(token);
      expect((result.structuredContent as { name?: string }).name).toBe('Alice [REDACTED] Nakamura');
    }
    expect(built.logLines.join('\n')).not.toMatch(/LEAKCANARY/);
  });
});
