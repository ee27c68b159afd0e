/**
 * Section: HTTP transports. The server in its own process (bench/http-child.ts:
 * the CLI's wiring behind serveHttp, stateful and --stateless), driven by SDK
 * clients over Streamable HTTP on loopback against the emulator:
 *
 * - tool calls per second and p50/p99, stateful and stateless, next to a direct undici call to the same
 *   upstream data in the same run, interleaved in shuffled rounds so drift is shared;
 * - the server's RSS after 1,000 sessions opened and closed, against before (after a warm-up);
 * - the 100-session isolation run: each session its own token and account, three calls in parallel each;
 *   the emulator's request log must show no request with another session's (or the server's) credentials.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SANDBOX_ALICE } from '../src/sandbox/emulator.js';
import { mulberry32 } from '../src/sandbox/seed.js';
import { textOf } from '../test/helpers/harness.js';
import { cleanEnv, PROJECT_ROOT } from '../test/helpers/spawn.js';
import type { HttpChildMessage, HttpChildRequest } from './http-child.js';
import { fmtInt, fmtMs, fmtNum, percentile, table, type BenchContext, type Figure, type Section, shuffleInPlace } from './lib.js';
import type { Upstream } from './setup.js';

export const HTTP_THROUGHPUT_GOAL = 0.5;
export const HTTP_RSS_TOLERANCE = 0.1;

type Sample = Extract<HttpChildMessage, { type: 'sample' }>;

interface ServerChild {
  stateful: string;
  stateless: string;
  sample(): Promise<Sample>;
  /** The server process's CPU time so far, µs. */
  cpu(): Promise<number>;
  close(): Promise<void>;
}

