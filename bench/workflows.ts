/**
 * Section: agent workflows. (1) Listing 5,000 users with list_access_users all: true against an emulator
 * answering every request after a fixed 20 ms, with the default concurrency (4) and sequentially (1), in the
 * same run; the emulator counts the requests in flight. (2) Each used-by scenario of the issue with the
 * workflow tools next to the same scenario done with only the ten basic tools: calls, upstream requests and
 * characters the agent reads (drivers in test/helpers/scenarios.ts, shared with test/scenarios.test.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { SANDBOX_ALICE, startEmulator, type Emulator } from '../src/sandbox/emulator.js';
import { cleanEnv, PROJECT_ROOT } from '../test/helpers/spawn.js';
import {
  measure,
  offboardWithBasicTools,
  offboardWithWorkflow,
  provisionWithBasicToolsListing,
  provisionWithBasicToolsLookups,
  provisionWithWorkflow,
  sessionsQuestionWithBasicTools,
  sessionsQuestionWithOverview,
  twentyPeople,
  type CallTool,
  type ScenarioRun,
} from '../test/helpers/scenarios.js';
import type { ChildMessage, ParentMessage } from './emulator-child.js';
import { fmtInt, fmtMs, fmtNum, median, table, type BenchContext, type Figure, type Section } from './lib.js';
import { startInProcess, type InProcessServer, type Upstream } from './setup.js';

const LATENCY_MS = 20;
const CONCURRENCY = 4;
const SPEEDUP_GOAL = 3;
const OVERVIEW_GOAL_CHARS = 4_000;
/** 50 pages of 100: enough pages for the fan-out to matter (5 pages of 1,000 allow at most 2.5×, see below). */
const PAGE_SIZE = 100;

interface ListingRun {
  ms: number;
  requests: number;
  maxInFlight: number;
  count: number;
}

/** The emulator in a child process (./emulator-child.ts): its counts, asked over IPC. */
interface RemoteEmulator {
  upstream: Upstream;
  reset(): Promise<void>;
  stats(): Promise<{ requests: number; maxInFlight: number }>;
  close(): Promise<void>;
}

