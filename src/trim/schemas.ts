/**
 * Output schemas (each tool's `outputSchema`). Every byte reaches the model in
 * tools/list, so they name only the key properties and stay loose: whatever
 * else the API returns passes through. Every result the trimmers produce —
 * projected, truncated or degraded — validates against these.
 */
import { z } from 'zod';

const text = z.string().optional();
const flag = z.boolean().optional();
const count = z.number().optional();

// `truncated` ({shown, of, next, hint}) is left to the loose schema: its hint explains itself.
/** `{fields, same?, rows, paging, more_fields?}`: a row holds one value per name in `fields`. */
function table() {
  return z.looseObject({
    fields: z.array(z.string()),
    same: z.unknown().optional().describe('columns equal in every row'),
    rows: z.array(z.array(z.unknown())),
    paging: z.looseObject({ count: z.number(), next_page: count }),
    // Named in the server's instructions: columns left out, which fields brings.
    more_fields: z.array(z.string()).optional(),
  });
}

export const currentUserOutput = z.looseObject({
  id: text,
  email: text,
  organizations: z.array(z.looseObject({ id: text, name: text })).optional(),
});

export const accessUserOutput = z.looseObject({
  id: text,
  email: text,
  name: text,
  access_seat: flag,
  gateway_seat: flag,
});

export const userListOutput = table();
export const sessionListOutput = table();
export const failedLoginsOutput = table();

export const identityOutput = z.looseObject({
  email: text,
  user_uuid: text,
  ip: text,
  posture: z.looseObject({ passed: z.array(z.unknown()).optional(), failed: z.array(z.unknown()).optional() }).optional(),
});

/** get_user_access_overview: sessions and failed logins are "none" when there are none. */
export const accessOverviewOutput = z.looseObject({
  user: z.looseObject({ id: text, email: text }).optional(),
  sessions: z.unknown().optional(),
  last_seen: z.unknown().optional(),
  failed_logins: z.unknown().optional(),
  notes: z.array(z.string()).optional().describe('parts missing, and why'),
});

/** provision / offboard: a summary, then one row per person (columnar). */
export const batchOutput = z.looseObject({
  mode: z.enum(['plan', 'apply']),
  summary: z.record(z.string(), z.number()),
  fields: z.array(z.string()),
  rows: z.array(z.array(z.unknown())),
});