/** Forks bench/http-child.ts and waits for its two URLs. */
function startServerChild(upstream: Upstream): Promise<ServerChild> {
  const child: ChildProcess = fork(join(PROJECT_ROOT, 'bench/http-child.ts'), [], {
    cwd: PROJECT_ROOT,
    env: cleanEnv({ BENCH_HTTP: JSON.stringify(upstream) }),
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const next = <T extends HttpChildMessage['type']>(type: T) =>
    new Promise<Extract<HttpChildMessage, { type: T }>>((resolve, reject) => {
      const onMessage = (message: HttpChildMessage) => {
        if (message.type !== type) return;
        child.off('exit', onExit);
        child.off('message', onMessage);
        resolve(message as Extract<HttpChildMessage, { type: T }>);
      };
      const onExit = (code: number | null) => reject(new Error(`http bench child exited (${code}): ${stderr.slice(-500)}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ask = (request: HttpChildRequest) => child.send(request);
  return next('ready').then((ready) => ({
    stateful: ready.stateful,
    stateless: ready.stateless,
    sample() {
      const answer = next('sample');
      ask({ type: 'sample' });
      return answer;
    },
    async cpu() {
      const answer = next('cpu');
      ask({ type: 'cpu' });
      return (await answer).micros;
    },
    close: () =>
      new Promise<void>((resolve) => {
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        ask({ type: 'close' });
      }),
  }));
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } });
  const client = new Client({ name: 'bench-http', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

// ---------- throughput ----------

interface Mode {
  id: 'direct' | 'stateful' | 'stateless';
  label: string;
  call(worker: number): Promise<void>;
}

interface ModeStats {
  calls: number;
  elapsedMs: number;
  samples: number[];
  /** CPU spent by this process (clients, emulator) and by the server process, ms. */
  localCpuMs: number;
  serverCpuMs: number;
}

const emptyStats = (): ModeStats => ({ calls: 0, elapsedMs: 0, samples: [], localCpuMs: 0, serverCpuMs: 0 });

/** `workers` loops each taking the next call until `total` are done; every call's latency kept. */
async function closedLoop(mode: Mode, workers: number, total: number, into: ModeStats, child: ServerChild): Promise<void> {
  let started = 0;
  const serverBefore = await child.cpu();
  const localBefore = process.cpuUsage();
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (started < total) {
        started += 1;
        const t = performance.now();
        await mode.call(worker);
        into.samples.push(performance.now() - t);
      }
    }),
  );
  into.elapsedMs += performance.now() - begin;
  const local = process.cpuUsage(localBefore);
  into.localCpuMs += (local.user + local.system) / 1000;
  into.serverCpuMs += ((await child.cpu()) - serverBefore) / 1000;
  into.calls += total;
}

async function throughput(ctx: BenchContext, child: ServerChild) {
  const workers = 8;
  const warmup = ctx.quick ? 30 : 300;
  const rounds = ctx.quick ? 2 : 5;
  const perRound = ctx.quick ? 100 : 1_000;
  const path = `/client/v4/accounts/${ctx.emulator.accountId}/access/users/${SANDBOX_ALICE.id}`;
  const args = { user_id: SANDBOX_ALICE.id };
  const connections: Array<{ client: Client; transport: StreamableHTTPClientTransport }> = [];
  const clientsFor = (url: string) =>
    Promise.all(
      Array.from({ length: workers }, async () => {
        const connection = await connect(url);
        connections.push(connection);
        // A real client lists tools first, which also arms its output-schema validation.
        await connection.client.listTools();
        return connection.client;
      }),
    );
  const [stateful, stateless] = await Promise.all([clientsFor(child.stateful), clientsFor(child.stateless)]);
  const viaMcp = (clients: Client[]) => async (worker: number) => {
    const result = (await clients[worker]!.callTool({ name: 'get_access_user', arguments: args })) as CallToolResult;
    if (result.isError) throw new Error(`get_access_user failed: ${textOf(result)}`);
  };
  const modes: Mode[] = [
    {
      id: 'direct',
      label: 'direct undici fetch + JSON.parse (baseline)',
      call: async () => {
        const envelope = (await ctx.direct.fetchJson(path)) as { success?: boolean };
        if (envelope.success !== true) throw new Error('direct call failed');
      },
    },
    { id: 'stateful', label: 'Streamable HTTP, stateful (one session per client)', call: viaMcp(stateful) },
    { id: 'stateless', label: 'Streamable HTTP, --stateless (a fresh server per request)', call: viaMcp(stateless) },
  ];
  try {
    const stats = new Map(modes.map((mode) => [mode.id, emptyStats()]));
    for (const mode of modes) await closedLoop(mode, workers, warmup, emptyStats(), child);
    const random = mulberry32(20261201);
    const order = [...modes];
    for (let round = 0; round < rounds; round++) {
      shuffleInPlace(order, random);
      for (const mode of order) await closedLoop(mode, workers, perRound, stats.get(mode.id)!, child);
    }
    return { workers, warmup, rounds, perRound, modes, stats };
  } finally {
    // Ended as a client should (DELETE), so the sessions count below starts from none.
    await Promise.all(connections.map(async ({ client, transport }) => (await transport.terminateSession(), await client.close())));
  }
}

// ---------- sessions opened and closed ----------

async function openAndClose(url: string, count: number, concurrency: number): Promise<void> {
  let opened = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (opened < count) {
        opened += 1;
        const { client, transport } = await connect(url);
        await client.listTools();
        await transport.terminateSession();
        await client.close();
      }
    }),
  );
}

async function sessionMemory(ctx: BenchContext, child: ServerChild) {
  const warmup = ctx.quick ? 20 : 100;
  const sessions = ctx.quick ? 100 : 1_000;
  await openAndClose(child.stateful, warmup, 10);
  const before = await child.sample();
  const started = performance.now();
  await openAndClose(child.stateful, sessions, 20);
  const elapsedMs = performance.now() - started;
  const after = await child.sample();
  return { warmup, sessions, before, after, elapsedMs };
}

// ---------- isolation ----------

async function isolation(ctx: BenchContext, child: ServerChild) {
  const sessions = ctx.quick ? 20 : 100;
  const { emulator } = ctx;
  emulator.resetRequests();
  const identities = Array.from({ length: sessions }, (_, i) => ({
    token: `cfut_bench_isolation_${i}`,
    accountId: (0xb000 + i).toString(16).padStart(32, '0'),
  }));
  const started = performance.now();
  await Promise.all(
    identities.map(async ({ token, accountId }) => {
      const { client, transport } = await connect(child.stateful, { 'x-cloudflare-api-token': token, 'x-cloudflare-account-id': accountId });
      try {
        await Promise.all([
          client.callTool({ name: 'get_current_user', arguments: {} }),
          client.callTool({ name: 'list_access_users', arguments: { per_page: 5 } }),
          client.callTool({ name: 'get_access_user', arguments: { user_id: SANDBOX_ALICE.id } }),
        ]);
      } finally {
        await transport.terminateSession();
        await client.close();
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  const byToken = new Map(identities.map((identity) => [`Bearer ${identity.token}`, identity]));
  let foreign = 0;
  const perSession = new Map<string, number>();
  for (const request of emulator.requests) {
    const identity = byToken.get(String(request.headers.authorization));
    const account = /\/accounts\/([0-9a-f]{32})\//.exec(request.url)?.[1];
    if (!identity || (account !== undefined && account !== identity.accountId)) foreign += 1;
    else perSession.set(identity.token, (perSession.get(identity.token) ?? 0) + 1);
  }
  const complete = identities.every(({ token }) => perSession.get(token) === 3);
  return { sessions, calls: sessions * 3, upstream: emulator.requests.length, foreign, complete, elapsedMs };
}

// ---------- the section ----------

const mb = (bytes: number) => bytes / 1024 / 1024;

export const httpSection: Section = {
  id: 'http',
  title: 'HTTP transports',
  async run(ctx) {
    const upstream: Upstream = { baseUrl: ctx.emulator.baseUrl, token: ctx.emulator.credentials.apiToken, accountId: ctx.emulator.accountId };
    ctx.progress('http: starting the server process (stateful and --stateless)');
    const child = await startServerChild(upstream);
    try {
      ctx.progress('http: throughput, direct vs stateful vs stateless');
      const speed = await throughput(ctx, child);
      ctx.progress('http: sessions opened and closed');
      const memory = await sessionMemory(ctx, child);
      ctx.progress('http: isolation run');
      const iso = await isolation(ctx, child);

      const perSecond = (id: Mode['id']) => {
        const s = speed.stats.get(id)!;
        return s.calls / (s.elapsedMs / 1000);
      };
      const direct = perSecond('direct');
      const cpuPerCall = (id: Mode['id']) => {
        const s = speed.stats.get(id)!;
        return { local: s.localCpuMs / s.calls, server: s.serverCpuMs / s.calls };
      };
      const cores = os.availableParallelism();
      const latency = (id: Mode['id']) => ({ p50: percentile(speed.stats.get(id)!.samples, 50), p99: percentile(speed.stats.get(id)!.samples, 99) });
      const throughputGoal = `≥ ${HTTP_THROUGHPUT_GOAL}× direct`;
      const throughputFigure = (id: 'stateful' | 'stateless', label: string): Figure => {
        const ratio = perSecond(id) / direct;
        const pass = ratio >= HTTP_THROUGHPUT_GOAL;
        return {
          id: `http_${id}_calls_per_s`,
          label,
          value: perSecond(id),
          unit: 'count',
          baseline: { label: 'direct undici calls/s', value: direct },
          ratio,
          goal: throughputGoal,
          pass,
          why: pass ? undefined : throughputWhy(id),
        };
      };
      /** Where the CPU went: the ceiling on this machine follows from CPU per call, whatever the scheduling. */
      function throughputWhy(id: 'stateful' | 'stateless'): string {
        const mcp = cpuPerCall(id);
        const base = cpuPerCall('direct').local;
        const ceiling = (cores * 1000) / (mcp.local + mcp.server);
        return (
          `${fmtNum(perSecond(id), 0)} calls/s against ${fmtNum(direct, 0)} direct (${speed.workers} concurrent clients). CPU per call: ` +
          `server process ${fmtMs(mcp.server)}, this process (SDK clients + emulator) ${fmtMs(mcp.local)}, against ${fmtMs(base)} for the direct call (undici + emulator). ` +
          `With ${cores} cores the MCP path cannot pass ≈ ${fmtNum(ceiling, 0)} calls/s (${fmtNum(ceiling / direct, 2)}× direct) however it is scheduled: ` +
          'each call carries JSON-RPC over SSE both ways (the SDK client parses SSE through web TransformStreams, validates the result against the output schema; ' +
          'the server parses JSON-RPC with zod, runs the tool, trims and checks the result) around the same upstream request, which the server makes with undici\'s fetch too.'
        );
      }
      const rssRatio = memory.after.rss / memory.before.rss;
      const rssPass = Math.abs(rssRatio - 1) <= HTTP_RSS_TOLERANCE;
      const figures: Figure[] = [
        throughputFigure('stateful', `stateful Streamable HTTP: tool calls per second (${speed.workers} clients)`),
        throughputFigure('stateless', `--stateless Streamable HTTP: tool calls per second (${speed.workers} clients)`),
        { id: 'http_stateful_p50', label: 'stateful: get_access_user p50', value: latency('stateful').p50, unit: 'ms', baseline: { label: 'direct p50', value: latency('direct').p50 }, ratio: latency('stateful').p50 / latency('direct').p50 },
        { id: 'http_stateful_p99', label: 'stateful: get_access_user p99', value: latency('stateful').p99, unit: 'ms', baseline: { label: 'direct p99', value: latency('direct').p99 }, ratio: latency('stateful').p99 / latency('direct').p99 },
        { id: 'http_stateless_p50', label: 'stateless: get_access_user p50', value: latency('stateless').p50, unit: 'ms', baseline: { label: 'direct p50', value: latency('direct').p50 }, ratio: latency('stateless').p50 / latency('direct').p50 },
        { id: 'http_stateless_p99', label: 'stateless: get_access_user p99', value: latency('stateless').p99, unit: 'ms', baseline: { label: 'direct p99', value: latency('direct').p99 }, ratio: latency('stateless').p99 / latency('direct').p99 },
        {
          id: 'http_sessions_rss',
          label: `server RSS after ${fmtInt(memory.sessions)} sessions opened and closed`,
          value: mb(memory.after.rss),
          unit: 'MB',
          baseline: { label: `after ${fmtInt(memory.warmup)} warm-up sessions`, value: mb(memory.before.rss) },
          ratio: rssRatio,
          goal: `within ±${HTTP_RSS_TOLERANCE * 100}%`,
          pass: rssPass,
          why: rssPass
            ? undefined
            : `RSS went from ${fmtNum(mb(memory.before.rss), 1)} to ${fmtNum(mb(memory.after.rss), 1)} MB (heapUsed ${fmtNum(mb(memory.before.heapUsed), 1)} → ${fmtNum(mb(memory.after.heapUsed), 1)} MB), ${memory.after.sessions} sessions still open.`,
        },
        { id: 'http_sessions_left_open', label: 'sessions still open after all were closed', value: memory.after.sessions, unit: 'count', goal: '0', pass: memory.after.sessions === 0 },
        {
          id: 'http_isolation_foreign_requests',
          label: `isolation: upstream requests with another session's credentials or account (${iso.sessions} sessions × 3 parallel calls)`,
          value: iso.foreign,
          unit: 'count',
          goal: '0, and every session\'s 3 requests seen',
          pass: iso.foreign === 0 && iso.complete,
        },
        { id: 'http_isolation_ms', label: `isolation run: ${iso.sessions} sessions open, call and close`, value: iso.elapsedMs, unit: 'ms' },
      ];
      const markdown = [
        `The server runs in its own process (\`bench/http-child.ts\`: the CLI's wiring behind \`serveHttp\`, as \`--http\` and \`--http --stateless\`), the clients, the emulator and the direct baseline in this one, all on loopback. ` +
          `Each mode: ${speed.workers} concurrent clients in closed loops calling \`get_access_user\` (one upstream GET), ${fmtInt(speed.warmup)} warm-up calls, then ${speed.rounds} shuffled rounds of ${fmtInt(speed.perRound)} calls per mode.`,
        '',
        table(
          ['mode', 'calls/s', 'p50', 'p99', 'CPU per call: server process', 'CPU per call: this process', 'calls'],
          speed.modes.map((mode) => {
            const s = speed.stats.get(mode.id)!;
            const l = latency(mode.id);
            const cpu = cpuPerCall(mode.id);
            return [mode.label, fmtNum(perSecond(mode.id), 0), fmtMs(l.p50), fmtMs(l.p99), mode.id === 'direct' ? '—' : fmtMs(cpu.server), fmtMs(cpu.local), fmtInt(s.calls)];
          }),
          ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
        ),
        '',
        `Sessions: ${fmtInt(memory.sessions)} opened and closed (initialize, tools/list, DELETE) by 20 clients at a time in ${fmtNum(memory.elapsedMs / 1000, 1)} s; ` +
          `server RSS ${fmtNum(mb(memory.before.rss), 1)} → ${fmtNum(mb(memory.after.rss), 1)} MB, heapUsed ${fmtNum(mb(memory.before.heapUsed), 1)} → ${fmtNum(mb(memory.after.heapUsed), 1)} MB` +
          `${memory.after.gcExposed ? ' (after full GCs)' : ' (gc not exposed)'}.`,
        '',
        `Isolation: ${iso.sessions} sessions, each with its own token and account, 3 calls each in parallel (${fmtInt(iso.calls)} calls, ${fmtInt(iso.upstream)} upstream requests) in ${fmtMs(iso.elapsedMs)}; ` +
          `requests carrying another session's credentials or account: ${iso.foreign}. The tokens are made up, so the emulator refuses them: the run measures routing and isolation, not data.`,
      ].join('\n');
      return {
        markdown,
        figures,
        summary: {
          throughput: Object.fromEntries(
            speed.modes.map((mode) => [mode.id, { perSecond: perSecond(mode.id), ...latency(mode.id), cpuMsPerCall: cpuPerCall(mode.id), calls: speed.stats.get(mode.id)!.calls }]),
          ),
          cores,
          sessions: { count: memory.sessions, before: memory.before, after: memory.after, elapsedMs: memory.elapsedMs },
          isolation: iso,
        },
      };
    } finally {
      await child.close();
    }
  },
};
