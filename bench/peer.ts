/**
 * The peer, run live: `@ivotoby/openapi-mcp-server` (a pinned devDependency), the generic OpenAPI → MCP
 * bridge a user would pick instead, pointed at the same OpenAPI file (spec/cloudflare-users.openapi.json),
 * the same emulator and the same token as our server, in the same run.
 *
 * This file holds how to start it (used by the cold-start and per-call sections too) and the section
 * "Versus the OpenAPI bridge": definitions (model-visible and wire bytes), each result's text against the
 * upstream body (minified and pretty), on the default data and on the emulator's second data shape when it
 * has one, a 429, and a bad id.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult, ListToolsResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { SANDBOX_ALICE, startEmulator, type Emulator, type EmulatorOptions } from '../src/sandbox/emulator.js';
import { textOf } from '../test/helpers/harness.js';
import { cleanEnv, DIST_ENTRY, PROJECT_ROOT, SOURCE_ENTRY } from '../test/helpers/spawn.js';
import { listOverStdio } from './cold-start.js';
import { byteLength, fmtBytes, fmtNum, table, type BenchContext, type Figure, type Section } from './lib.js';
import { createDirectClient, startInProcess, type DirectClient, type InProcessServer, type Upstream } from './setup.js';

const BRIDGE_DIR = join(PROJECT_ROOT, 'node_modules/@ivotoby/openapi-mcp-server');
export const BRIDGE_BIN = join(BRIDGE_DIR, 'bin/mcp-server.js');
export const BRIDGE_LABEL = `@ivotoby/openapi-mcp-server ${(JSON.parse(readFileSync(join(BRIDGE_DIR, 'package.json'), 'utf8')) as { version: string }).version}`;
const SPEC = join(PROJECT_ROOT, 'spec/cloudflare-users.openapi.json');

/** Ours ↔ the bridge's tool for each of the 10 documented operations (the bridge names them from the operation ids). */
export const DOCUMENTED: readonly (readonly [ours: string, bridge: string])[] = [
  ['get_current_user', 'user-user-details'],
  ['list_access_users', 'zero-trust-users-get-users'],
  ['create_access_user', 'zero-trust-users-create-user'],
  ['get_access_user', 'zero-trust-users-get-user'],
  ['update_access_user', 'zero-trust-users-update-user'],
  ['delete_access_user', 'zero-trust-users-delete-user'],
  ['list_active_sessions', 'zero-trust-users-get-active-sessions'],
  ['get_active_session', 'zero-trust-users-get-active-session'],
  ['get_last_seen_identity', 'zero-trust-users-get-last-seen-identity'],
  ['list_failed_logins', 'zero-trust-users-get-failed-logins'],
];
export const DOCUMENTED_OURS = DOCUMENTED.map(([ours]) => ours);

/** argv for `node` to run the bridge as its README says: spec path, API base URL, auth header, stdio. */
export function bridgeArgs(upstream: Pick<Upstream, 'baseUrl' | 'token'>): string[] {
  return [BRIDGE_BIN, '--openapi-spec', SPEC, '--api-base-url', upstream.baseUrl, '--headers', `Authorization:Bearer ${upstream.token}`, '--transport', 'stdio'];
}

export interface StdioPeer {
  client: Client;
  /** What was spawned, for the report. */
  command: string;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** A spawned stdio server with an SDK client on it, tools listed (as a real client does first). */
export async function startStdio(args: readonly string[], env: Record<string, string>, command: string): Promise<StdioPeer> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [...args], env, cwd: PROJECT_ROOT, stderr: 'pipe' });
  transport.stderr?.on('data', () => {}); // drained, never shown
  const client = new Client({ name: 'bench-peer', version: '1.0.0' });
  await client.connect(transport);
  await client.listTools();
  return {
    client,
    command,
    call: async (name, callArgs = {}) => (await client.callTool({ name, arguments: callArgs })) as CallToolResult,
    close: () => client.close(),
  };
}

export function startBridge(upstream: Pick<Upstream, 'baseUrl' | 'token'>): Promise<StdioPeer> {
  return startStdio(bridgeArgs(upstream), cleanEnv(), `node ${BRIDGE_LABEL} --transport stdio`);
}

/** The part a model reads to choose and call a tool. */
export function modelVisible(tool: Tool) {
  return { name: tool.name, title: tool.title, description: tool.description, inputSchema: tool.inputSchema };
}

