/**
 * The one-click bundle: `npm run bundle` (scripts/bundle.ts) builds a .mcpb; unpacked, it holds only what
 * runs, and the server starts from it the way Claude Desktop starts it: the manifest's mcp_config with
 * ${__dirname} and ${user_config.*} substituted by mcpb's own code (getMcpConfigForManifest).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { getMcpConfigForManifest, unpackExtension, v0_3 } from '@anthropic-ai/mcpb';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_ICON } from '../src/icon.js';
import type { Emulator } from '../src/sandbox/emulator.js';
import { allTools } from '../src/tools/index.js';
import { startTestEmulator, TEST_TOKEN, textOf } from './helpers/harness.js';
import { compiledCli } from './helpers/build.js';
import { cleanEnv, PROJECT_ROOT } from './helpers/spawn.js';

/** What must never ship: the dev dependencies the brief names, and every one package.json lists. */
const packageJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const DEV_ONLY = [
  ...new Set([
    'vitest',
    'typescript',
    'tsx',
    'esbuild',
    'fast-check',
    'miniflare',
    '@anthropic-ai/mcpb',
    '@modelcontextprotocol/inspector',
    ...Object.keys(packageJson.devDependencies),
  ]),
];

let scratch: string;
let unpacked: string;
let emulator: Emulator;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'cf-users-bundle-'));
  const bundle = join(scratch, 'cloudflare-users-mcp.mcpb');
  // The run's one build of src/ (test/helpers/build.ts, scripts/build.ts's esbuild output) stands in for the script's own build step.
  const dist = await compiledCli();
  const build = promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/bundle.ts', '--out', bundle, '--dist', dist], { cwd: PROJECT_ROOT }).catch(
    (error: { stdout?: string; stderr?: string; message: string }) => {
      // tsc reports on stdout: show it, not just "Command failed".
      throw new Error(`npm run bundle failed:\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
    },
  );
  const [, started] = await Promise.all([build, startTestEmulator()]);
  emulator = started;
  unpacked = join(scratch, 'unpacked');
  expect(await unpackExtension({ mcpbPath: bundle, outputDir: unpacked, silent: true })).toBe(true);
}, 120_000);

afterAll(async () => {
  await emulator?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Every package folder under node_modules (scoped ones as @scope/name), at any depth. */
function installedPackages(root: string): string[] {
  const found: string[] = [];
  const visit = (modules: string) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      const names = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((name) => `${entry}/${name}`) : [entry];
      for (const name of names) {
        found.push(name);
        visit(join(modules, name, 'node_modules'));
      }
    }
  };
  visit(join(root, 'node_modules'));
  return found;
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? allFiles(join(dir, entry.name)) : [relative(unpacked, join(dir, entry.name)).split(sep).join('/')],
  );
}

/** The server as Claude Desktop would start it: mcp_config with the user's values substituted by mcpb itself. */
async function startBundled(userConfig: Record<string, string | boolean>) {
  const manifest = v0_3.McpbManifestSchema.parse(JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8')));
  const config = await getMcpConfigForManifest({ manifest, extensionPath: unpacked, systemDirs: {}, userConfig, pathSeparator: sep });
  if (!config) throw new Error('mcpb produced no mcp_config');
  const env = config.env ?? {};
  // Every placeholder resolved: an unset option must not reach the server as literal "${user_config.…}".
  expect(JSON.stringify([config.args, env])).not.toContain('${');
  expect(config.command).toBe('node');
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: config.args ?? [],
    // The emulator's URL is the test's only addition; cwd outside the repo, so nothing resolves from its node_modules.
    env: cleanEnv({ ...env, CLOUDFLARE_BASE_URL: emulator.baseUrl }),
    cwd: scratch,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'bundle-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, env, stderr: () => stderr };
}

describe('the .mcpb bundle', () => {
  it('holds only what runs: the bundled dist/ (every package inside it), manifest, icon, package.json; no node_modules, dev dependency, test or source', () => {
    const top = readdirSync(unpacked).sort();
    expect(top).toEqual(['dist', 'icon.png', 'manifest.json', 'package.json']);
    expect(existsSync(join(unpacked, 'dist/index.js'))).toBe(true);
    expect(readFileSync(join(unpacked, 'icon.png'))).toEqual(readFileSync(join(PROJECT_ROOT, 'icon.png')));
    // scripts/build.ts bundles the production packages into dist/: nothing is installed next to it.
    const packages = installedPackages(unpacked);
    expect(packages).toEqual([]);
    for (const name of DEV_ONLY) expect(packages, `${name} is a dev dependency`).not.toContain(name);
    const files = allFiles(unpacked);
    expect(files.filter((file) => /\.test\.|(^|\/)test\/|\.ts$|\.map$/.test(file) && !file.startsWith('node_modules/'))).toEqual([]);
    const runtime = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(runtime).toMatchObject({ type: 'module' });
    expect(runtime).not.toHaveProperty('devDependencies');
    expect(runtime).not.toHaveProperty('dependencies');
    expect(runtime).not.toHaveProperty('scripts');
  });

  it('starts from the unpacked bundle with user_config values (token, account, read-only) mapped to the env the server reads', async () => {
    const { client, env, stderr } = await startBundled({ api_token: TEST_TOKEN, account_id: emulator.accountId, read_only: true });
    try {
      expect(env).toMatchObject({ CLOUDFLARE_API_TOKEN: TEST_TOKEN, CLOUDFLARE_ACCOUNT_ID: emulator.accountId, CLOUDFLARE_READ_ONLY: 'true' });
      // read_only → only the read tools.
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(allTools.filter((tool) => tool.annotations.readOnlyHint).map((tool) => tool.name));
      // The default account and the token arrived: a Zero Trust call with no account_id succeeds.
      const result = (await client.callTool({ name: 'list_access_users', arguments: { email: 'alice@corp.example' } })) as CallToolResult;
      expect(result.isError, textOf(result)).toBeFalsy();
      expect(textOf(result)).toContain('alice@corp.example');
      // The icon rides in the initialize result.
      expect(client.getServerVersion()?.icons).toEqual([SERVER_ICON]);
    } finally {
      await client.close();
    }
    expect(stderr()).not.toContain(TEST_TOKEN);
  });

  it('with only a token set, the optional values default to empty (not literal placeholders) and every tool is served', async () => {
    const { client, env } = await startBundled({ api_token: TEST_TOKEN });
    try {
      expect(env).toMatchObject({ CLOUDFLARE_ACCOUNT_ID: '', CLOUDFLARE_EMAIL: '', CLOUDFLARE_API_KEY: '', CLOUDFLARE_READ_ONLY: 'false' });
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(allTools.map((tool) => tool.name));
      const result = (await client.callTool({ name: 'list_access_users', arguments: {} })) as CallToolResult;
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/CLOUDFLARE_ACCOUNT_ID/);
    } finally {
      await client.close();
    }
  });
});
