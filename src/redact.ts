/**
 * The one place secrets are scrubbed. Every log line and every error text a
 * client can see passes through `redact`, so a token can only leak if it is
 * written somewhere that bypasses both the logger and the error mapper.
 *
 * Portable: no Node APIs (also runs on Cloudflare Workers).
 */

const SECRET_KEY_PATTERN = /^(authorization|x-auth-key|x-auth-email|api[-_]?key|api[-_]?token|token|secret|password|cookie|set-cookie)$/i;
// Header-shaped text inside free-form strings (e.g. an upstream error that echoes a request).
const BEARER_PATTERN = /(bearer\s+)[A-Za-z0-9._~+/=-]+/gi;
const AUTH_HEADER_PATTERN = /((?:authorization|x-auth-key)"?\s*[:=]\s*)("?)(?!bearer\b|\[REDACTED\])[^\s",}]+/gi;
const REDACTED = '[REDACTED]';
// SECRET_KEY_PATTERN as it appears as a key in JSON text.
const SECRET_KEY_IN_JSON = new RegExp(`"${SECRET_KEY_PATTERN.source.slice(1, -1)}":`, 'i');

/** Known secret values, registered as soon as they are read from config or a request. */
const knownSecrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  // Very short values would redact ordinary words; real tokens and keys are long.
  if (value && value.length >= 8) knownSecrets.add(value);
}

export function redactText(text: string): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out.replace(BEARER_PATTERN, `$1${REDACTED}`).replace(AUTH_HEADER_PATTERN, `$1$2${REDACTED}`);
}

/**
 * Whether JSON text may hold something `redact` would change: a known secret, a secret-named key, or a
 * header-shaped value. False means the text and the object it was serialised from can be used as they are,
 * which spares the deep copy on every ordinary result.
 */
export function mayNeedRedaction(json: string): boolean {
  for (const secret of knownSecrets) if (json.includes(secret)) return true;
  BEARER_PATTERN.lastIndex = 0;
  AUTH_HEADER_PATTERN.lastIndex = 0;
  return SECRET_KEY_IN_JSON.test(json) || BEARER_PATTERN.test(json) || AUTH_HEADER_PATTERN.test(json);
}

/** Deep copy with secret-named keys masked and secret values removed from strings. */
export function redact<T>(value: T): T {
  return redactValue(value, 0) as T;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  if (value instanceof Error) return redactText(value.message);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    // defineProperty, not assignment: a "__proto__" key (JSON.parse makes it an own property) must stay a
    // key, not become the copy's prototype.
    Object.defineProperty(out, key, {
      value: SECRET_KEY_PATTERN.test(key) ? REDACTED : redactValue(inner, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