const size = (value: unknown) => byteLength(JSON.stringify(value));

interface Pair {
  id: string;
  label: string;
  ours: { tool: string; args: Record<string, unknown> };
  bridge: { tool: string; args: Record<string, unknown> };
}

function pairs(accountId: string, userId: string, nonce: string | undefined): Pair[] {
  const account = { account_id: accountId };
  const user = { ...account, user_id: userId };
  return [
    { id: 'users_page', label: 'page of 50 users', ours: { tool: 'list_access_users', args: { per_page: 50 } }, bridge: { tool: 'zero-trust-users-get-users', args: { ...account, per_page: 50 } } },
    { id: 'one_user', label: 'one user', ours: { tool: 'get_access_user', args: { user_id: userId } }, bridge: { tool: 'zero-trust-users-get-user', args: user } },
    { id: 'session_list', label: "a user's session list", ours: { tool: 'list_active_sessions', args: { user_id: userId } }, bridge: { tool: 'zero-trust-users-get-active-sessions', args: user } },
    ...(nonce === undefined
      ? []
      : [
          {
            id: 'active_session',
            label: 'one active session',
            ours: { tool: 'get_active_session', args: { user_id: userId, nonce } },
            bridge: { tool: 'zero-trust-users-get-active-session', args: { ...user, nonce } },
          },
        ]),
    { id: 'last_seen', label: 'last-seen identity', ours: { tool: 'get_last_seen_identity', args: { user_id: userId } }, bridge: { tool: 'zero-trust-users-get-last-seen-identity', args: user } },
    { id: 'failed_logins', label: 'failed logins', ours: { tool: 'list_failed_logins', args: { user_id: userId } }, bridge: { tool: 'zero-trust-users-get-failed-logins', args: user } },
    { id: 'current_user', label: 'GET /user (token owner)', ours: { tool: 'get_current_user', args: {} }, bridge: { tool: 'user-user-details', args: {} } },
  ];
}

interface ResultMeasure {
  pair: Pair;
  upstreamUrl: string;
  minified: number;
  pretty: number;
  ours: number;
  bridge: number;
  /** The bridge sent the same path and query as we did. */
  sameRequest: boolean;
}

interface Target {
  emulator: Emulator;
  inProcess: InProcessServer;
  direct: DirectClient;
  bridge: StdioPeer;
}

/** Our call (in-process: the same text stdio carries) and the bridge's, then the very request we sent, fetched directly. */
async function measurePair(target: Target, pair: Pair): Promise<ResultMeasure> {
  const { emulator } = target;
  const before = emulator.requestCount();
  const ours = await target.inProcess.call(pair.ours.tool, pair.ours.args);
  if (ours.isError) throw new Error(`${pair.ours.tool} failed: ${textOf(ours)}`);
  const upstreamUrl = emulator.requests.at(-1)?.url;
  if (emulator.requestCount() - before !== 1 || upstreamUrl === undefined) throw new Error(`${pair.ours.tool}: expected exactly one upstream request`);
  const bridged = await target.bridge.call(pair.bridge.tool, pair.bridge.args);
  if (bridged.isError) throw new Error(`the bridge's ${pair.bridge.tool} failed: ${textOf(bridged).slice(0, 300)}`);
  const bridgeUrl = emulator.requests.at(-1)?.url;
  const body = await target.direct.fetchJson(upstreamUrl);
  return {
    pair,
    upstreamUrl,
    minified: size(body),
    pretty: byteLength(JSON.stringify(body, null, 2)),
    ours: byteLength(textOf(ours)),
    bridge: byteLength(textOf(bridged)),
    sameRequest: bridgeUrl === upstreamUrl,
  };
}

function resultRows(measures: readonly ResultMeasure[]): string[][] {
  return measures.map((m) => [
    `${m.pair.label} (\`${m.pair.ours.tool}\` / \`${m.pair.bridge.tool}\`)${m.sameRequest ? '' : ' †'}`,
    fmtBytes(m.minified),
    fmtBytes(m.pretty),
    fmtBytes(m.ours),
    `${fmtNum(m.ours / m.minified, 3)} / ${fmtNum(m.ours / m.pretty, 3)}`,
    fmtBytes(m.bridge),
    `${fmtNum(m.bridge / m.minified, 3)} / ${fmtNum(m.bridge / m.pretty, 3)}`,
    `${fmtNum(m.ours / m.bridge, 2)}×`,
  ]);
}
const RESULT_HEADER = ['result', 'upstream minified', 'upstream pretty', 'ours', 'ours ÷ min / ÷ pretty', 'bridge', 'bridge ÷ min / ÷ pretty', 'ours ÷ bridge'];
const RESULT_ALIGN = ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'] as const;

