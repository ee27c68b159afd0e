/** The fan-out and resolution settings: flags, environment, defaults and their limits. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, USAGE } from '../src/node/config.js';

describe('--max-concurrency / CLOUDFLARE_MAX_CONCURRENCY and --resolve-cache-seconds', () => {
  it('default to 4 and 60, and are in the usage', () => {
    expect(loadConfig([], {})).toMatchObject({ maxConcurrency: 4, resolveCacheSeconds: 60 });
    expect(USAGE).toContain('--max-concurrency <n>');
    expect(USAGE).toContain('CLOUDFLARE_MAX_CONCURRENCY');
    expect(USAGE).toContain('--resolve-cache-seconds <n>');
  });

  it('read the variable, and the flag wins over it; an empty variable is unset', () => {
    expect(loadConfig([], { CLOUDFLARE_MAX_CONCURRENCY: '8' }).maxConcurrency).toBe(8);
    expect(loadConfig(['--max-concurrency', '2'], { CLOUDFLARE_MAX_CONCURRENCY: '8' }).maxConcurrency).toBe(2);
    expect(loadConfig([], { CLOUDFLARE_MAX_CONCURRENCY: '' }).maxConcurrency).toBe(4);
    expect(loadConfig(['--resolve-cache-seconds', '0'], {}).resolveCacheSeconds).toBe(0);
  });

  it.each([
    [['--max-concurrency', '0'], {}, /--max-concurrency must be a whole number from 1 to 32/],
    [[], { CLOUDFLARE_MAX_CONCURRENCY: 'lots' }, /CLOUDFLARE_MAX_CONCURRENCY must be a whole number from 1 to 32/],
    [['--resolve-cache-seconds', '7200'], {}, /--resolve-cache-seconds must be a whole number from 0 to 3600/],
  ] as const)('refuses %j %j, naming the setting and the rule', (argv, env, message) => {
    expect(() => loadConfig(argv, env)).toThrow(ConfigError);
    expect(() => loadConfig(argv, env)).toThrow(message);
  });
});
