/**
 * Runs a tool call: the one place where credentials are checked, the
 * account id is resolved, failures become isError results with actionable
 * text, secrets are scrubbed from what is returned, and writes are audited.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ResolvedAuth } from '../cloudflare/auth.js';
import type { CloudflareClient } from '../cloudflare/client.js';
import { CloudflareApiError, describeApiError, type ErrorContext } from '../cloudflare/errors.js';
import type { Logger, LogLevel } from '../log.js';
import { mayNeedRedaction, redact, redactText } from '../redact.js';
import type { z } from 'zod';
import { ToolInputError, type ToolCall, type ToolDefinition } from './define.js';
import { compileTool } from './listing.js';

export interface ToolDeps {
  client: CloudflareClient;
  auth: ResolvedAuth;
  defaultAccountId?: string | undefined;
  maxResponseChars: number;
  logger: Logger;
}

/** Sends a log record to the client that made the call (not to every session). */
export type CallNotifier = (level: LogLevel, data: Record<string, unknown>) => Promise<void> | void;

export const ACCOUNT_ID_HELP =
  'No account_id given and CLOUDFLARE_ACCOUNT_ID is not set. Pass account_id (32 hex characters), or set CLOUDFLARE_ACCOUNT_ID in the server\'s environment. ' +
  'Find the Account ID in the Cloudflare dashboard: Account home > your account > Overview, right-hand column "Account ID" (also in the URL: dash.cloudflare.com/<account_id>).';

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text: redactText(text) }], isError: true };
}

function errorContext(tool: ToolDefinition, args: Record<string, unknown>, accountId: string | undefined): ErrorContext {
  const pick = (key: string) => (typeof args[key] === 'string' ? (args[key] as string) : undefined);
  return { tool: tool.name, permission: tool.permission, account_id: accountId, user_id: pick('user_id'), nonce: pick('nonce'), email: pick('email') };
}

/** One line per problem, each naming the field (our field messages already do; zod's defaults get the path). */
export function describeInputIssues(toolName: string, issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path && !issue.message.includes(path.split('.')[0]!) ? `${path}: ${issue.message}` : issue.message;
  });
  return `Invalid arguments for ${toolName}: ${lines.join('; ')}. Nothing was sent to Cloudflare.`;
}

export async function runTool(
  tool: ToolDefinition,
  rawArgs: unknown,
  deps: ToolDeps,
  notify?: CallNotifier,
): Promise<CallToolResult> {
  const compiled = compileTool(tool);
  const parsed = compiled.input.safeParse(rawArgs ?? {});
  // Bad input is answered before anything else, and before any request.
  if (!parsed.success) return errorResult(describeInputIssues(tool.name, parsed.error.issues));
  const args = parsed.data as Record<string, unknown>;
  let accountId: string | undefined;
  let outcome = 'ok';
  let status: number | undefined;
  let result: CallToolResult;
  try {
    const { auth } = deps;
    if (auth.kind === 'none') throw new ToolInputError(auth.message);
    const call: ToolCall = {
      accountId(argument) {
        accountId = argument ?? deps.defaultAccountId;
        if (!accountId) throw new ToolInputError(ACCOUNT_ID_HELP);
        return accountId;
      },
      async api(request) {
        const response = await deps.client.request({ ...request, authHeaders: auth.headers });
        status = response.status;
        return response;
      },
      maxResponseChars: deps.maxResponseChars,
    };
    const trimmed = await tool.handler(args, call);
    const checked = tool.outputSchema.safeParse(trimmed.data);
    if (!checked.success) throw new Error(`result does not match the output schema (${checked.error.issues.map((i) => i.message).join('; ')})`);
    // Text and structuredContent come from one object, so they cannot disagree (a secret-named key such as
    // "password" is masked in both). Only a result that may hold a secret is copied and re-serialised.
    const data = mayNeedRedaction(trimmed.text) ? redact(trimmed.data) : trimmed.data;
    const text = data === trimmed.data ? trimmed.text : JSON.stringify(data);
    result = { content: [{ type: 'text', text }], structuredContent: data };
  } catch (error) {
    if (error instanceof ToolInputError) {
      outcome = 'refused';
      result = errorResult(error.message);
    } else if (error instanceof CloudflareApiError) {
      outcome = 'error';
      status = error.status;
      result = errorResult(describeApiError(error, errorContext(tool, args, accountId)));
    } else {
      outcome = 'error';
      deps.logger.error('tool failed unexpectedly', { tool: tool.name, error: error instanceof Error ? error.message : String(error) });
      result = errorResult(`Internal error in ${tool.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (!tool.annotations.readOnlyHint) {
    const audit = {
      operation: tool.name,
      account_id: accountId ?? (typeof args.account_id === 'string' ? args.account_id : deps.defaultAccountId),
      user_id: args.user_id,
      email: args.email,
      outcome,
      status,
    };
    deps.logger.info('audit', audit);
    await Promise.resolve(notify?.('info', redact({ msg: 'audit', ...audit }))).catch(() => {});
  }
  return result;
}
