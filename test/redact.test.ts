import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { MAX_SECRETS_PER_REDACTOR, patternRedactor, Redactor } from '../src/redact.js';

const redactor = new Redactor(['secret-value-0123456789']);
const redactText = (text: string) => redactor.text(text);
const redact = <T>(value: T) => redactor.value(value);
const mayNeedRedaction = (json: string) => redactor.mayNeed(json);

describe('redaction', () => {
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

  it('redacts at any depth: a secret value and a password key at depth 9 and at depth 1,000', () => {
    for (const depth of [9, 1_000]) {
      let nested: Record<string, unknown> = { password: 'hunter2-plain', note: 'has secret-value-0123456789 inside' };
      for (let i = 0; i < depth; i++) nested = { level: i, child: nested };
      const text = JSON.stringify(redact(nested));
      expect(text, `depth ${depth}`).not.toContain('hunter2-plain');
      expect(text, `depth ${depth}`).not.toContain('secret-value-0123456789');
      expect(text.match(/\[REDACTED\]/g)).toHaveLength(2);
    }
  });

  it('turns a cycle into "[Circular]" instead of looping', () => {
    const looped: Record<string, unknown> = { id: 'x' };
    looped.self = looped;
    expect(redact(looped)).toEqual({ id: 'x', self: '[Circular]' });
  });

  it('keeps secrets per instance: one redactor\'s secrets are unknown to another, and a child adds without changing its parent', () => {
    const serverA = new Redactor(['token-of-session-A-123']);
    const serverB = new Redactor(['token-of-session-B-456']);
    expect(serverA.text('token-of-session-B-456')).toBe('token-of-session-B-456');
    const call = serverA.with(['per-call-token-789xyz']);
    expect(call.text('token-of-session-A-123 per-call-token-789xyz')).toBe('[REDACTED] [REDACTED]');
    expect(serverA.text('per-call-token-789xyz')).toBe('per-call-token-789xyz');
    expect(serverB.text('token-of-session-B-456')).toBe('[REDACTED]');
    expect(patternRedactor.text('token-of-session-A-123')).toBe('token-of-session-A-123');
  });

  it('is bounded: one redactor holds at most a few secrets; short values are not secrets', () => {
    const many = Array.from({ length: MAX_SECRETS_PER_REDACTOR + 1 }, (_, i) => `secret-number-${i}-abcdef`);
    expect(() => new Redactor(many)).toThrow(RangeError);
    expect(new Redactor(['short']).text('short words')).toBe('short words');
  });

  it('is applied by the logger to every line', () => {
    const lines: string[] = [];
    const logger = createLogger((line) => lines.push(line), 'info', { redactor });
    logger.info('calling with secret-value-0123456789', { authorization: 'Bearer secret-value-0123456789' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('secret-value-0123456789');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info' });
  });
});

describe('redaction edge cases', () => {
  it('a secret that begins another does not leave the longer one\'s tail', () => {
    expect(new Redactor(['abcdefgh', 'abcdefghijklmnop']).text('key=abcdefghijklmnop')).toBe('key=[REDACTED]');
    expect(new Redactor(['abcdefgh']).with(['abcdefghijklmnop']).text('key=abcdefghijklmnop x abcdefgh')).toBe('key=[REDACTED] x [REDACTED]');
  });

  it('an object shared by two fields is copied for each; only a real cycle becomes "[Circular]"', () => {
    const shared = { a: 1 };
    expect(new Redactor().value({ x: shared, y: shared })).toEqual({ x: { a: 1 }, y: { a: 1 } });
  });
});