/**
 * The emulator's second data shape (seats varying per row, long non-ASCII names and emails), when it has
 * one: `shape: 'varied'`. An emulator without the option ignores it; that shows as the same first page.
 */
async function variedTarget(ctx: BenchContext): Promise<{ target: Target; close(): Promise<void> } | { missing: string }> {
  const options = { host: '127.0.0.1', shape: 'varied' } as EmulatorOptions;
  const emulator = await startEmulator(options);
  const upstream = { baseUrl: emulator.baseUrl, token: emulator.credentials.apiToken, accountId: emulator.accountId };
  const direct = createDirectClient(upstream, emulator.origin);
  const page = (em: Emulator, d: DirectClient) => d.fetchJson(`/client/v4/accounts/${em.accountId}/access/users?per_page=50`);
  const [mine, theirs] = await Promise.all([page(emulator, direct), page(ctx.emulator, ctx.direct)]);
  if (JSON.stringify(mine) === JSON.stringify(theirs)) {
    await direct.close();
    await emulator.close();
    return { missing: "the emulator has no second data shape yet (`startEmulator({ shape: 'varied' })` served the default data): not measured in this run" };
  }
  const inProcess = await startInProcess(upstream);
  const bridge = await startBridge(upstream);
  return {
    target: { emulator, inProcess, direct, bridge },
    async close() {
      await bridge.close();
      await inProcess.close();
      await direct.close();
      await emulator.close();
    },
  };
}

/** The first user on the first page, and one of their sessions' nonce when they have one. */
async function someUser(target: Target): Promise<{ id: string; nonce?: string | undefined }> {
  const page = (await target.direct.fetchJson(`/client/v4/accounts/${target.emulator.accountId}/access/users?per_page=50`)) as { result: { id: string }[] };
  for (const user of page.result) {
    const sessions = (await target.direct.fetchJson(`/client/v4/accounts/${target.emulator.accountId}/access/users/${user.id}/active_sessions`)) as {
      result?: { nonce?: string }[];
    };
    const nonce = sessions.result?.find((s) => s.nonce)?.nonce;
    if (nonce) return { id: user.id, nonce };
  }
  return { id: page.result[0]!.id };
}

