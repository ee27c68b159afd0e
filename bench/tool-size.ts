/**
 * Section: tool-definition size. What every model reads on every turn
 * (tools/list), against what the SDK's McpServer would emit for the same
 * registry, plus a "versus" table against a cited peer (Stainless) with our
 * side measured live; the OpenAPI bridge is run live in bench/peer.ts.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ListToolsResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { SANDBOX_ALICE } from '../src/sandbox/emulator.js';
import { allTools } from '../src/tools/index.js';
import { connectInMemory, textOf } from '../test/helpers/harness.js';
import { FIXTURES, measureFixture } from './compaction.js';
import { byteLength, fmtBytes, fmtInt, fmtNum, table, type Figure, type Section } from './lib.js';

// For the 13 tools (test/registry.test.ts checks the same budgets).
export const FULL_GOAL_BYTES = 14_000;
export const VISIBLE_GOAL_BYTES = 8_000;

/** A peer figure cited as given (not measured here). The OpenAPI bridge is run live: bench/peer.ts. */
const PEERS = {
  stainless: { label: "Stainless-generated Cloudflare MCP server (comparable 7 tools)", bytes: 26_600, tools: 7 },
} as const;

const tokens = (bytes: number) => Math.round(bytes / 4);
const size = (value: unknown) => byteLength(JSON.stringify(value));

/** The part a model reads to choose and call a tool. */
function modelVisible(tool: Tool) {
  return { name: tool.name, title: tool.title, description: tool.description, inputSchema: tool.inputSchema };
}

/** The same registry on the SDK's high-level McpServer, listed through an in-memory client. */
async function listLikeMcpServer(): Promise<ListToolsResult> {
  const server = new McpServer({ name: 'mcpserver-equivalent', version: '0.0.0' }, { capabilities: { tools: {} } });
  for (const tool of allTools) {
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: tool.inputSchema, outputSchema: tool.outputSchema, annotations: tool.annotations },
      () => ({ content: [] }),
    );
  }
  const client = new Client({ name: 'bench-size', version: '1.0.0' });
  await connectInMemory(server, client);
  try {
    return await client.listTools();
  } finally {
    await client.close();
    await server.close();
  }
}

/** Deep copy without the given keys (at any depth). */
function without(value: unknown, keys: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => without(item, keys));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !keys.has(key)).map(([key, inner]) => [key, without(inner, keys)]));
}

