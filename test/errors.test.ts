import { describe, expect, it } from 'vitest';
import { CloudflareApiError } from '../src/cloudflare/errors.js';
import { describeApiError, type ErrorContext } from '../src/tools/errors.js';

const ctx: ErrorContext = {
  tool: 'get_access_user',
  permission: 'Access: Audit Logs Read',
  account_id: '023e105f4ecef8ad9ca31a8372d0c353',
  user_id: 'f174e90a-fafe-4643-bbbc-4a0ed4fc8415',
};

const apiError = (status: number, errors: { code: number; message: string }[] = [], extra: Partial<ConstructorParameters<typeof CloudflareApiError>[0]> = {}) =>
  new CloudflareApiError({ kind: 'api', method: 'GET', status, errors, attempts: 1, ...extra });

describe('describeApiError', () => {
  it.each([
    [403, 10000, 'Authentication error'],
    [403, 9109, 'Unauthorized to access requested resource'],
    [400, 9106, 'Missing X-Auth-Key, X-Auth-Email or Authorization headers'],
    [403, 9103, 'Unknown X-Auth-Key or X-Auth-Email'],
  ])('HTTP %i code %i: credentials/permission, naming the permission', (status, code, message) => {
    const text = describeApiError(apiError(status, [{ code, message }]), ctx);
    expect(text).toMatch(/rejected the credentials/);
    expect(text).toContain('Access: Audit Logs Read');
    expect(text).toContain(String(code));
    expect(text).toContain('https://dash.cloudflare.com/profile/api-tokens');
  });

  it.each([7003, 7000])('code %i: malformed account or user id, naming both', (code) => {
    const text = describeApiError(apiError(400, [{ code, message: 'Could not route to /accounts/x' }]), ctx);
    expect(text).toMatch(/malformed or unknown/);
    expect(text).toContain(ctx.account_id!);
    expect(text).toContain(ctx.user_id!);
  });

  it('404: says which id was not found and how to find the right one', () => {
    const user = describeApiError(apiError(404, [{ code: 12130, message: 'User not found' }]), ctx);
    expect(user).toMatch(/Not found \(user_id f174e90a-.*, account_id 023e105f.*\)\. Cloudflare said: 12130 User not found\. .*list_access_users/);
    expect(describeApiError(apiError(404), { ...ctx, nonce: 'X1aXj1lFVcqqyoXF' })).toMatch(/Not found \(nonce X1aXj1lFVcqqyoXF, user_id .*list_active_sessions/);
  });

  it('429: says how often it retried and when to try again', () => {
    const text = describeApiError(apiError(429, [{ code: 971, message: 'Please wait and consider throttling your request speed' }], { attempts: 4, retryAfterSeconds: 30 }), ctx);
    expect(text).toMatch(/rate limit/);
    expect(text).toMatch(/retried 3 times/);
    expect(text).toMatch(/after 30 s/);
  });

  it('5xx: transient, with the retry count', () => {
    expect(describeApiError(apiError(503, [], { attempts: 4 }), ctx)).toMatch(/HTTP 503, after 3 retries.*try again shortly/);
  });

  it('a broken POST warns the create may have happened', () => {
    const error = new CloudflareApiError({ kind: 'network', method: 'POST', attempts: 1, detail: 'ECONNRESET' });
    const text = describeApiError(error, { ...ctx, tool: 'create_access_user', email: 'new@corp.example' });
    expect(text).toMatch(/may or may not have happened/);
    expect(text).toContain('list_access_users (email: new@corp.example)');
  });

  it('bad responses and oversize bodies are described, not dumped', () => {
    const html = new CloudflareApiError({ kind: 'bad_response', method: 'GET', status: 200, attempts: 1, detail: 'an HTML page instead of JSON' });
    expect(describeApiError(html, ctx)).toMatch(/unexpected response \(HTTP 200: an HTML page/);
    const big = new CloudflareApiError({ kind: 'too_large', method: 'GET', status: 200, attempts: 1, detail: 'over 10 MB' });
    expect(describeApiError(big, ctx)).toMatch(/too large.*per_page/);
  });

  it('other 4xx: quotes Cloudflare', () => {
    const text = describeApiError(apiError(409, [{ code: 12130, message: 'A user with this email already exists' }]), ctx);
    expect(text).toMatch(/refused the request \(HTTP 409\).*12130 A user with this email already exists/);
  });
});

describe('a request that was never sent', () => {
  it.each(['POST', 'DELETE'])('%s cut off before its first attempt says nothing was sent, not "check first"', (method) => {
    const timeout = new CloudflareApiError({ kind: 'timeout', method, attempts: 0, detail: 'no answer within 60 s' });
    expect(describeApiError(timeout, { ...ctx, tool: 'offboard_access_users' })).toMatch(/^The call ran out of time before this request could be sent; nothing was sent to Cloudflare\./);
    const cancelled = new CloudflareApiError({ kind: 'cancelled', method, attempts: 0, detail: 'the call was cancelled' });
    const text = describeApiError(cancelled, { ...ctx, tool: 'offboard_access_users' });
    expect(text).toMatch(/Nothing was sent to Cloudflare\.$/);
    expect(text).not.toMatch(/may or may not|not confirmed/);
  });
});
