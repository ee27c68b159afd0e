import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { mayNeedRedaction, redact, redactText, registerSecret } from '../src/redact.js';

describe('redaction', () => {
  registerSecret('secret-value-0123456789');

  it('removes registered secret values from text', () => {
    expect(redactText('token=secret-value-0123456789!')).toBe('token=[REDACTED]!');
  });

  it('masks bearer and auth header shapes even for unknown values', () => {
    expect(redactText('Authorization: Bearer abc.def-ghi')).not.toContain('abc.def-ghi');
    expect(redactText('{"x-auth-key":"zzzz9999zzzz"}')).not.toContain('zzzz9999zzzz');
  });

  it('masks secret-named keys deeply and keeps the rest', () => {
    const out = redact({ headers: { Authorization: 'Bearer x', 'X-Auth-Key': 'k' }, user: { email: 'a@b.example' }, list: ['secret-value-0123456789'] });
    expect(out).toEqual({ headers: { Authorization: '[REDACTED]', 'X-Auth-Key': '[REDACTED]' }, user: { email: 'a@b.example' }, list: ['[REDACTED]'] });
  });

  it('mayNeedRedaction spots anything redact would change, and passes ordinary results', () => {
    expect(mayNeedRedaction(JSON.stringify({ id: 'x', email: 'a@b.example', name: 'Token Smith' }))).toBe(false);
    expect(mayNeedRedaction(JSON.stringify({ note: 'secret-value-0123456789' }))).toBe(true);
    expect(mayNeedRedaction(JSON.stringify({ Password: 'x' }))).toBe(true);
    expect(mayNeedRedaction(JSON.stringify({ nested: { api_token: 'x' } }))).toBe(true);
    expect(mayNeedRedaction(JSON.stringify({ msg: 'Authorization: Bearer abcdef' }))).toBe(true);
    // Whenever it says no, redact really changes nothing.
    for (const value of [{ a: 1 }, { list: ['x', { y: 'z' }] }, { text: 'tokens are fine as words' }]) {
      if (!mayNeedRedaction(JSON.stringify(value))) expect(redact(value)).toEqual(value);
    }
  });

  it('keeps a "__proto__" key as a key', () => {
    const parsed = JSON.parse('{"__proto__":{"isAdmin":true},"id":"1"}') as Record<string, unknown>;
    const copy = redact(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'id']);
    expect((copy as { isAdmin?: unknown }).isAdmin).toBeUndefined();
  });

  it('is applied by the logger to every line', () => {
    const lines: string[] = [];
    const logger = createLogger((line) => lines.push(line));
    logger.info('calling with secret-value-0123456789', { authorization: 'Bearer secret-value-0123456789' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('secret-value-0123456789');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info' });
  });
});