async function startRemoteEmulator(options: { userCount: number; latencyMs: number }): Promise<RemoteEmulator> {
  const child: ChildProcess = fork(join(PROJECT_ROOT, 'bench/emulator-child.ts'), [], {
    cwd: PROJECT_ROOT,
    execArgv: ['--import', 'tsx'],
    env: cleanEnv({ BENCH_EMULATOR: JSON.stringify(options) }),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const next = async <K extends ChildMessage['kind']>(kind: K, ask?: ParentMessage): Promise<Extract<ChildMessage, { kind: K }>> => {
    const answer = once(child, 'message') as Promise<[ChildMessage]>;
    if (ask) child.send(ask);
    const [message] = await answer;
    if (message.kind !== kind) throw new Error(`emulator child answered ${message.kind}, expected ${kind}`);
    return message as Extract<ChildMessage, { kind: K }>;
  };
  const ready = await next('ready');
  return {
    upstream: { baseUrl: ready.baseUrl, token: ready.token, accountId: ready.accountId },
    reset: async () => void (await next('reset', { cmd: 'reset' })),
    stats: async () => {
      const { requests, maxInFlight } = await next('stats', { cmd: 'stats' });
      return { requests, maxInFlight };
    },
    close: async () => {
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    },
  };
}

async function listEveryone(server: InProcessServer, emulator: RemoteEmulator, perPage: number): Promise<ListingRun> {
  await emulator.reset();
  const started = performance.now();
  const result = await server.call('list_access_users', { all: true, per_page: perPage, fields: ['email'] });
  const ms = performance.now() - started;
  if (result.isError) throw new Error(`list_access_users all: true failed: ${JSON.stringify(result.content)}`);
  const paging = (result.structuredContent as { paging?: { count?: number } }).paging;
  return { ms, ...(await emulator.stats()), count: paging?.count ?? 0 };
}

/** Alternating runs of the two servers, so drift on a noisy machine is shared. */
async function compareListing(servers: { concurrent: InProcessServer; sequential: InProcessServer }, emulator: RemoteEmulator, perPage: number, rounds: number) {
  const concurrent: ListingRun[] = [];
  const sequential: ListingRun[] = [];
  await listEveryone(servers.concurrent, emulator, perPage); // warm-up: connections, JIT
  for (let round = 0; round < rounds; round++) {
    concurrent.push(await listEveryone(servers.concurrent, emulator, perPage));
    sequential.push(await listEveryone(servers.sequential, emulator, perPage));
  }
  const summary = (runs: ListingRun[]) => ({
    ms: median(runs.map((run) => run.ms)),
    requests: runs[0]!.requests,
    maxInFlight: Math.max(...runs.map((run) => run.maxInFlight)),
    count: runs[0]!.count,
  });
  return { concurrent: summary(concurrent), sequential: summary(sequential) };
}

/** A fresh default emulator and server for one scenario run, so every run starts from the same account. */
async function onFreshAccount(drive: (call: CallTool) => Promise<boolean>, setup?: (emulator: Emulator, server: InProcessServer) => Promise<void>): Promise<ScenarioRun> {
  const emulator = await startEmulator({ host: '127.0.0.1' });
  const server = await startInProcess({ baseUrl: emulator.baseUrl, token: emulator.credentials.apiToken, accountId: emulator.accountId });
  try {
    await setup?.(emulator, server);
    return await measure(emulator, server.call, drive);
  } finally {
    await server.close();
    await emulator.close();
  }
}

const OFFBOARD_EMAILS = ['leaver0@corp.example', 'leaver1@corp.example', 'leaver2@corp.example'];

async function createLeavers(_emulator: Emulator, server: InProcessServer): Promise<void> {
  for (const email of OFFBOARD_EMAILS) {
    const result = await server.call('create_access_user', { email, name: email });
    if (result.isError) throw new Error(`could not create ${email}`);
  }
}

export const workflowsSection: Section = {
  id: 'workflows',
  title: 'Agent workflows: list all, overview, provisioning, offboarding',
  async run(ctx: BenchContext) {
    const users = ctx.quick ? 1_000 : 5_000;
    const rounds = ctx.quick ? 1 : 5;
    ctx.progress(`workflows: seeding ${users} users, ${LATENCY_MS} ms per request`);
    const emulator = await startRemoteEmulator({ userCount: users, latencyMs: LATENCY_MS });
    const { upstream } = emulator;
    // The default response budget, as users run it: every page is fetched (paging.count says how many users
    // arrived), and the answer is the total, the first rows and how to narrow.
    const concurrent = await startInProcess(upstream, { maxConcurrency: CONCURRENCY });
    const sequential = await startInProcess(upstream, { maxConcurrency: 1 });
    let small: Awaited<ReturnType<typeof compareListing>>;
    let large: Awaited<ReturnType<typeof compareListing>>;
    try {
      small = await compareListing({ concurrent, sequential }, emulator, PAGE_SIZE, rounds);
      large = await compareListing({ concurrent, sequential }, emulator, 1_000, rounds);
    } finally {
      await concurrent.close();
      await sequential.close();
      await emulator.close();
    }
    const speedup = small.sequential.ms / small.concurrent.ms;
    const largeSpeedup = large.sequential.ms / large.concurrent.ms;
    const allArrived = small.concurrent.count === users && small.sequential.count === users;

    ctx.progress('workflows: scenarios, workflow tools vs the ten basic tools');
    const sessions = {
      workflow: await onFreshAccount(sessionsQuestionWithOverview(SANDBOX_ALICE.email)),
      basic: await onFreshAccount(sessionsQuestionWithBasicTools(SANDBOX_ALICE.email)),
    };
    const peopleOn = (emulator: Emulator) => twentyPeople(emulator, 'bench').people;
    let people: ReturnType<typeof twentyPeople>['people'] = [];
    const rememberPeople = async (emulator: Emulator) => void (people = peopleOn(emulator));
    const provisioning = {
      workflow: await onFreshAccount((call) => provisionWithWorkflow(people)(call), rememberPeople),
      basicListing: await onFreshAccount((call) => provisionWithBasicToolsListing(people)(call), rememberPeople),
      basicLookups: await onFreshAccount((call) => provisionWithBasicToolsLookups(people)(call), rememberPeople),
    };
    const offboarding = {
      workflow: await onFreshAccount(offboardWithWorkflow(OFFBOARD_EMAILS, true), createLeavers),
      basic: await onFreshAccount(offboardWithBasicTools(OFFBOARD_EMAILS), createLeavers),
    };
    const scenariosOk = [sessions, provisioning, offboarding].every((runs) => Object.values(runs).every((run) => run.ok));

    const figures: Figure[] = [
      {
        id: 'list_all_concurrent_ms',
        label: `list_access_users all: true, ${fmtInt(users)} users, ${PAGE_SIZE} a page, ${LATENCY_MS} ms per request, concurrency ${CONCURRENCY} (ratio: speed-up)`,
        value: small.concurrent.ms,
        unit: 'ms',
        baseline: { label: 'same call, concurrency 1', value: small.sequential.ms },
        ratio: speedup,
        goal: `≥ ${SPEEDUP_GOAL}× faster`,
        pass: speedup >= SPEEDUP_GOAL && allArrived,
        why:
          speedup >= SPEEDUP_GOAL && allArrived
            ? undefined
            : allArrived
              ? `${fmtNum(speedup, 2)}× over ${small.concurrent.requests} requests: the first page runs alone, the rest ${CONCURRENCY} at a time; a loaded machine adds per-request CPU that no concurrency hides.`
              : `not every user arrived (${small.concurrent.count} and ${small.sequential.count} of ${users}).`,
      },
      {
        id: 'list_all_max_in_flight',
        label: 'most requests in flight at once, counted by the emulator (concurrency 4 run)',
        value: small.concurrent.maxInFlight,
        unit: 'count',
        baseline: { label: 'concurrency 1 run', value: small.sequential.maxInFlight },
        goal: `≤ ${CONCURRENCY}, and 1 sequentially`,
        pass: small.concurrent.maxInFlight <= CONCURRENCY && large.concurrent.maxInFlight <= CONCURRENCY && small.sequential.maxInFlight === 1,
        why: `peaks: ${small.concurrent.maxInFlight} (100 a page), ${large.concurrent.maxInFlight} (1,000 a page), ${small.sequential.maxInFlight} sequential.`,
      },
      {
        id: 'list_all_large_pages_ms',
        label: `the same with 1,000 a page (${large.concurrent.requests} requests; informational)`,
        value: large.concurrent.ms,
        unit: 'ms',
        baseline: { label: 'concurrency 1', value: large.sequential.ms },
        ratio: largeSpeedup,
      },
      {
        id: 'overview_chars',
        label: '"which sessions does alice have, from which devices and IPs, last sign-in, failed logins?": characters read',
        value: sessions.workflow.chars,
        unit: 'count',
        baseline: { label: `the ten basic tools, ${sessions.basic.calls} calls`, value: sessions.basic.chars },
        ratio: sessions.workflow.chars / sessions.basic.chars,
        goal: `1 call, ≤ ${fmtInt(OVERVIEW_GOAL_CHARS)}`,
        pass: sessions.workflow.ok && sessions.workflow.calls === 1 && sessions.workflow.chars <= OVERVIEW_GOAL_CHARS,
        why: `${sessions.workflow.calls} call(s), ${fmtInt(sessions.workflow.chars)} characters.`,
      },
      {
        id: 'provision_calls',
        label: 'provision 20 people, 10 of whom exist: tool calls',
        value: provisioning.workflow.calls,
        unit: 'count',
        baseline: { label: 'basic tools, one listing + creates', value: provisioning.basicListing.calls },
        ratio: provisioning.workflow.calls / provisioning.basicListing.calls,
        goal: '2 (plan, apply)',
        pass: provisioning.workflow.ok && provisioning.workflow.calls === 2,
      },
      {
        id: 'offboard_calls',
        label: 'offboard 3 people: tool calls',
        value: offboarding.workflow.calls,
        unit: 'count',
        baseline: { label: 'basic tools, lookup + delete each', value: offboarding.basic.calls },
        ratio: offboarding.workflow.calls / offboarding.basic.calls,
        goal: '2 (plan, apply)',
        pass: offboarding.workflow.ok && offboarding.workflow.calls === 2,
      },
      {
        id: 'scenarios_ok',
        label: 'every scenario run succeeded (both ways)',
        value: scenariosOk ? 1 : 0,
        unit: 'yes/no',
        goal: 'yes',
        pass: scenariosOk,
      },
    ];

    const scenarioRow = (scenario: string, how: string, run: ScenarioRun) => [scenario, how, fmtInt(run.calls), fmtInt(run.requests), fmtInt(run.chars), run.ok ? 'yes' : '**no**'];
    const markdown = [
      `An emulator seeded with ${fmtInt(users)} users, in a child process of its own (bench/emulator-child.ts), answers every request after ${LATENCY_MS} ms. Two in-process servers on it (the CLI's wiring), ` +
        `one with \`--max-concurrency ${CONCURRENCY}\` and one with 1, alternate the same call, \`list_access_users {all: true, per_page, fields: ["email"]}\`; ` +
        `medians of ${rounds} run(s) each after a warm-up, with the default response budget (every page is fetched; the answer keeps the total and the first rows). ` +
        'The emulator counts the requests it is answering at once.',
      '',
      table(
        ['page size', 'requests', 'concurrency 4', 'concurrency 1', 'speed-up', 'peak in flight (4 / 1)', 'users returned'],
        [
          [String(PAGE_SIZE), fmtInt(small.concurrent.requests), fmtMs(small.concurrent.ms), fmtMs(small.sequential.ms), `${fmtNum(speedup, 2)}×`, `${small.concurrent.maxInFlight} / ${small.sequential.maxInFlight}`, fmtInt(small.concurrent.count)],
          ['1,000', fmtInt(large.concurrent.requests), fmtMs(large.concurrent.ms), fmtMs(large.sequential.ms), `${fmtNum(largeSpeedup, 2)}×`, `${large.concurrent.maxInFlight} / ${large.sequential.maxInFlight}`, fmtInt(large.concurrent.count)],
        ],
        ['r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
      'The first page runs alone (it gives the total), so n pages take about 1 + ⌈(n − 1) / 4⌉ round trips instead of n: with 5 pages of 1,000 ' +
        'the ceiling is 2.5×, with 50 pages of 100 it is about 3.8×. `all: true` uses pages of 1,000 unless told otherwise (fewest requests against the rate limit).',
      '',
      '### Scenarios: workflow tools vs the ten basic tools',
      '',
      'Each run starts from a fresh default sandbox account (60 users), through the same in-process server; "characters" is the result text the agent reads. ' +
        'The basic-tools runs are what an ideal agent does with only the ten basic tools (test/helpers/scenarios.ts).',
      '',
      table(
        ['scenario', 'how', 'tool calls', 'upstream requests', 'characters', 'ok'],
        [
          scenarioRow('sessions question (alice)', 'get_user_access_overview', sessions.workflow),
          scenarioRow('', 'basic: list, get user, sessions, each session, last seen, failed logins', sessions.basic),
          scenarioRow('provision 20, 10 exist', 'provision_access_users plan + apply', provisioning.workflow),
          scenarioRow('', 'basic: one listing (per_page 1000) + a create per missing person', provisioning.basicListing),
          scenarioRow('', 'basic: a lookup per person + a create per missing person', provisioning.basicLookups),
          scenarioRow('offboard 3', 'offboard_access_users plan + apply (confirm: true)', offboarding.workflow),
          scenarioRow('', 'basic: a lookup + delete_access_user per person', offboarding.basic),
        ],
        ['l', 'l', 'r', 'r', 'r', 'l'],
      ),
    ].join('\n');

    return {
      markdown,
      figures,
      summary: {
        users,
        latencyMs: LATENCY_MS,
        concurrency: CONCURRENCY,
        listing: { perPage100: small, perPage1000: large, speedup, largeSpeedup },
        scenarios: { sessions, provisioning, offboarding },
      },
    };
  },
};
