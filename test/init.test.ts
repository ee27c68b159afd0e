/**
 * `cloudflare-users-mcp init`: merging into each client's config file, backups, refusing malformed files
 * (nothing overwritten), and never writing the token where the client can supply it. In process for the
 * many cases, spawned for the exit codes and streams.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../src/node/commands.js';
import { defaultConfigPath, InitFileError, INIT_CLIENTS, runInit, type InitClient, type InitHost, type InitOptions } from '../src/node/init.js';
import { TEST_TOKEN } from './helpers/harness.js';
import { compiledEntry } from './helpers/build.js';
import { cleanEnv, spawnServer } from './helpers/spawn.js';

const scratch = mkdtempSync(join(tmpdir(), 'cf-users-init-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
function tempDir(): string {
  const dir = join(scratch, String(counter++));
  mkdirSync(dir);
  return dir;
}

/** The token is in this shell's environment: init must still not copy it anywhere unless asked. */
const host = (cwd: string, env: Record<string, string | undefined> = { CLOUDFLARE_API_TOKEN: TEST_TOKEN }): InitHost => ({
  env,
  platform: process.platform,
  homedir: join(cwd, 'home'),
  cwd,
});

/** init's options from a command line, through the same parser the CLI uses. */
function options(...argv: string[]): InitOptions {
  const parsed = parseCommand(['init', ...argv]);
  if (parsed?.command !== 'init') throw new Error(`not an init command: ${argv.join(' ')}`);
  return parsed.options;
}

type Json = Record<string, unknown>;
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Json;
const serverIn = (document: Json, key: 'mcpServers' | 'servers', name = 'cloudflare-users') => (document[key] as Record<string, Json>)[name]!;

