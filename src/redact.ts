/**
 * The one place secrets are scrubbed. Every log line and every text a client
 * can see passes through a Redactor, so a token can only leak if it is
 * written somewhere that bypasses both the logger and runTool.
 *
 * Known secret values live in Redactor instances, not in a process-wide set:
 * the wiring holds one with the server's own credentials, and each tool call
 * gets a child that adds the call's credentials (per-session ones on HTTP),
 * dropped when the call ends. Nothing grows with the number of sessions.
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
/** Very short values would redact ordinary words; real tokens and keys are long. */
const MIN_SECRET_LENGTH = 8;
/** Secrets one Redactor holds itself (a call adds at most a token, or an email and a key). */
export const MAX_SECRETS_PER_REDACTOR = 16;

export class Redactor {
  private readonly secrets: readonly string[];
  /** This one's and its parents' secrets, longest first: a secret that begins another must not leave its tail. */
  private readonly known: readonly string[];

  constructor(
    secrets: Iterable<string | undefined> = [],
    parent?: Redactor,
  ) {
    const own = new Set<string>();
    for (const value of secrets) {
      if (value && value.length >= MIN_SECRET_LENGTH && !parent?.knows(value)) own.add(value);
    }
    if (own.size > MAX_SECRETS_PER_REDACTOR) throw new RangeError(`a Redactor holds at most ${MAX_SECRETS_PER_REDACTOR} secrets`);
    this.secrets = [...own];
    this.known = [...own, ...(parent?.known ?? [])].sort((a, b) => b.length - a.length);
  }

  /** A redactor that also knows `secrets`; this one is unchanged (and returned as is when nothing is new). */
  with(secrets: Iterable<string | undefined>): Redactor {
    const values = [...secrets];
    if (values.every((value) => !value || value.length < MIN_SECRET_LENGTH || this.knows(value))) return this;
    return new Redactor(values, this);
  }

  private knows(value: string): boolean {
    return this.known.includes(value);
  }

  text(text: string): string {
    let out = text;
    for (const secret of this.known) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out.replace(BEARER_PATTERN, `$1${REDACTED}`).replace(AUTH_HEADER_PATTERN, `$1$2${REDACTED}`);
  }

  /**
   * Whether JSON text may hold something `value` would change: a known secret, a secret-named key, or a
   * header-shaped value. False means the text and the object it was serialised from can be used as they
   * are, which spares the deep copy on every ordinary result.
   */
  mayNeed(json: string): boolean {
    for (const secret of this.known) if (json.includes(secret)) return true;
    BEARER_PATTERN.lastIndex = 0;
    AUTH_HEADER_PATTERN.lastIndex = 0;
    return SECRET_KEY_IN_JSON.test(json) || BEARER_PATTERN.test(json) || AUTH_HEADER_PATTERN.test(json);
  }

  /**
   * Deep copy with secret-named keys masked and secret values removed from strings, at any depth.
   * Iterative (an explicit stack), so depth costs no call stack; the size of what arrives here is already
   * bounded by the response cap. An object that contains itself (a cycle) becomes "[Circular]" where it
   * recurs; an object merely shared by two fields is copied for each.
   */
  value<T>(input: T): T {
    return this.copy(input) as T;
  }

  private copy(input: unknown): unknown {
    const leaf = this.leaf(input);
    if (leaf.done) return leaf.value;
    const root = emptyLike(input as object);
    const stack: CopyFrame[] = [{ source: input as object, target: root, parent: undefined }];
    for (let frame = stack.pop(); frame; frame = stack.pop()) {
      const { source, target } = frame;
      const isArray = Array.isArray(source);
      for (const [key, inner] of Object.entries(source)) {
        let out: unknown;
        if (!isArray && SECRET_KEY_PATTERN.test(key)) out = REDACTED;
        else if (inner !== null && typeof inner === 'object' && isAncestor(frame, inner)) out = '[Circular]';
        else {
          const innerLeaf = this.leaf(inner);
          if (innerLeaf.done) out = innerLeaf.value;
          else {
            out = emptyLike(inner as object);
            stack.push({ source: inner as object, target: out as Record<string, unknown>, parent: frame });
          }
        }
        setOwn(target, key, out, isArray);
      }
    }
    return root;
  }

  /** Strings are scrubbed, Errors become their scrubbed message, other non-objects pass: no descent needed. */
  private leaf(value: unknown): { done: true; value: unknown } | { done: false } {
    if (typeof value === 'string') return { done: true, value: this.text(value) };
    if (value instanceof Error) return { done: true, value: this.text(value.message) };
    if (value === null || typeof value !== 'object') return { done: true, value };
    return { done: false };
  }
}

/** One object being copied, and the frame of the object that holds it (for cycle checks). */
interface CopyFrame {
  source: object;
  target: Record<string, unknown> | unknown[];
  parent: CopyFrame | undefined;
}

/** Whether `value` is being copied on the path from the root to `frame` (then copying it again loops). */
function isAncestor(frame: CopyFrame | undefined, value: object): boolean {
  for (let current = frame; current; current = current.parent) if (current.source === value) return true;
  return false;
}

function emptyLike(value: object): Record<string, unknown> | unknown[] {
  return Array.isArray(value) ? [] : {};
}

function setOwn(target: Record<string, unknown> | unknown[], key: string, value: unknown, isArray: boolean): void {
  if (isArray) {
    (target as unknown[])[Number(key)] = value;
    return;
  }
  // defineProperty, not assignment: a "__proto__" key (JSON.parse makes it an own property) must stay a
  // key, not become the copy's prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Knows no secret values: masks secret-named keys and header-shaped text only. */
export const patternRedactor = new Redactor();
