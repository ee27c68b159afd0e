/**
 * The --http settings as the CLI reads them (src/node/config.ts): every limit
 * has a flag and a default; binding beyond loopback needs endpoint auth; the
 * bearer file, Access and Host/Origin settings are checked at startup.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/node/config.js';

const dir = mkdtempSync(join(tmpdir(), 'cf-users-http-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const BEARER = 'b3f1c2d4e5a6978899aabbccddeeff00';

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const http = (argv: string[], env: Record<string, string> = {}) => loadConfig(['--http', ...argv], env).http;

describe('HTTP limits: a flag and a default each', () => {
  it('defaults to 1 MiB bodies, 30 min idle sessions, 1000 sessions, stateful, no extra names, no auth', () => {
    expect(http([])).toEqual({
      bearer: undefined,
      access: undefined,
      allowedHosts: [],
      allowedOrigins: [],
      maxBodyBytes: 1_048_576,
      sessionIdleMs: 1_800_000,
      maxSessions: 1_000,
      stateless: false,
    });
  });

  it('reads --max-body-bytes, --session-idle-seconds, --max-sessions and --stateless, refusing values out of range', () => {
    expect(http(['--max-body-bytes', '4096', '--session-idle-seconds', '60', '--max-sessions', '5', '--stateless'])).toMatchObject({
      maxBodyBytes: 4096,
      sessionIdleMs: 60_000,
      maxSessions: 5,
      stateless: true,
    });
    for (const [flag, value] of [
      ['--max-body-bytes', '10'],
      ['--max-body-bytes', '1.5'],
      ['--session-idle-seconds', '0'],
      ['--max-sessions', '0'],
      ['--max-sessions', 'many'],
    ]) {
      expect(() => http([flag!, value!]), `${flag} ${value}`).toThrow(new RegExp(flag!));
    }
  });
});

describe('binding beyond loopback requires endpoint auth', () => {
  it('refuses --host 0.0.0.0, :: or a LAN address without it, naming MCP_HTTP_BEARER and the Access options', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'mcp.example.com']) {
      let error: unknown;
      try {
        http(['--host', host]);
      } catch (caught) {
        error = caught;
      }
      expect(error, host).toBeInstanceOf(ConfigError);
      expect(String(error)).toMatch(/MCP_HTTP_BEARER/);
      expect(String(error)).toMatch(/--bearer-file/);
      expect(String(error)).toMatch(/--access-team-domain.*--access-aud/);
    }
  });

  it('accepts it with a bearer (env or file) or Cloudflare Access, and loopback names without', () => {
    expect(http(['--host', '0.0.0.0'], { MCP_HTTP_BEARER: BEARER }).bearer).toBe(BEARER);
    expect(http(['--host', '0.0.0.0', '--bearer-file', file('bearer', `${BEARER}\n`)]).bearer).toBe(BEARER);
    const access = http(['--host', '0.0.0.0'], { CLOUDFLARE_ACCESS_TEAM_DOMAIN: 'acme.cloudflareaccess.com', CLOUDFLARE_ACCESS_AUD: 'aud-tag' }).access;
    expect(access).toEqual({ teamDomain: 'https://acme.cloudflareaccess.com', audience: 'aud-tag' });
    expect(http(['--host', '::', '--access-team-domain', 'https://acme.cloudflareaccess.com', '--access-aud', 'x']).access?.audience).toBe('x');
    for (const host of ['127.0.0.1', '127.9.9.9', 'localhost', '::1']) expect(http(['--host', host]).bearer).toBeUndefined();
    // stdio ignores --host.
    expect(loadConfig(['--host', '0.0.0.0'], {}).transport).toBe('stdio');
  });
});

describe('--bearer-file and MCP_HTTP_BEARER', () => {
  it('ignores one trailing newline, lets the file win over the env, and refuses empty, short, spaced or missing ones', () => {
    expect(http(['--bearer-file', file('crlf', `${BEARER}\r\n`)]).bearer).toBe(BEARER);
    expect(http(['--bearer-file', file('plain', BEARER)], { MCP_HTTP_BEARER: 'env-bearer-0123456789abcdef' }).bearer).toBe(BEARER);
    expect(() => http(['--bearer-file', file('empty', '')])).toThrow(/is empty/);
    expect(() => http(['--bearer-file', file('short', 'short\n')])).toThrow(/at least 16/);
    expect(() => http([], { MCP_HTTP_BEARER: 'has a space in it, 16+ chars' })).toThrow(/without spaces/);
    const missing = join(dir, 'missing');
    expect(() => http(['--bearer-file', missing])).toThrow(/cannot read .*missing \(ENOENT\)/);
  });

  it('never puts the bearer in an error message', () => {
    const secret = 'short secret';
    expect(() => http([], { MCP_HTTP_BEARER: secret })).toThrow(ConfigError);
    try {
      http([], { MCP_HTTP_BEARER: secret });
    } catch (error) {
      expect(String(error)).not.toContain(secret);
    }
  });
});

describe('Access, Host and Origin settings', () => {
  it('refuses an Access team domain over plain http (beyond loopback) or half of the pair', () => {
    expect(() => http(['--access-team-domain', 'http://acme.cloudflareaccess.com', '--access-aud', 'x'])).toThrow(/https/);
    expect(() => http(['--access-aud', 'x'])).toThrow(/both/);
    expect(http(['--access-team-domain', 'http://127.0.0.1:9999', '--access-aud', 'x']).access?.teamDomain).toBe('http://127.0.0.1:9999');
  });

  it('reads --allowed-hosts and --allowed-origins (or MCP_ALLOWED_HOSTS, MCP_ALLOWED_ORIGINS) and refuses malformed entries', () => {
    expect(http(['--allowed-hosts', 'MCP.example.com, lan.example:9443,[::1]:8787', '--allowed-origins', 'https://app.example'])).toMatchObject({
      allowedHosts: ['mcp.example.com', 'lan.example:9443', '[::1]:8787'],
      allowedOrigins: ['https://app.example'],
    });
    expect(http([], { MCP_ALLOWED_HOSTS: 'a.example', MCP_ALLOWED_ORIGINS: 'https://b.example' })).toMatchObject({ allowedHosts: ['a.example'], allowedOrigins: ['https://b.example'] });
    expect(() => http(['--allowed-hosts', 'https://mcp.example.com'])).toThrow(/--allowed-hosts/);
    expect(() => http(['--allowed-origins', 'https://app.example/path'])).toThrow(/--allowed-origins/);
    expect(() => http(['--allowed-origins', 'app.example'])).toThrow(/--allowed-origins/);
  });
});
