/**
 * Section: per-call overhead. get_access_user through the SDK client against
 * a direct undici fetch of the same upstream data, interleaved after warm-up,
 * with the layers in between timed the same way so a miss can be located.
 */
import { existsSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SANDBOX_ALICE } from '../src/sandbox/emulator.js';
import { mulberry32 } from '../src/sandbox/seed.js';
import { SERVER_NAME, SERVER_VERSION } from '../src/version.js';
import { CloudflareClient } from '../src/cloudflare/client.js';
import { createLogger } from '../src/log.js';
import { createUndiciFetch } from '../src/node/undici-fetch.js';
import { allTools, runTool } from '../src/tools/index.js';
import { compileTool } from '../src/tools/listing.js';
import { connectInMemory, detachedChannel, textOf } from '../test/helpers/harness.js';
import { cleanEnv, DIST_ENTRY, PROJECT_ROOT, SOURCE_ENTRY } from '../test/helpers/spawn.js';
import { fmtInt, fmtMs, fmtNum, mean, percentile, table, type BenchContext, type Figure, type Section, shuffleInPlace } from './lib.js';
import { BRIDGE_LABEL } from './peer.js';
import { DIST_INDEX } from './setup.js';

export const OVERHEAD_GOAL_RATIO = 1.3;

interface Layer {
  id: string;
  label: string;
  /** What this layer adds over the one before it. */
  adds: string;
  /** Part of the baseline → full call chain (each step wraps the previous one); others are references. */
  chain?: boolean;
  run(): Promise<unknown>;
}

interface LayerStats {
  id: string;
  chain: boolean;
  label: string;
  adds: string;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  samples: number;
}

function stats(layer: Pick<Layer, 'id' | 'label' | 'adds' | 'chain'>, samples: readonly number[]): LayerStats {
  return { id: layer.id, chain: layer.chain ?? false, label: layer.label, adds: layer.adds, p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99), mean: mean(samples), samples: samples.length };
}


/**
 * Runs every layer once per round, in a fresh shuffled order each round, so
 * drift is shared and no layer always follows the same neighbour.
 */
async function interleaved(layers: readonly Layer[], warmup: number, rounds: number): Promise<Map<string, number[]>> {
  for (let i = 0; i < warmup; i++) for (const layer of layers) await layer.run();
  const samples = new Map(layers.map((layer) => [layer.id, [] as number[]]));
  const random = mulberry32(20261101) /* fixed-seed shuffle, so runs are comparable */;
  const order = [...layers];
  for (let round = 0; round < rounds; round++) {
    shuffleInPlace(order, random);
    for (const layer of order) {
      const started = performance.now();
      await layer.run();
      samples.get(layer.id)!.push(performance.now() - started);
    }
  }
  return samples;
}

function checkedResult(result: CallToolResult): CallToolResult {
  if (result.isError) throw new Error(`get_access_user failed: ${textOf(result)}`);
  return result;
}

async function stdioClient(ctx: BenchContext): Promise<{ client: Client; entry: string; close(): Promise<void> }> {
  const status = await ctx.ensureDist();
  const useDist = status.present && existsSync(DIST_INDEX);
  const args = useDist ? DIST_ENTRY : SOURCE_ENTRY;
  const env = cleanEnv({
    CLOUDFLARE_API_TOKEN: ctx.emulator.credentials.apiToken,
    CLOUDFLARE_ACCOUNT_ID: ctx.emulator.accountId,
    CLOUDFLARE_BASE_URL: ctx.emulator.baseUrl,
  });
  const transport = new StdioClientTransport({ command: process.execPath, args, env, cwd: PROJECT_ROOT, stderr: 'pipe' });
  transport.stderr?.on('data', () => {}); // drained, never shown
  const client = new Client({ name: 'bench-stdio', version: '1.0.0' });
  await client.connect(transport);
  await client.listTools();
  return { client, entry: `node ${args.join(' ')}${useDist ? ` (built dist/; ${status.note})` : ' (tsx from source: no dist/)'}`, close: () => client.close() };
}

