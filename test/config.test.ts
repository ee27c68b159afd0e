import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/node/config.js';

describe('loadConfig', () => {
  it('defaults to stdio with the public API base', () => {
    const config = loadConfig([], {});
    expect(config).toMatchObject({ transport: 'stdio', host: '127.0.0.1', port: 8787, sandbox: false, readOnly: false, baseUrl: 'https://api.cloudflare.com/client/v4' });
  });

  it('parses flags', () => {
    const config = loadConfig(['--http', '--port', '0', '--sandbox', '--read-only', '--max-response-chars', '5000'], {});
    expect(config).toMatchObject({ transport: 'http', port: 0, sandbox: true, readOnly: true, maxResponseChars: 5000 });
  });

  it('rejects unknown flags and bad numbers with the usage', () => {
    expect(() => loadConfig(['--nope'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--port', 'abc'], {})).toThrow(/--port must be a whole number/);
  });

  it.each(['..', '../../user', 'a/b', '%2e%2e', 'ABCDEF0123456789ABCDEF0123456789', '0'.repeat(33)])('rejects CLOUDFLARE_ACCOUNT_ID %j', (value) => {
    expect(() => loadConfig([], { CLOUDFLARE_ACCOUNT_ID: value })).toThrow(/CLOUDFLARE_ACCOUNT_ID must be 32 lowercase hex/);
  });

  it('treats an empty CLOUDFLARE_ACCOUNT_ID as unset and keeps a base URL path', () => {
    const config = loadConfig([], { CLOUDFLARE_ACCOUNT_ID: '', CLOUDFLARE_BASE_URL: 'http://127.0.0.1:9/client/v4' });
    expect(config.accountId).toBeUndefined();
    expect(config.baseUrl).toBe('http://127.0.0.1:9/client/v4');
  });

  it('reads CLOUDFLARE_READ_ONLY', () => {
    expect(loadConfig([], { CLOUDFLARE_READ_ONLY: 'true' }).readOnly).toBe(true);
  });

  it.each(['http://api.example.com/client/v4', 'http://10.0.0.5:8080', 'http://[fe80::1]/'])('refuses plain http to a host that is not loopback: %s', (url) => {
    expect(() => loadConfig([], { CLOUDFLARE_BASE_URL: url })).toThrow(/CLOUDFLARE_BASE_URL must use https/);
  });

  it.each(['http://127.0.0.1:9', 'http://127.8.9.10/x', 'http://localhost:8080', 'http://[::1]:9/', 'https://api.example.com'])('accepts %s', (url) => {
    expect(loadConfig([], { CLOUDFLARE_BASE_URL: url }).baseUrl).toBe(url);
  });

  it('every limit has a flag and a default: shutdown grace and stdio message size', () => {
    expect(loadConfig([], {})).toMatchObject({ shutdownGraceMs: 10_000, maxMessageBytes: 10 * 1024 * 1024, timeoutMs: 60_000 });
    const set = loadConfig(['--shutdown-grace-seconds', '0', '--max-message-bytes', '4096'], {});
    expect(set).toMatchObject({ shutdownGraceMs: 0, maxMessageBytes: 4096 });
    expect(() => loadConfig(['--shutdown-grace-seconds=-1'], {})).toThrow(/--shutdown-grace-seconds must be a whole number from 0 to 600/);
    expect(() => loadConfig(['--max-message-bytes', '10'], {})).toThrow(/--max-message-bytes must be a whole number from 1024/);
  });
});