describe('init writes each client a config that starts the server without a plain-text token', () => {
  it.each(INIT_CLIENTS)('%s: a new file, npx launch, token by reference (or empty for Claude Desktop)', (client: InitClient) => {
    const cwd = tempDir();
    const report = runInit(options('--client', client), host(cwd));
    expect(report.outcome).toBe('created');
    expect(report.backupPath).toBeUndefined();
    expect(report.path).toBe(defaultConfigPath(client, false, host(cwd)));
    const text = readFileSync(report.path, 'utf8');
    expect(text).not.toContain(TEST_TOKEN);
    const document = readJson(report.path);
    const entry = serverIn(document, client === 'vscode' ? 'servers' : 'mcpServers');
    expect(entry).toMatchObject({ command: 'npx', args: ['-y', 'cloudflare-users-mcp'] });
    const env = entry.env as Record<string, string>;
    expect(Object.keys(env).sort()).toEqual(['CLOUDFLARE_ACCOUNT_ID', 'CLOUDFLARE_API_TOKEN']);
    switch (client) {
      case 'vscode': {
        expect(entry.type).toBe('stdio');
        expect(env.CLOUDFLARE_API_TOKEN).toBe('${input:cloudflare-api-token}');
        const inputs = document.inputs as Json[];
        expect(inputs).toContainEqual({ type: 'promptString', id: 'cloudflare-api-token', description: 'Cloudflare API token', password: true });
        expect(inputs.map((input) => input.id)).toContain('cloudflare-account-id');
        break;
      }
      case 'cursor':
        expect(env).toEqual({ CLOUDFLARE_API_TOKEN: '${env:CLOUDFLARE_API_TOKEN}', CLOUDFLARE_ACCOUNT_ID: '${env:CLOUDFLARE_ACCOUNT_ID}' });
        break;
      case 'claude-code':
        expect(entry.type).toBe('stdio');
        expect(env).toEqual({ CLOUDFLARE_API_TOKEN: '${CLOUDFLARE_API_TOKEN:-}', CLOUDFLARE_ACCOUNT_ID: '${CLOUDFLARE_ACCOUNT_ID:-}' });
        expect(report.notes.join('\n')).toMatch(/claude mcp add --scope project cloudflare-users/);
        break;
      case 'claude-desktop':
        expect(env).toEqual({ CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_ACCOUNT_ID: '' });
        expect(report.notes.join('\n')).toMatch(/CLOUDFLARE_API_TOKEN is empty: open the file and paste your API token/);
        expect(report.notes.join('\n')).toMatch(/--token-from-env/);
        if (process.platform !== 'win32') expect(statSync(report.path).mode & 0o777).toBe(0o600);
        break;
    }
  });

  it('--read-only and --account-id are written as values; --name picks the entry', () => {
    const cwd = tempDir();
    const id = '0123456789abcdef0123456789abcdef';
    const report = runInit(options('--client', 'cursor', '--read-only', '--account-id', id, '--name', 'cf-admin'), host(cwd));
    expect(serverIn(readJson(report.path), 'mcpServers', 'cf-admin').env).toEqual({
      CLOUDFLARE_API_TOKEN: '${env:CLOUDFLARE_API_TOKEN}',
      CLOUDFLARE_ACCOUNT_ID: id,
      CLOUDFLARE_READ_ONLY: 'true',
    });
  });

  it('claude-desktop --token-from-env copies the token only when asked, into a file only this user can read', () => {
    const cwd = tempDir();
    const path = join(cwd, 'claude_desktop_config.json');
    runInit(options('--client', 'claude-desktop', '--config', path, '--token-from-env'), host(cwd));
    expect(serverIn(readJson(path), 'mcpServers').env).toMatchObject({ CLOUDFLARE_API_TOKEN: TEST_TOKEN });
    if (process.platform !== 'win32') expect(statSync(path).mode & 0o077).toBe(0);
    // Run again without the flag: the token already there is kept, not blanked.
    const again = runInit(options('--client', 'claude-desktop', '--config', path), host(cwd));
    expect(again.outcome).toBe('unchanged');
    expect(serverIn(readJson(path), 'mcpServers').env).toMatchObject({ CLOUDFLARE_API_TOKEN: TEST_TOKEN });
    expect(() => runInit(options('--client', 'claude-desktop', '--config', join(cwd, 'x.json'), '--token-from-env'), host(cwd, {}))).toThrow(
      /CLOUDFLARE_API_TOKEN is not set/,
    );
  });

  it('refuses flags that do not fit: --token-from-env where a reference works, bad ids and names, unknown clients', () => {
    expect(() => options('--client', 'cursor', '--token-from-env')).toThrow(/claude-desktop only/);
    expect(() => options('--client', 'vscode', '--account-id', 'ABC')).toThrow(/32 lowercase hex/);
    expect(() => options('--client', 'vscode', '--name', '1 bad')).toThrow(/--name must start with a letter/);
    expect(() => options('--client', 'zed')).toThrow(/--client takes one of claude-desktop, claude-code, cursor, vscode/);
    expect(() => options()).toThrow(/init needs --client/);
    expect(() => options('--client', 'claude-code', '--global')).toThrow(/claude mcp add --scope user cloudflare-users/);
    expect(() => options('--client', 'cursor', '--sandbox')).toThrow(/Unknown option '--sandbox'.*Valid flags: --client <value>/s);
  });
});