/** The SDK's own cost: our Server/Client pair, same listing (so the client validates output), a stored result. */
async function startSdkAlone(stored: CallToolResult): Promise<{ client: Client; close(): Promise<void> }> {
  const listing = compileTool(allTools.find((tool) => tool.name === 'get_access_user')!).listing;
  const server = new Server({ name: 'sdk-alone', version: '0.0.0' }, { capabilities: { tools: {}, logging: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [listing] }));
  server.setRequestHandler(CallToolRequestSchema, () => stored);
  const client = new Client({ name: 'bench-sdk-alone', version: '1.0.0' });
  await connectInMemory(server, client);
  await client.listTools();
  return {
    client,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

export const overheadSection: Section = {
  id: 'per_call',
  title: 'Per-call overhead',
  async run(ctx) {
    const warmup = ctx.quick ? 20 : 300;
    const rounds = ctx.quick ? 60 : 2_500;
    const stdioRounds = ctx.quick ? 30 : 1_500;

    const path = `/client/v4/accounts/${ctx.emulator.accountId}/access/users/${SANDBOX_ALICE.id}`;
    const tool = allTools.find((candidate) => candidate.name === 'get_access_user')!;
    const { services } = ctx.inProcess;
    const auth = services.credentials({});
    if (auth.kind === 'none') throw new Error('bench server has no credentials');
    const authHeaders = auth.headers;
    const runDirect = () => runTool(tool, args, services, detachedChannel());
    const args = { user_id: SANDBOX_ALICE.id };

    // The SDK alone: the same Server/Client classes, a tools/call handler that returns a precomputed result.
    const sdkAlone = await startSdkAlone(checkedResult(await runDirect()));
    // The same client class on its own undici pool whose fetch seam drops the per-call deadline signal:
    // what the AbortSignal.timeout() handed to undici on every call costs.
    const unsignalledNetwork = createUndiciFetch();
    const unsignalled = new CloudflareClient({
      baseUrl: ctx.emulator.baseUrl,
      fetch: (url, init) => unsignalledNetwork.fetch(url, { ...init, signal: undefined }),
      logger: createLogger(() => {}, 'info'),
      userAgent: `${SERVER_NAME}/${SERVER_VERSION}`,
    });

    const layers: Layer[] = [
      {
        id: 'undici_request',
        label: 'undici `request` + JSON.parse',
        adds: 'lowest-level undici API (reference, not in the chain)',
        run: () => ctx.direct.requestJson(path),
      },
      {
        id: 'undici_fetch',
        label: 'undici `fetch` + text + JSON.parse (**baseline**)',
        adds: 'WHATWG fetch on the same Agent settings as src/node/undici-fetch.ts',
        chain: true,
        run: () => ctx.direct.fetchJson(path),
      },
      {
        id: 'client',
        label: '`CloudflareClient.request`',
        adds: 'src/cloudflare/client.ts through the Node seam (src/node/undici-fetch.ts: undici.request, not fetch, since ISSUE 11): URL from checked segments, headers, the call signal, retry loop, capped body read, Zod envelope parse',
        chain: true,
        run: () => services.client.request({ method: 'GET', path: ['accounts', ctx.emulator.accountId, 'access', 'users', SANDBOX_ALICE.id], authHeaders }),
      },
      {
        id: 'client_no_signal',
        label: '`CloudflareClient.request`, deadline signal not passed to undici',
        adds: 'the same client with a fetch seam that drops `init.signal`: the difference to the row above is the per-call deadline (reference, not in the chain)',
        run: () => unsignalled.request({ method: 'GET', path: ['accounts', ctx.emulator.accountId, 'access', 'users', SANDBOX_ALICE.id], authHeaders }),
      },
      {
        id: 'run_tool',
        label: '`runTool(get_access_user)`',
        adds: 'src/tools/run.ts + src/trim: Zod input parse, handler, trimmer, output-schema safeParse, redact of text and structuredContent',
        chain: true,
        run: async () => checkedResult(await runDirect()),
      },
      {
        id: 'mcp_in_process',
        label: 'SDK `Client.callTool`, in-memory transport',
        adds: 'SDK JSON-RPC on both ends: message-type Zod checks, CallToolRequest parsed twice and CallToolResult once on the server, once more on the client, Ajv output-schema check, per-request AbortController and timeout timer',
        chain: true,
        run: async () => checkedResult((await ctx.inProcess.mcp.callTool({ name: 'get_access_user', arguments: args })) as CallToolResult),
      },
      {
        id: 'sdk_alone',
        label: 'SDK round trip alone (precomputed result)',
        adds: 'the same Server + Client classes and transport, handler returns a stored get_access_user result: the SDK floor (reference, not in the chain)',
        run: async () => checkedResult((await sdkAlone.client.callTool({ name: 'get_access_user', arguments: args })) as CallToolResult),
      },
    ];
    ctx.progress(`per-call: ${fmtInt(rounds)} interleaved rounds of ${layers.length} layers after ${warmup} warm-up rounds`);
    let samples: Map<string, number[]>;
    try {
      samples = await interleaved(layers, warmup, rounds);
    } finally {
      await sdkAlone.close();
      await unsignalledNetwork.close();
    }
    const layerStats = layers.map((layer) => stats(layer, samples.get(layer.id)!));
    const byId = new Map(layerStats.map((s) => [s.id, s]));
    const fetchStats = byId.get('undici_fetch')!;
    const mcpStats = byId.get('mcp_in_process')!;
    const sdkAloneStats = byId.get('sdk_alone')!;
    const chain = layerStats.filter((s) => s.chain);
    const deltaOf = new Map(chain.map((s, i) => [s.id, i === 0 ? undefined : s.p50 - chain[i - 1]!.p50]));

    ctx.progress(`per-call: stdio, ${fmtInt(stdioRounds)} rounds`);
    const stdio = await stdioClient(ctx);
    const bridge = await ctx.bridge();
    const bridgeArgs = { account_id: ctx.emulator.accountId, user_id: SANDBOX_ALICE.id };
    let stdioStats: LayerStats;
    let stdioFetchStats: LayerStats;
    let bridgeStats: LayerStats;
    try {
      const stdioLayers: Layer[] = [
        { id: 'undici_fetch', label: 'undici fetch (baseline)', adds: '', run: () => ctx.direct.fetchJson(path) },
        {
          id: 'mcp_stdio',
          label: 'SDK Client.callTool over spawned stdio',
          adds: 'JSON serialisation, pipes, a second process',
          run: async () => checkedResult((await stdio.client.callTool({ name: 'get_access_user', arguments: args })) as CallToolResult),
        },
        {
          id: 'bridge_stdio',
          label: `${BRIDGE_LABEL} over spawned stdio`,
          adds: 'the peer, same client class, same emulator and token',
          run: async () => {
            const result = (await bridge.client.callTool({ name: 'zero-trust-users-get-user', arguments: bridgeArgs })) as CallToolResult;
            if (result.isError) throw new Error(`the bridge's get user failed: ${textOf(result).slice(0, 200)}`);
            return result;
          },
        },
      ];
      const stdioSamples = await interleaved(stdioLayers, Math.ceil(warmup / 2), stdioRounds);
      stdioStats = stats(stdioLayers[1]!, stdioSamples.get('mcp_stdio')!);
      stdioFetchStats = stats(stdioLayers[0]!, stdioSamples.get('undici_fetch')!);
      bridgeStats = stats(stdioLayers[2]!, stdioSamples.get('bridge_stdio')!);
    } finally {
      await stdio.close();
    }

    const ratio50 = mcpStats.p50 / fetchStats.p50;
    const pass = ratio50 <= OVERHEAD_GOAL_RATIO;
    const ours = byId.get('run_tool')!;
    const steps = chain.slice(1).map((s) => ({ s, delta: deltaOf.get(s.id)! }));
    const biggest = [...steps].sort((a, b) => b.delta - a.delta)[0]!;
    const plain = (text: string) => text.replace(/[`*]/g, '');
    const why = pass
      ? undefined
      : `get_access_user in-process costs ${fmtMs(mcpStats.p50)} at p50 against ${fmtMs(fetchStats.p50)} for the direct fetch (+${fmtMs(mcpStats.p50 - fetchStats.p50)}). ` +
        `Step by step (p50 differences, same run): ${steps.map(({ s, delta }) => `${plain(s.label)} ${delta >= 0 ? '+' : ''}${fmtMs(delta)}`).join(', ')}. ` +
        `Our own code (client + runTool) reaches ${fmtNum(ours.p50 / fetchStats.p50, 2)}× of the baseline; the largest single step is ${plain(biggest.s.label)}` +
        ` (the SDK's round trip alone, with a precomputed result, costs ${fmtMs(sdkAloneStats.p50)} at p50). ` +
        `Passing the per-call deadline signal to undici accounts for ${fmtMs(byId.get('client')!.p50 - byId.get('client_no_signal')!.p50)} of the client step. ` +
        `The added time is a fixed ${fmtMs(mcpStats.p50 - fetchStats.p50)} per call, not proportional to upstream time: the emulator answers over loopback in about ${fmtMs(fetchStats.p50)}, ` +
        `so the ratio is the worst case; against an API 20 ms away the same cost would be ${fmtNum(((mcpStats.p50 - fetchStats.p50) / 20) * 100, 1)}%.`;

    const figures: Figure[] = [
      {
        id: 'per_call_in_process_p50',
        label: 'get_access_user p50, in-process SDK client',
        value: mcpStats.p50,
        unit: 'ms',
        baseline: { label: 'direct undici fetch + JSON.parse', value: fetchStats.p50 },
        ratio: ratio50,
        goal: `≤ ${OVERHEAD_GOAL_RATIO}× at p50`,
        pass,
        why,
      },
      {
        id: 'per_call_in_process_p99',
        label: 'get_access_user p99, in-process SDK client',
        value: mcpStats.p99,
        unit: 'ms',
        baseline: { label: 'direct undici fetch + JSON.parse', value: fetchStats.p99 },
        ratio: mcpStats.p99 / fetchStats.p99,
      },
      {
        id: 'per_call_stdio_vs_bridge_p50',
        label: 'get_access_user p50, spawned stdio, against the bridge\'s get user',
        value: stdioStats.p50,
        unit: 'ms',
        baseline: { label: `${BRIDGE_LABEL}, interleaved with it`, value: bridgeStats.p50 },
        ratio: stdioStats.p50 / bridgeStats.p50,
        goal: '≤ 1.0× the bridge at p50',
        pass: stdioStats.p50 <= bridgeStats.p50,
        why:
          stdioStats.p50 <= bridgeStats.p50
            ? undefined
            : `ours ${fmtMs(stdioStats.p50)} against the bridge's ${fmtMs(bridgeStats.p50)} at p50 over stdio (in-process our call costs ${fmtMs(mcpStats.p50)}; ` +
              `the direct fetch ${fmtMs(stdioFetchStats.p50)}). We do more per call than the bridge (Zod input and envelope parse, trimming, an output schema ` +
              'that the SDK client checks with Ajv, redaction); see the layers above for where the time goes.',
      },
      {
        id: 'per_call_stdio_vs_bridge_p95',
        label: 'get_access_user p95, spawned stdio, against the bridge\'s get user',
        value: stdioStats.p95,
        unit: 'ms',
        baseline: { label: `${BRIDGE_LABEL}, interleaved with it`, value: bridgeStats.p95 },
        ratio: stdioStats.p95 / bridgeStats.p95,
      },
      {
        id: 'per_call_stdio_p50',
        label: 'get_access_user p50, spawned stdio',
        value: stdioStats.p50,
        unit: 'ms',
        baseline: { label: 'direct undici fetch, interleaved with it', value: stdioFetchStats.p50 },
        ratio: stdioStats.p50 / stdioFetchStats.p50,
      },
      {
        id: 'per_call_stdio_p99',
        label: 'get_access_user p99, spawned stdio',
        value: stdioStats.p99,
        unit: 'ms',
        baseline: { label: 'direct undici fetch, interleaved with it', value: stdioFetchStats.p99 },
        ratio: stdioStats.p99 / stdioFetchStats.p99,
      },
    ];

    const layerRows = layerStats.map((s) => {
      const delta = deltaOf.get(s.id);
      return [
        s.label,
        fmtMs(s.p50),
        fmtMs(s.p99),
        fmtMs(s.mean),
        `${fmtNum(s.p50 / fetchStats.p50, 2)}×`,
        delta === undefined ? '—' : `${delta >= 0 ? '+' : ''}${fmtMs(delta)}`,
        s.adds,
      ];
    });
    const markdown = [
      `\`get_access_user\` for alice. Each round runs every layer once, in a freshly shuffled order (fixed seed); ${fmtInt(warmup)} warm-up rounds, then ${fmtInt(rounds)} measured rounds ` +
        `(${fmtInt(rounds)} samples per layer). The emulator runs in this process on 127.0.0.1, so upstream time is well under a millisecond: ` +
        'this is the worst case for the ratio. The server uses the CLI\'s settings (undici defaults from src/node/undici-fetch.ts, real clock).',
      '',
      table(['layer', 'p50', 'p99', 'mean', 'p50 ÷ fetch', 'Δ p50 vs previous step', 'what it adds'], layerRows, ['l', 'r', 'r', 'r', 'r', 'r', 'l']),
      '',
      `Spawned stdio: ${stdio.entry}, ${fmtInt(stdioRounds)} rounds alternating with the direct fetch: ` +
        `p50 ${fmtMs(stdioStats.p50)} vs ${fmtMs(stdioFetchStats.p50)} (${fmtNum(stdioStats.p50 / stdioFetchStats.p50, 2)}×), ` +
        `p99 ${fmtMs(stdioStats.p99)} vs ${fmtMs(stdioFetchStats.p99)}. ` +
        `In the same rounds, ${BRIDGE_LABEL} (${bridge.command}) answering its get user (\`zero-trust-users-get-user\`, the pretty-printed upstream body): ` +
        `p50 ${fmtMs(bridgeStats.p50)}, p95 ${fmtMs(bridgeStats.p95)}, p99 ${fmtMs(bridgeStats.p99)}; ours ÷ bridge ${fmtNum(stdioStats.p50 / bridgeStats.p50, 2)}× at p50, ` +
        `${fmtNum(stdioStats.p95 / bridgeStats.p95, 2)}× at p95.`,
    ].join('\n');

    return {
      markdown,
      figures,
      summary: {
        warmup,
        rounds,
        stdioRounds,
        stdioEntry: stdio.entry,
        layers: Object.fromEntries(layerStats.map(({ id, p50, p99, mean: avg }) => [id, { p50, p99, mean: avg }])),
        stdio: { p50: stdioStats.p50, p95: stdioStats.p95, p99: stdioStats.p99, fetchP50: stdioFetchStats.p50, fetchP99: stdioFetchStats.p99 },
        bridgeStdio: { p50: bridgeStats.p50, p95: bridgeStats.p95, p99: bridgeStats.p99 },
        ratioP50: ratio50,
      },
    };
  },
};
