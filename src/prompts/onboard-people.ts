import { z } from 'zod';
import { emailField } from '../tools/fields.js';
import { definePrompt } from './define.js';

/** provision_access_users takes at most this many people in one call. */
const MAX_PEOPLE = 500;
const MAX_NAME_LENGTH = 200;

interface Person {
  email: string;
  name?: string;
}

/**
 * One entry of the list: an email address and, around it, an optional name, in any of the ways people write
 * them: `alice@corp.example`, `alice@corp.example Alice Nakamura`, `Alice Nakamura <alice@corp.example>`.
 * Returns the problem as text when the entry does not hold exactly one address.
 */
function parseEntry(entry: string): Person | string {
  const tokens = entry.split(/\s+/).filter(Boolean);
  const emails = tokens.filter((token) => token.includes('@'));
  if (emails.length !== 1) return `"${entry}" must hold exactly one email address`;
  // Pasted text: a mailto: link, or brackets and punctuation around the address, are not part of it.
  const email = emails[0]!.replace(/^[<("']+|[>)"',;]+$/g, '').replace(/^mailto:/i, '');
  if (!emailField.safeParse(email).success) return `"${email}" is not an email address like jdoe@example.com`;
  const name = tokens
    .filter((token) => !token.includes('@'))
    .join(' ')
    .replace(/^[("'<]+|[)"'>]+$/g, '')
    .trim();
  if (name.length > MAX_NAME_LENGTH) return `the name for ${email} is longer than ${MAX_NAME_LENGTH} characters`;
  return name ? { email, name } : { email };
}

/** Entries separated by new lines, commas or semicolons; every problem found, at most a few. */
function parsePeople(text: string): { people: Person[]; problems: string[] } {
  const entries = text.split(/[\n,;]+/).map((entry) => entry.trim()).filter(Boolean);
  const problems: string[] = [];
  if (entries.length === 0) problems.push('people must name at least one person');
  if (entries.length > MAX_PEOPLE) problems.push(`people may name at most ${MAX_PEOPLE} people (got ${entries.length})`);
  const people: Person[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const parsed = parseEntry(entry);
    if (typeof parsed === 'string') problems.push(`people: ${parsed}`);
    else if (seen.has(parsed.email.toLowerCase())) problems.push(`people: ${parsed.email} is listed twice`);
    else {
      seen.add(parsed.email.toLowerCase());
      people.push(parsed);
    }
  }
  return { people, problems: problems.slice(0, 5) };
}

const peopleField = z
  .string({ error: (issue) => (issue.input === undefined ? 'people is required' : 'people must be a string') })
  .transform((text, ctx) => {
    const { people, problems } = parsePeople(text);
    for (const message of problems) ctx.addIssue({ code: 'custom', message });
    return problems.length > 0 ? z.NEVER : people;
  })
  .describe('One person per line, or separated by commas: an email, optionally with the name (alice@corp.example Alice Nakamura)');

export default definePrompt({
  name: 'onboard_people',
  title: 'Onboard people',
  description: 'Create or update Zero Trust users for a list of people: plan first, apply after the person approves.',
  arguments: { people: peopleField },
  tools: ['provision_access_users'],
  render: ({ people }) =>
    [
      `Onboard ${people.length === 1 ? 'this person' : `these ${people.length} people`} as Zero Trust users in this Cloudflare account. The users argument:`,
      JSON.stringify(people),
      '',
      '1. Call provision_access_users with these users and mode "plan". It changes nothing; for each person it says create, update (the name differs) or unchanged.',
      '2. Show the plan (how many of each, and who is created or updated) and ask the person to approve it. Without a clear yes, stop.',
      '3. Call provision_access_users with the same users and mode "apply". Report for each person: created, updated, unchanged or failed, with the reason for each failure.',
      '4. A second apply of the same list changes nothing that is already done, so after fixing a failure (for example a rate limit) it is safe to apply again, once the person agrees.',
    ].join('\n'),
});
