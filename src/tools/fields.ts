/**
 * Input fields shared by the tools. Patterns are the guard that keeps ids
 * from ever becoming path tricks (`..`, `a/b`, `%2e%2e`): encoding alone
 * is not enough. Kept short on purpose: every byte is read by the model on
 * every turn, and zod's built-in uuid/email patterns are long. The rules
 * every tool repeats (account_id, user_id) are checked with refine: enforced
 * the same, but not spelled out in each tool's listed schema.
 */
import { z } from 'zod';

/** Type error text that tells a missing field from a wrong-typed one. */
function typeError(field: string, expected: string) {
  return (issue: { input?: unknown }) => (issue.input === undefined ? `${field} is required` : `${field} must be ${expected}`);
}

// Enforced, not advertised (as userRefField): the pattern would be repeated in all 13 tools' schemas.
export const accountIdField = z
  .string({ error: typeError('account_id', 'a string of 32 lowercase hex characters') })
  .refine((value) => /^[0-9a-f]{32}$/.test(value), 'account_id must be 32 lowercase hex characters (the Account ID from the Cloudflare dashboard)')
  .optional()
  .describe('Omit: default account');

const UUID_PATTERN = /^[\da-f]{8}(-[\da-f]{4}){3}-[\da-f]{12}$/;
/** An email with nothing of a path or URL in it: no slash, backslash, percent, `?`, `#` or control character. */
const REF_EMAIL_PATTERN = /^[^\s\p{Cc}@/\\%?#]+@[^\s\p{Cc}@/\\%?#]+\.[^\s\p{Cc}@/\\%?#]+$/u;

export function isUserUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/**
 * A user named by a lowercase UUID or by the user's email (./resolve-user.ts turns an email into the UUID).
 * The rule is enforced, not advertised (as textField): the schema every model reads stays one short line,
 * and nothing but a UUID or an email passes, so `..`, `a/b`, `%2e%2e` never reach a path.
 */
export function userRefField(field: string, { inList = false } = {}) {
  // In a list the error's path names the item (users.2); it is shown only when the text does not name the list.
  const from = inList ? '' : ' (from list_access_users)';
  return z
    .string({ error: typeError(field, 'a UUID or an email string') })
    .refine(
      (value) => UUID_PATTERN.test(value) || (value.length <= 254 && REF_EMAIL_PATTERN.test(value)),
      `${field} must be a lowercase UUID like 0c6a2f5e-1b7d-4c3e-9f1a-2b3c4d5e6f70${from} or the user's email address`,
    );
}

export const userIdField = userRefField('user_id').describe('UUID or email');

export const nonceField = z
  .string({ error: typeError('nonce', 'a string') })
  .regex(/^[\w-]{1,128}$/, 'nonce must be 1-128 characters of A-Z, a-z, 0-9, _ or -')
  .describe('From list_active_sessions');

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const emailField = z
  .string({ error: typeError('email', 'a string') })
  .max(254, 'email must be at most 254 characters')
  .regex(EMAIL_PATTERN, 'email must be an email address like jdoe@example.com');

/** emailField's rule, enforced but not advertised: for batch items, where the schema is repeated for nothing. */
export const itemEmailField = z
  .string({ error: typeError('email', 'a string') })
  .refine((value) => value.length <= 254 && EMAIL_PATTERN.test(value), 'email must be an email address like jdoe@example.com (at most 254 characters)');

/** Free text with a length check that is enforced but not advertised (see fieldsField). */
export function textField(field: string, maxLength = 200) {
  return z
    .string({ error: typeError(field, 'a string') })
    .refine((text) => text.length >= 1 && text.length <= maxLength, `${field} must be 1-${maxLength} characters`);
}

export const nameField = textField('name');

export const pageField = z
  .int({ error: 'page must be a whole number >= 1' })
  .min(1, 'page must be >= 1')
  .max(100_000, 'page must be <= 100000')
  .optional()
  .describe('Page number');

export const perPageField = z
  .int({ error: 'per_page must be a whole number from 1 to 1000' })
  .min(1, 'per_page must be from 1 to 1000')
  .max(1000, 'per_page must be from 1 to 1000')
  .optional()
  .describe('Page size');

export const fieldsField = z
  // Field names never reach the network (projection is local): the caps only bound the work, so they
  // are checked (refine) without being spelled out in the schema every model reads.
  .array(z.string({ error: 'fields must be an array of field names' }), { error: 'fields must be an array of field names' })
  .refine((names) => names.length <= 40 && names.every((name) => name.length <= 64), 'fields may name at most 40 fields of at most 64 characters')
  .optional()
  .describe('Only these fields');

export const detailField = z
  .enum(['summary', 'full'], { error: 'detail must be "summary" or "full"' })
  .optional()
  .describe('summary (default) or full');
