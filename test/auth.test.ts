import { describe, expect, it } from 'vitest';
import { resolveAuth, TOKEN_PAGE_URL } from '../src/cloudflare/auth.js';

describe('resolveAuth', () => {
  it('uses an API token as a bearer header', () => {
    const auth = resolveAuth({ CLOUDFLARE_API_TOKEN: 'tok-1234567890' });
    expect(auth).toEqual({ kind: 'api_token', headers: { authorization: 'Bearer tok-1234567890' }, secrets: ['tok-1234567890'], warnings: [] });
  });

  it('uses email + global key when no token is set', () => {
    const auth = resolveAuth({ CLOUDFLARE_EMAIL: 'a@b.example', CLOUDFLARE_API_KEY: 'key-1234567890' });
    expect(auth).toEqual({ kind: 'global_key', headers: { 'x-auth-email': 'a@b.example', 'x-auth-key': 'key-1234567890' }, secrets: ['key-1234567890'], warnings: [] });
  });

  it('prefers the token when both are set, and says so', () => {
    const auth = resolveAuth({ CLOUDFLARE_API_TOKEN: 'tok-1234567890', CLOUDFLARE_EMAIL: 'a@b.example', CLOUDFLARE_API_KEY: 'key-1234567890' });
    expect(auth.kind).toBe('api_token');
    expect(auth.warnings).toHaveLength(1);
    expect(auth.warnings[0]).toMatch(/using the API token/);
    expect(auth.warnings[0]).not.toContain('tok-1234567890');
  });

  it('treats empty and blank values as unset (bundle hosts pass "")', () => {
    const auth = resolveAuth({ CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_EMAIL: '  ', CLOUDFLARE_API_KEY: '' });
    expect(auth.kind).toBe('none');
    const withKey = resolveAuth({ CLOUDFLARE_API_TOKEN: ' ', CLOUDFLARE_EMAIL: 'a@b.example', CLOUDFLARE_API_KEY: 'key-1234567890' });
    expect(withKey.kind).toBe('global_key');
  });

  it('explains what to set when nothing is configured', () => {
    const auth = resolveAuth({});
    expect(auth.kind).toBe('none');
    if (auth.kind !== 'none') throw new Error('unreachable');
    expect(auth.message).toContain('CLOUDFLARE_API_TOKEN');
    expect(auth.message).toContain('CLOUDFLARE_EMAIL');
    expect(auth.message).toContain(TOKEN_PAGE_URL);
  });

  it('names the missing half of email + key', () => {
    const auth = resolveAuth({ CLOUDFLARE_EMAIL: 'a@b.example' });
    expect(auth.kind === 'none' && auth.message).toMatch(/CLOUDFLARE_API_KEY is missing/);
  });
});