describe('init merges: other servers and keys stay, the old file is backed up, a broken file is left alone', () => {
  it('keeps every other server and key in order, replaces its own entry, backs up each change without overwriting a backup', () => {
    const cwd = tempDir();
    const path = join(cwd, 'mcp.json');
    const original = { mcpServers: { github: { command: 'gh-mcp', env: { GITHUB_TOKEN: 'x' } }, 'cloudflare-users': { command: 'old' }, zzz: { url: 'http://h/mcp' } }, theme: 'dark' };
    const originalText = `${JSON.stringify(original, null, 4)}\n`;
    writeFileSync(path, originalText);

    const first = runInit(options('--client', 'cursor', '--config', path), host(cwd, {}));
    expect(first.outcome).toBe('updated');
    expect(first.backupPath).toBe(`${path}.bak`);
    expect(readFileSync(`${path}.bak`, 'utf8')).toBe(originalText);
    expect(first.notes[0]).toMatch(/Replaced the existing "cloudflare-users" entry/);
    const merged = readJson(path);
    expect(Object.keys(merged)).toEqual(['mcpServers', 'theme']);
    expect(Object.keys(merged.mcpServers as Json)).toEqual(['github', 'cloudflare-users', 'zzz']);
    expect((merged.mcpServers as Json).github).toEqual(original.mcpServers.github);
    expect(serverIn(merged, 'mcpServers').command).toBe('npx');

    // Same flags again: nothing to do, nothing written, no backup.
    const unchanged = runInit(options('--client', 'cursor', '--config', path), host(cwd, {}));
    expect(unchanged).toMatchObject({ outcome: 'unchanged', backupPath: undefined });
    // A change: the first backup stays, the next goes beside it.
    const second = runInit(options('--client', 'cursor', '--config', path, '--read-only'), host(cwd, {}));
    expect(second.backupPath).toBe(`${path}.bak.1`);
    expect(readFileSync(`${path}.bak`, 'utf8')).toBe(originalText);
    expect(readdirSync(cwd).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('a rerun without --read-only keeps the read-only (and other settings) of the existing entry', () => {
    const cwd = tempDir();
    const path = join(cwd, 'mcp.json');
    runInit(options('--client', 'cursor', '--config', path, '--read-only'), host(cwd, {}));
    const withFilter = readJson(path);
    (serverIn(withFilter, 'mcpServers').env as Json).CLOUDFLARE_TOOLSETS = 'users';
    writeFileSync(path, JSON.stringify(withFilter));
    const rerun = runInit(options('--client', 'cursor', '--config', path), host(cwd, {}));
    expect(serverIn(readJson(path), 'mcpServers').env).toMatchObject({ CLOUDFLARE_READ_ONLY: 'true', CLOUDFLARE_TOOLSETS: 'users' });
    expect(rerun.notes.join(' ')).toMatch(/Kept from the existing entry: CLOUDFLARE_READ_ONLY, CLOUDFLARE_TOOLSETS/);
  });

  it('VS Code: other inputs and servers stay; its own inputs are replaced in place, not duplicated', () => {
    const cwd = tempDir();
    const path = join(cwd, 'mcp.json');
    const existing = {
      inputs: [{ type: 'promptString', id: 'gh-token', description: 'GitHub', password: true }, { type: 'promptString', id: 'cloudflare-api-token', description: 'old', password: false }],
      servers: { github: { type: 'http', url: 'https://api.githubcopilot.com/mcp/' } },
    };
    writeFileSync(path, JSON.stringify(existing));
    runInit(options('--client', 'vscode', '--config', path, '--account-id', '0123456789abcdef0123456789abcdef'), host(cwd));
    const merged = readJson(path);
    expect((merged.inputs as Json[]).map((input) => input.id)).toEqual(['gh-token', 'cloudflare-api-token']);
    expect((merged.inputs as Json[])[1]).toMatchObject({ password: true });
    expect(Object.keys(merged.servers as Json)).toEqual(['github', 'cloudflare-users']);
  });

  it.each([
    ['not JSON', '{"mcpServers": {', /is not valid JSON .*Nothing was changed/],
    ['JSON with comments', '{\n  // mine\n  "mcpServers": {}\n}', /is not valid JSON .*comments/],
    ['not an object', '[1, 2]', /not an object at the top level/],
    ['servers not an object', '{"mcpServers": []}', /"mcpServers" is not an object/],
  ])('a file that is %s: InitFileError, file untouched, no backup', (_what, content, message) => {
    const cwd = tempDir();
    const path = join(cwd, 'claude_desktop_config.json');
    writeFileSync(path, content);
    expect(() => runInit(options('--client', 'claude-desktop', '--config', path), host(cwd))).toThrow(InitFileError);
    expect(() => runInit(options('--client', 'claude-desktop', '--config', path), host(cwd))).toThrow(message);
    expect(readFileSync(path, 'utf8')).toBe(content);
    expect(readdirSync(cwd)).toEqual(['claude_desktop_config.json']);
  });

  it('a blank file counts as empty', () => {
    const cwd = tempDir();
    const path = join(cwd, 'mcp.json');
    writeFileSync(path, '\n');
    expect(runInit(options('--client', 'cursor', '--config', path), host(cwd, {})).outcome).toBe('updated');
    expect(serverIn(readJson(path), 'mcpServers').command).toBe('npx');
  });
});

describe('where each client keeps its config', () => {
  const at = (platform: NodeJS.Platform, env: Record<string, string> = {}): InitHost => ({
    env,
    platform,
    homedir: platform === 'win32' ? 'C:\\Users\\ann' : platform === 'darwin' ? '/Users/ann' : '/home/ann',
    cwd: platform === 'win32' ? 'C:\\work\\proj' : '/work/proj',
  });

  it('Claude Desktop and VS Code (user) by OS; Cursor, VS Code and Claude Code projects under the working folder', () => {
    expect(defaultConfigPath('claude-desktop', false, at('darwin'))).toBe('/Users/ann/Library/Application Support/Claude/claude_desktop_config.json');
    expect(defaultConfigPath('claude-desktop', false, at('win32', { APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }))).toBe(
      'C:\\Users\\ann\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
    );
    expect(defaultConfigPath('claude-desktop', false, at('linux'))).toBe('/home/ann/.config/Claude/claude_desktop_config.json');
    expect(defaultConfigPath('claude-desktop', false, at('linux', { XDG_CONFIG_HOME: '/xdg' }))).toBe('/xdg/Claude/claude_desktop_config.json');
    expect(defaultConfigPath('vscode', true, at('darwin'))).toBe('/Users/ann/Library/Application Support/Code/User/mcp.json');
    expect(defaultConfigPath('vscode', true, at('win32', { APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }))).toBe('C:\\Users\\ann\\AppData\\Roaming\\Code\\User\\mcp.json');
    expect(defaultConfigPath('vscode', true, at('linux'))).toBe('/home/ann/.config/Code/User/mcp.json');
    expect(defaultConfigPath('vscode', false, at('linux'))).toBe('/work/proj/.vscode/mcp.json');
    expect(defaultConfigPath('cursor', true, at('win32'))).toBe('C:\\Users\\ann\\.cursor\\mcp.json');
    expect(defaultConfigPath('cursor', false, at('darwin'))).toBe('/work/proj/.cursor/mcp.json');
    expect(defaultConfigPath('claude-code', false, at('linux'))).toBe('/work/proj/.mcp.json');
  });
});

describe('init as a command (spawned)', () => {
  async function init(args: string[], env: Record<string, string> = cleanEnv()) {
    const run = spawnServer([...(await compiledEntry()), 'init', ...args], env);
    const code = await run.exited;
    return { code, stdout: run.stdout(), stderr: run.stderr() };
  }

  it('writes and says so; a malformed file exits 1 with the reason and stays as it was; a usage error exits 2', { timeout: 120_000 }, async () => {
    const cwd = tempDir();
    const good = join(cwd, 'good', 'claude_desktop_config.json');
    const bad = join(cwd, 'bad.json');
    writeFileSync(bad, '{"mcpServers": {"keep": ');
    const [written, broken, usage] = await Promise.all([
      init(['--client', 'claude-desktop', '--config', good, '--read-only'], cleanEnv({ CLOUDFLARE_API_TOKEN: TEST_TOKEN })),
      init(['--config', bad, '--client', 'cursor']),
      init(['--client', 'emacs']),
    ]);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toBe(`${good}\n`);
    expect(written.stderr).toMatch(/^cloudflare-users-mcp init: Created /);
    expect(written.stderr).toMatch(/CLOUDFLARE_API_TOKEN is empty/);
    expect(readFileSync(good, 'utf8')).not.toContain(TEST_TOKEN);
    expect(serverIn(readJson(good), 'mcpServers').env).toMatchObject({ CLOUDFLARE_READ_ONLY: 'true' });

    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toMatch(/bad\.json is not valid JSON .*Nothing was changed/);
    expect(readFileSync(bad, 'utf8')).toBe('{"mcpServers": {"keep": ');
    expect(existsSync(`${bad}.bak`)).toBe(false);

    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Unknown client "emacs"; --client takes one of claude-desktop, claude-code, cursor, vscode/);
  });
});
