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
  // Listed only when no account is fixed (then it is required there: ./listing.ts); this says where to find it.
  .describe('From get_current_user organizations[].id');

/**
 * When the server's account is fixed (CLOUDFLARE_ACCOUNT_ID, or the session's X-Cloudflare-Account-Id), the
 * listed schemas have no account_id. One a model passes anyway is accepted only if it is that account: it never
 * switches accounts, and a different one is refused before anything is sent rather than quietly ignored.
 * Returns the problem, or undefined.
 */
export function fixedAccountIssue(args: Readonly<Record<string, unknown>>, fixedAccountId: string | undefined): string | undefined {
  const given = args['account_id'];
  if (!fixedAccountId || given === undefined || given === fixedAccountId) return undefined;
  return `account_id must be omitted or equal ${fixedAccountId}: this server is fixed to that account (CLOUDFLARE_ACCOUNT_ID or the session's X-Cloudflare-Account-Id)`;
}

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

// A nonce is copied from list_active_sessions, never made up: the pattern guards the path, the model need not read it.
export const nonceField = z
  .string({ error: typeError('nonce', 'a string') })
  .refine((value) => /^[\w-]{1,128}$/.test(value), 'nonce must be 1-128 characters of A-Z, a-z, 0-9, _ or - (from list_active_sessions)')
  .describe('From list_active_sessions');

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/**
 * An email, checked the same everywhere but not spelled out in the schema: a model writes an email without
 * being shown a regular expression, and a wrong one is answered with the rule before anything is sent.
 */
export const emailField = z
  .string({ error: typeError('email', 'a string') })
  .refine((value) => value.length <= 254 && EMAIL_PATTERN.test(value), 'email must be an email address like jdoe@example.com (at most 254 characters)');

/** The same rule, for batch items and the rename's current email. */
export const itemEmailField = emailField;

/** Free text with a length check that is enforced but not advertised (see fieldsField). */
export function textField(field: string, maxLength = 200) {
  return z
    .string({ error: typeError(field, 'a string') })
    .refine((text) => text.length >= 1 && text.length <= maxLength, `${field} must be 1-${maxLength} characters`);
}

export const nameField = textField('name');

// Whole number and bounds enforced, not advertised: page numbers come from paging.next_page (z.int would
// list JavaScript's safe-integer bounds). per_page keeps its bounds, which a model needs to ask for the biggest page.
export const pageField = z
  .number({ error: 'page must be a whole number >= 1' })
  .refine((value) => Number.isInteger(value) && value >= 1 && value <= 100_000, 'page must be a whole number from 1 to 100000')
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
  .describe('Default summary');