export const toolSizeSection: Section = {
  id: 'tool_size',
  title: 'Tool-definition size',
  async run(ctx) {
    const listed = await ctx.inProcess.mcp.listTools();
    const tools = listed.tools;
    const fullBytes = size(listed);
    const visibleBytes = size({ tools: tools.map(modelVisible) });

    const sdk = await listLikeMcpServer();
    const sdkFullBytes = size(sdk);
    const sdkVisibleBytes = size({ tools: sdk.tools.map(modelVisible) });
    const sdkNoDialect = without(sdk, new Set(['$schema']));
    const dialectBytes = sdkFullBytes - size(sdkNoDialect);
    const sdkNoDialectNoExec = { tools: (sdkNoDialect as ListToolsResult).tools.map(({ execution: _execution, ...rest }) => rest) };
    const executionBytes = size(sdkNoDialect) - size(sdkNoDialectNoExec);
    const otherBytes = size(sdkNoDialectNoExec) - fullBytes;
    const sameOtherwise = JSON.stringify(sdkNoDialectNoExec) === JSON.stringify(listed);

    // Per tool.
    const sdkByName = new Map(sdk.tools.map((tool) => [tool.name, tool]));
    const perTool = tools.map((tool) => {
      const visible = size(modelVisible(tool));
      return {
        name: tool.name,
        full: size(tool),
        visible,
        description: byteLength(tool.description ?? ''),
        input: size(tool.inputSchema),
        output: tool.outputSchema ? size(tool.outputSchema) : 0,
        annotations: tool.annotations ? size(tool.annotations) : 0,
        mcpServer: size(sdkByName.get(tool.name)),
      };
    });
    const sum = (pick: (row: (typeof perTool)[number]) => number) => perTool.reduce((total, row) => total + pick(row), 0);

    // Versus: our side, measured live against the emulator.
    const withDescriptions = tools.filter((tool) => (tool.description ?? '').length > 0).length;
    const meanDescription = sum((row) => row.description) / tools.length;
    const withAnnotations = tools.filter(
      (tool) => tool.annotations && ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'].every((hint) => hint in tool.annotations!),
    ).length;
    const withOutputSchemas = tools.filter((tool) => tool.outputSchema !== undefined).length;
    const usersPage = await measureFixture(ctx, FIXTURES[0]!);

    ctx.emulator.inject({ fault: { kind: 'status', status: 429, retryAfter: '0' }, times: 1, method: 'GET', pathIncludes: `/access/users/${SANDBOX_ALICE.id}` });
    const beforeRetry = ctx.emulator.requestCount();
    const retried = await ctx.inProcess.call('get_access_user', { user_id: SANDBOX_ALICE.id });
    const retryRequests = ctx.emulator.requestCount() - beforeRetry;
    ctx.emulator.clearFaults();
    const retryOk = !retried.isError && retryRequests === 2 && textOf(retried).includes(SANDBOX_ALICE.email);

    const longId = `${SANDBOX_ALICE.id}abcd`; // 40 characters; the schema allows a 36-character UUID
    ctx.emulator.resetRequests();
    const rejected = await ctx.inProcess.call('get_access_user', { user_id: longId });
    const requestsAfterLongId = ctx.emulator.requestCount();
    const rejectedOk = rejected.isError === true && requestsAfterLongId === 0;

    const fullPass = fullBytes <= FULL_GOAL_BYTES;
    const visiblePass = visibleBytes <= VISIBLE_GOAL_BYTES;
    const biggest = [...perTool].sort((a, b) => b.full - a.full)[0]!;
    const figures: Figure[] = [
      {
        id: 'tools_list_bytes',
        label: `tools/list, full result (${tools.length} tools, ≈ ${fmtInt(tokens(fullBytes))} tokens)`,
        value: fullBytes,
        unit: 'bytes',
        baseline: { label: 'McpServer, same registry', value: sdkFullBytes },
        ratio: fullBytes / sdkFullBytes,
        goal: `≤ ${fmtInt(FULL_GOAL_BYTES)} B incl. output schemas`,
        pass: fullPass,
        why: fullPass
          ? undefined
          : `${fmtBytes(fullBytes - FULL_GOAL_BYTES)} over: output schemas take ${fmtBytes(sum((r) => r.output))}, input schemas ${fmtBytes(sum((r) => r.input))}, ` +
            `descriptions ${fmtBytes(sum((r) => r.description))}; the largest tool is ${biggest.name} (${fmtBytes(biggest.full)}).`,
      },
      {
        id: 'model_visible_bytes',
        label: `model-visible part: name, title, description, inputSchema (≈ ${fmtInt(tokens(visibleBytes))} tokens)`,
        value: visibleBytes,
        unit: 'bytes',
        baseline: { label: 'McpServer, same registry', value: sdkVisibleBytes },
        ratio: visibleBytes / sdkVisibleBytes,
        goal: `≤ ${fmtInt(VISIBLE_GOAL_BYTES)} B`,
        pass: visiblePass,
        why: visiblePass
          ? undefined
          : `${fmtBytes(visibleBytes - VISIBLE_GOAL_BYTES)} over: input schemas take ${fmtBytes(sum((r) => r.input))} and descriptions ${fmtBytes(sum((r) => r.description))}.`,
      },
      {
        id: 'retry_429',
        label: 'a 429 is retried and the call succeeds (live, emulator)',
        value: retryOk ? 1 : 0,
        unit: 'yes/no',
        goal: 'yes',
        pass: retryOk,
        why: retryOk ? undefined : `get_access_user after one injected 429: isError=${String(retried.isError ?? false)}, ${retryRequests} upstream request(s) (expected 2).`,
      },
      {
        id: 'long_user_id_rejected',
        label: '40-character user_id rejected before any request (live)',
        value: rejectedOk ? 1 : 0,
        unit: 'yes/no',
        goal: 'yes, 0 requests',
        pass: rejectedOk,
        why: rejectedOk ? undefined : `get_access_user with a 40-character user_id: isError=${String(rejected.isError ?? false)}, ${requestsAfterLongId} upstream request(s).`,
      },
    ];

    const markdown = [
      'Bytes of `JSON.stringify` of the tools/list result the SDK client receives; tokens ≈ bytes / 4. ' +
        'Model-visible = `{tools: [{name, title, description, inputSchema}]}`. ' +
        `The baseline is the SDK's \`McpServer\` with the same ${tools.length} tools registered (same Zod schemas, same annotations, no-op handlers), listed in this run.`,
      '',
      table(
        ['tool', 'full', '≈ tokens', 'model-visible', 'description', 'inputSchema', 'outputSchema', 'annotations', 'McpServer would emit'],
        [
          ...perTool.map((row) => [
            `\`${row.name}\``,
            fmtInt(row.full),
            fmtInt(tokens(row.full)),
            fmtInt(row.visible),
            fmtInt(row.description),
            fmtInt(row.input),
            fmtInt(row.output),
            fmtInt(row.annotations),
            fmtInt(row.mcpServer),
          ]),
          [
            '**whole result**',
            `**${fmtInt(fullBytes)}**`,
            fmtInt(tokens(fullBytes)),
            `**${fmtInt(visibleBytes)}**`,
            fmtInt(sum((r) => r.description)),
            fmtInt(sum((r) => r.input)),
            fmtInt(sum((r) => r.output)),
            fmtInt(sum((r) => r.annotations)),
            fmtInt(sdkFullBytes),
          ],
        ],
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
      '(Per-tool columns are each tool\'s own JSON; the whole result adds the `{"tools":[…]}` wrapper and commas.)',
      '',
      '### What McpServer would add',
      '',
      table(
        ['', 'bytes', 'per tool'],
        [
          ['our tools/list (low-level `Server`, src/server.ts + src/tools/listing.ts)', fmtInt(fullBytes), fmtNum(fullBytes / tools.length, 0)],
          ['McpServer, same registry', fmtInt(sdkFullBytes), fmtNum(sdkFullBytes / tools.length, 0)],
          ['… of which `$schema` dialect URLs (input + output schemas)', fmtInt(dialectBytes), fmtNum(dialectBytes / tools.length, 0)],
          ['… of which `execution: {taskSupport: "forbidden"}`', fmtInt(executionBytes), fmtNum(executionBytes / tools.length, 0)],
          ['… anything else', fmtInt(otherBytes), fmtNum(otherBytes / tools.length, 0)],
        ],
        ['l', 'r', 'r'],
      ),
      '',
      sameOtherwise
        ? 'With `$schema` and `execution` removed, McpServer\'s listing is byte-identical to ours: the whole difference is those two keys.'
        : 'With `$schema` and `execution` removed, McpServer\'s listing still differs from ours (see "anything else").',
      '',
      '### Versus',
      '',
      'The Stainless figures are cited as given, not measured here. Our column is measured in this run; the two behaviours are checked live against the emulator ' +
        '(one injected 429 with `Retry-After: 0`; a 40-character `user_id` with the emulator\'s request counter reset first). ' +
        'The generic OpenAPI bridge (`@ivotoby/openapi-mcp-server`) is run live in this run, like with like (model-visible against model-visible, ' +
        'wire against wire): see "Versus the OpenAPI bridge (live)" below.',
      '',
      table(
        ['', 'this server (measured)', PEERS.stainless.label],
        [
          [
            'tools/list size',
            `${fmtBytes(fullBytes)} for ${tools.length} tools (${fmtNum(fullBytes / tools.length, 0)} B/tool)`,
            `26.6 KB for ${PEERS.stainless.tools} tools (${fmtInt(PEERS.stainless.bytes / PEERS.stainless.tools)} B/tool)`,
          ],
          [
            'descriptions',
            `${withDescriptions}/${tools.length}, mean ${fmtInt(meanDescription)} B: what it returns, when to use it, permission needed`,
            'not cited',
          ],
          ['annotations (all four hints)', `${withAnnotations}/${tools.length}`, 'not cited'],
          ['output schemas', `${withOutputSchemas}/${tools.length}`, 'not cited'],
          [
            'compaction (page of 50 users, result ÷ minified upstream)',
            `${fmtNum(usersPage.ofMinified, 3)} (${fmtNum(usersPage.ofPretty, 3)} of pretty)`,
            'not cited',
          ],
          ['429 retried', retryOk ? `yes (${retryRequests} requests, call succeeded)` : `**no** (${retryRequests} requests)`, 'not cited'],
          [
            '40-char user_id rejected before any request',
            rejectedOk ? `yes (${requestsAfterLongId} requests)` : `**no** (${requestsAfterLongId} requests)`,
            'not cited',
          ],
        ],
      ),
    ].join('\n');

    return {
      markdown,
      figures,
      summary: {
        toolCount: tools.length,
        fullBytes,
        fullTokens: tokens(fullBytes),
        visibleBytes,
        visibleTokens: tokens(visibleBytes),
        mcpServerFullBytes: sdkFullBytes,
        mcpServerVisibleBytes: sdkVisibleBytes,
        mcpServerExtra: { dialect: dialectBytes, execution: executionBytes, other: otherBytes },
        perTool: Object.fromEntries(perTool.map(({ name, ...row }) => [name, row])),
        versus: {
          withDescriptions,
          withAnnotations,
          withOutputSchemas,
          usersPageOfMinified: usersPage.ofMinified,
          retry429: retryOk,
          retryRequests,
          longUserIdRejected: rejectedOk,
          requestsAfterLongId,
        },
      },
    };
  },
};
