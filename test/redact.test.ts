import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { redact, redactText, registerSecret } from '../src/redact.js';

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

  it('is applied by the logger to every line', () => {
    const lines: string[] = [];
    const logger = createLogger((line) => lines.push(line));
    logger.info('calling with secret-value-0123456789', { authorization: 'Bearer secret-value-0123456789' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('secret-value-0123456789');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info' });
  });
});
