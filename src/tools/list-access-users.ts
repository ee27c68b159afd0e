import { z } from 'zod';
import { collectPages } from '../cloudflare/paginate.js';
import { trimAccessUserCollection, trimAccessUserList, userListOutput } from '../trim/index.js';
import { defineTool, ToolInputError } from './define.js';
import { accountIdField, emailField, fieldsField, nameField, pageField, perPageField, textField } from './fields.js';

/** The API's largest page: fewest requests for `all`. */
const ALL_PAGE_SIZE = 1000;

export default defineTool({
  name: 'list_access_users',
  title: 'List Zero Trust users',
  toolset: 'users',
  description:
    'Zero Trust users: id, email, name, seats, devices, last login. Filter by exact email, name or search; ' +
    'paged (paging.next_page). Needs Access: Audit Logs Read.',
  permission: 'Access: Audit Logs Read',
  inputSchema: {
    account_id: accountIdField,
    email: emailField.optional().describe('Exact email'),
    name: nameField.optional().describe('Name filter'),
    search: textField('search').optional().describe('Matches email or name'),
    page: pageField,
    per_page: perPageField,
    all: z.boolean({ error: 'all must be true or false' }).optional().describe('Every page'),
    max_items: z
      .number({ error: 'max_items must be a whole number from 1 to 100000' })
      .refine((value) => Number.isInteger(value) && value >= 1 && value <= 100_000, 'max_items must be a whole number from 1 to 100000')
      .optional()
      .describe('Cap for all'),
    fields: fieldsField,
  },
  outputSchema: userListOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler({ account_id, email, name, search, page, per_page, all, max_items, fields }, ctx) {
    const accountId = ctx.accountId(account_id);
    if (all !== true) {
      if (max_items !== undefined) throw new ToolInputError('max_items caps all: true; pass all: true with it (or per_page for one page). Nothing was sent to Cloudflare.');
      const response = await ctx.api.listAccessUsers(accountId, { email, name, search, page, per_page });
      return trimAccessUserList(response.result, response.resultInfo, { page, per_page }, { fields, maxChars: ctx.maxResponseChars });
    }
    if (page !== undefined) throw new ToolInputError('page cannot be combined with all: true (it starts at page 1 and reads on). Nothing was sent to Cloudflare.');
    const perPage = per_page ?? Math.min(ALL_PAGE_SIZE, max_items ?? ALL_PAGE_SIZE);
    // The first page gives the total; the rest are fetched in parallel within the call's concurrency limit.
    const collected = await collectPages(
      (pageNumber) => ctx.api.listAccessUsers(accountId, { email, name, search, page: pageNumber > 1 ? pageNumber : undefined, per_page: perPage }),
      {
        perPage,
        concurrency: ctx.maxConcurrency,
        maxItems: max_items,
        signal: ctx.signal,
        onPage: (done, pages) => ctx.progress(done, pages, `page ${done}${pages ? ` of ${pages}` : ''}`),
      },
    );
    const filtered = email !== undefined || name !== undefined || search !== undefined;
    return trimAccessUserCollection(
      collected.items,
      {
        // The live API counts every user of the account in total_count, filtered or not.
        totalCount: filtered ? undefined : collected.totalCount,
        complete: collected.complete,
        hint: `Not every user fits the size limit: pass fields (e.g. ["email"]) for fewer columns${filtered ? ', or a narrower filter' : ', or filter by email, name or search'}.`,
      },
      { fields, maxChars: ctx.maxResponseChars },
    );
  },
});