export const peerSection: Section = {
  id: 'peer',
  title: 'Versus the OpenAPI bridge (live)',
  async run(ctx) {
    const bridge = await ctx.bridge();
    const upstream = { baseUrl: ctx.emulator.baseUrl, token: ctx.emulator.credentials.apiToken, accountId: ctx.emulator.accountId };

    // ---- Definitions: the 10 documented tools, ours with the account fixed and not, against the bridge's.
    const bridgeList: ListToolsResult = await bridge.client.listTools();
    const oursFixed = await startInProcess(upstream, { toolNames: DOCUMENTED_OURS });
    const oursOpen = await startInProcess(upstream, { toolNames: DOCUMENTED_OURS, defaultAccountId: undefined });
    let fixedList: ListToolsResult;
    let openList: ListToolsResult;
    try {
      fixedList = await oursFixed.mcp.listTools();
      openList = await oursOpen.mcp.listTools();
    } finally {
      await oursFixed.close();
      await oursOpen.close();
    }
    // Wire: the tools/list result as it comes over the pipe, every key the server sent (the SDK client drops keys
    // it does not know, such as the bridge's tags, httpMethod, originalPath), from the spawned servers.
    const dist = await ctx.ensureDist();
    const entry = dist.present ? DIST_ENTRY : SOURCE_ENTRY;
    const oursEnv = (accountId: string) =>
      cleanEnv({ CLOUDFLARE_API_TOKEN: upstream.token, CLOUDFLARE_BASE_URL: upstream.baseUrl, CLOUDFLARE_ACCOUNT_ID: accountId, CLOUDFLARE_TOOLS: DOCUMENTED_OURS.join(',') });
    const [bridgeWire, fixedWire, openWire] = [
      await listOverStdio(bridgeArgs(upstream), cleanEnv()),
      await listOverStdio(entry, oursEnv(upstream.accountId)),
      await listOverStdio(entry, oursEnv('')),
    ].map((answer) => byteLength(answer.resultJson));
    const defs = {
      bridge: { visible: size({ tools: bridgeList.tools.map(modelVisible) }), wire: bridgeWire!, count: bridgeList.tools.length },
      fixed: { visible: size({ tools: fixedList.tools.map(modelVisible) }), wire: fixedWire!, count: fixedList.tools.length },
      open: { visible: size({ tools: openList.tools.map(modelVisible) }), wire: openWire!, count: openList.tools.length },
    };
    const missingBridgeTools = DOCUMENTED.filter(([, name]) => !bridgeList.tools.some((tool) => tool.name === name)).map(([, name]) => name);
    if (missingBridgeTools.length) throw new Error(`the bridge does not list ${missingBridgeTools.join(', ')}`);
    const perTool = DOCUMENTED.map(([ours, theirs]) => {
      const find = (list: ListToolsResult, name: string) => list.tools.find((tool) => tool.name === name)!;
      return {
        ours,
        fixed: size(modelVisible(find(fixedList, ours))),
        open: size(modelVisible(find(openList, ours))),
        bridge: size(modelVisible(find(bridgeList, theirs))),
        fixedWire: size(find(fixedList, ours)),
        bridgeWire: size(find(bridgeList, theirs)),
      };
    });

    // ---- Results on the default data.
    const main: Target = { emulator: ctx.emulator, inProcess: ctx.inProcess, direct: ctx.direct, bridge };
    const defaultMeasures: ResultMeasure[] = [];
    for (const pair of pairs(ctx.emulator.accountId, SANDBOX_ALICE.id, SANDBOX_ALICE.sessionNonce)) defaultMeasures.push(await measurePair(main, pair));

    // ---- Results on the second data shape, when the emulator has it.
    ctx.progress('peer: second data shape');
    const varied = await variedTarget(ctx);
    let variedMeasures: ResultMeasure[] = [];
    if ('target' in varied) {
      try {
        const user = await someUser(varied.target);
        for (const pair of pairs(varied.target.emulator.accountId, user.id, user.nonce)) variedMeasures.push(await measurePair(varied.target, pair));
      } finally {
        await varied.close();
      }
    }

    // ---- A 429, once each.
    const rateLimited = async (call: () => Promise<CallToolResult>) => {
      ctx.emulator.clearFaults();
      ctx.emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '0' }, times: 1, method: 'GET', pathIncludes: `/access/users/${SANDBOX_ALICE.id}` });
      ctx.emulator.resetRequests();
      const result = await call();
      const requests = ctx.emulator.requestCount();
      ctx.emulator.clearFaults();
      return { ok: !result.isError && textOf(result).includes(SANDBOX_ALICE.email), requests };
    };
    const retryOurs = await rateLimited(() => ctx.inProcess.call('get_access_user', { user_id: SANDBOX_ALICE.id }));
    const retryBridge = await rateLimited(() => bridge.call('zero-trust-users-get-user', { account_id: ctx.emulator.accountId, user_id: SANDBOX_ALICE.id }));

    // ---- Bad ids: does the request reach upstream?
    const badIds = [
      { label: '40 characters (schema: maxLength 36)', id: `${SANDBOX_ALICE.id}abcd` },
      { label: '`../user` (path traversal)', id: '../user' },
    ];
    const badIdRows: { label: string; ours: number; bridge: number }[] = [];
    for (const bad of badIds) {
      ctx.emulator.resetRequests();
      await ctx.inProcess.call('get_access_user', { user_id: bad.id });
      const ours = ctx.emulator.requestCount();
      ctx.emulator.resetRequests();
      await bridge.call('zero-trust-users-get-user', { account_id: ctx.emulator.accountId, user_id: bad.id });
      badIdRows.push({ label: bad.label, ours, bridge: ctx.emulator.requestCount() });
    }
    const badReachOurs = badIdRows.reduce((sum, row) => sum + row.ours, 0);
    const badReachBridge = badIdRows.reduce((sum, row) => sum + row.bridge, 0);

    const page = defaultMeasures.find((m) => m.pair.id === 'users_page')!;
    const variedPage = variedMeasures.find((m) => m.pair.id === 'users_page');
    const visibleRatio = defs.fixed.visible / defs.bridge.visible;
    const visiblePass = visibleRatio <= 0.9;
    const figures: Figure[] = [
      {
        id: 'peer_visible_fixed',
        label: 'model-visible definitions, 10 documented tools, account fixed (CLOUDFLARE_ACCOUNT_ID set)',
        value: defs.fixed.visible,
        unit: 'bytes',
        baseline: { label: `${BRIDGE_LABEL}, model-visible`, value: defs.bridge.visible },
        ratio: visibleRatio,
        goal: '≤ 0.9× the bridge',
        pass: visiblePass,
        why: visiblePass
          ? undefined
          : `Our 10 documented tools are ${fmtBytes(defs.fixed.visible)} model-visible against the bridge's ${fmtBytes(defs.bridge.visible)}: ` +
            'the "Definitions" work of ISSUE 11 (account-scoped schemas, leaner schemas and words) is not in this tree yet, or not enough.',
      },
      {
        id: 'peer_visible_open',
        label: 'model-visible definitions, 10 documented tools, no fixed account',
        value: defs.open.visible,
        unit: 'bytes',
        baseline: { label: `${BRIDGE_LABEL}, model-visible`, value: defs.bridge.visible },
        ratio: defs.open.visible / defs.bridge.visible,
      },
      {
        id: 'peer_wire',
        label: 'tools/list result on the wire, 10 documented tools (ours: output schemas and annotations included)',
        value: defs.fixed.wire,
        unit: 'bytes',
        baseline: { label: `${BRIDGE_LABEL}, tools/list result`, value: defs.bridge.wire },
        ratio: defs.fixed.wire / defs.bridge.wire,
      },
      {
        id: 'peer_users_page',
        label: 'page of 50 users, default data: result text',
        value: page.ours,
        unit: 'bytes',
        baseline: { label: `${BRIDGE_LABEL}'s result text`, value: page.bridge },
        ratio: page.ours / page.bridge,
      },
      {
        id: 'peer_bridge_users_page_of_minified',
        label: "the bridge's page of 50 users ÷ the minified upstream body (it pretty-prints)",
        value: page.bridge / page.minified,
        unit: 'ratio',
      },
      ...(variedPage
        ? [
            {
              id: 'peer_users_page_varied',
              label: 'page of 50 users, varied data: result text',
              value: variedPage.ours,
              unit: 'bytes' as const,
              baseline: { label: `${BRIDGE_LABEL}'s result text`, value: variedPage.bridge },
              ratio: variedPage.ours / variedPage.bridge,
            },
          ]
        : []),
      {
        id: 'peer_retry_429',
        label: 'a 429 is retried and the call succeeds (ours)',
        value: retryOurs.ok ? 1 : 0,
        unit: 'yes/no',
        goal: 'yes',
        pass: retryOurs.ok,
        why: retryOurs.ok ? undefined : `get_access_user after one injected 429: ${retryOurs.requests} request(s), the call failed.`,
      },
      {
        id: 'peer_bad_ids_reaching_upstream',
        label: `bad user ids reaching upstream (ours, ${badIds.length} ids)`,
        value: badReachOurs,
        unit: 'count',
        baseline: { label: `${BRIDGE_LABEL}`, value: badReachBridge },
        goal: '0',
        pass: badReachOurs === 0,
        why: badReachOurs === 0 ? undefined : `${badReachOurs} request(s) reached the emulator for ids the schema refuses.`,
      },
    ];

    const markdown = [
      `The bridge is \`${BRIDGE_LABEL}\` (pinned devDependency), spawned over stdio as its README says: ` +
        '`--openapi-spec spec/cloudflare-users.openapi.json --api-base-url <emulator> --headers "Authorization:Bearer <token>" --transport stdio`, ' +
        'against the same emulator and token as our server, in this run. Its spawn time and per-call latency are in the cold-start and per-call sections.',
      '',
      '### Definitions: like with like',
      '',
      'Model-visible = `{tools: [{name, title, description, inputSchema}]}` for the 10 documented operations (the bridge serves exactly these; ' +
        'ours with `--tools` set to our 10 matching tools). Wire = the whole tools/list `result` as it arrives on the client\'s stdin ' +
        `(spawned: ours \`node ${entry.join(' ')}\` with \`CLOUDFLARE_TOOLS\` set to the 10, the bridge as above; read raw, before an SDK client drops keys it does not know): ` +
        'ours carries output schemas and the four annotations besides; the bridge carries `tags`, `httpMethod`, `resourceName`, `originalPath` and `x-original-path` per tool. ' +
        'The per-tool wire column is each tool as the SDK client keeps it.',
      '',
      table(
        ['', 'model-visible', 'wire (tools/list result)', 'tools'],
        [
          ['ours, account fixed (`CLOUDFLARE_ACCOUNT_ID` set)', fmtBytes(defs.fixed.visible), fmtBytes(defs.fixed.wire), String(defs.fixed.count)],
          ['ours, no fixed account', fmtBytes(defs.open.visible), fmtBytes(defs.open.wire), String(defs.open.count)],
          [BRIDGE_LABEL, fmtBytes(defs.bridge.visible), fmtBytes(defs.bridge.wire), String(defs.bridge.count)],
          ['ours ÷ bridge (fixed / not)', `${fmtNum(defs.fixed.visible / defs.bridge.visible, 2)}× / ${fmtNum(defs.open.visible / defs.bridge.visible, 2)}×`, `${fmtNum(defs.fixed.wire / defs.bridge.wire, 2)}× / ${fmtNum(defs.open.wire / defs.bridge.wire, 2)}×`, ''],
        ],
        ['l', 'r', 'r', 'r'],
      ),
      '',
      table(
        ['tool (ours)', 'model-visible, fixed', 'not fixed', 'bridge', 'wire, fixed', 'bridge wire'],
        perTool.map((row) => [`\`${row.ours}\``, fmtBytes(row.fixed), fmtBytes(row.open), fmtBytes(row.bridge), fmtBytes(row.fixedWire), fmtBytes(row.bridgeWire)]),
        ['l', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
      '### Results against the upstream body',
      '',
      'Each result\'s text (what the model reads) against the V4 envelope the emulator returns for the very request our server sent, fetched directly: ' +
        'minified = `JSON.stringify(body)`, pretty = `JSON.stringify(body, null, 2)`. The bridge returns the upstream body pretty-printed, so its ratio to the ' +
        'minified body is above 1, not "1.0 (raw)". † = the bridge sent a different path or query than we did.',
      '',
      '**Default data** (the emulator\'s seed, alice):',
      '',
      table(RESULT_HEADER, resultRows(defaultMeasures), RESULT_ALIGN),
      '',
      '**Varied data** (the emulator\'s second shape: seats varying per row, long non-ASCII names and emails; the first user with a session):',
      '',
      'missing' in varied ? `_${varied.missing}._` : table(RESULT_HEADER, resultRows(variedMeasures), RESULT_ALIGN),
      '',
      '### Failure handling',
      '',
      table(
        ['', 'ours', BRIDGE_LABEL],
        [
          [
            'one injected 429 (`Retry-After: 0`) on get user',
            `${retryOurs.ok ? 'retried, call succeeded' : '**failed**'} (${retryOurs.requests} requests)`,
            `${retryBridge.ok ? 'retried, call succeeded' : 'not retried: the 429 is the answer'} (${retryBridge.requests} request${retryBridge.requests === 1 ? '' : 's'})`,
          ],
          ...badIdRows.map((row) => [`user_id ${row.label}: requests reaching upstream`, String(row.ours), String(row.bridge)]),
        ],
      ),
    ].join('\n');

    const measuresSummary = (measures: readonly ResultMeasure[]) =>
      Object.fromEntries(measures.map((m) => [m.pair.id, { minified: m.minified, pretty: m.pretty, ours: m.ours, bridge: m.bridge, sameRequest: m.sameRequest }]));
    return {
      markdown,
      figures,
      summary: {
        bridge: BRIDGE_LABEL,
        definitions: defs,
        perTool,
        resultsDefault: measuresSummary(defaultMeasures),
        resultsVaried: 'missing' in varied ? varied.missing : measuresSummary(variedMeasures),
        retry429: { ours: retryOurs, bridge: retryBridge },
        badIds: badIdRows,
      },
    };
  },
};
