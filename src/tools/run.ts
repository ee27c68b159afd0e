/**
 * Runs a tool call: the one place where arguments are parsed, the call's
 * context is built (./context.ts), failures become isError results with
 * actionable text (./errors.ts), and secrets are scrubbed from what is
 * returned, with the call's own Redactor.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { CloudflareApiError } from '../cloudflare/errors.js';
import type { Redactor } from '../redact.js';
import { buildContext, type CallChannel, type ToolServices } from './context.js';
import { ToolInputError, type ToolDefinition } from './define.js';
import { describeApiError, type ErrorContext } from './errors.js';
import { fixedAccountIssue } from './fields.js';
import { compileTool } from './listing.js';

export const SHUTTING_DOWN_TEXT = 'The server is shutting down and takes no new calls. Nothing was sent to Cloudflare; reconnect and try again.';

function errorResult(text: string, redactor: Redactor): CallToolResult {
  return { content: [{ type: 'text', text: redactor.text(text) }], isError: true };
}

function errorContext(tool: ToolDefinition, args: Record<string, unknown>, accountId: string | undefined): ErrorContext {
  const pick = (key: string) => (typeof args[key] === 'string' ? (args[key] as string) : undefined);
  return {
    tool: tool.name,
    permission: tool.permission,
    account_id: accountId,
    user_id: pick('user_id'),
    nonce: pick('nonce'),
    email: pick('email'),
    hints: tool.errorHints,
  };
}

/** One line per problem, each naming the field (our field messages already do; zod's defaults get the path). */
export function describeInputIssues(toolName: string, issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path && !issue.message.includes(path.split('.')[0]!) ? `${path}: ${issue.message}` : issue.message;
  });
  return `Invalid arguments for ${toolName}: ${lines.join('; ')}. Nothing was sent to Cloudflare.`;
}

export async function runTool(tool: ToolDefinition, rawArgs: unknown, services: ToolServices, channel: CallChannel): Promise<CallToolResult> {
  const parsed = compileTool(tool).input.safeParse(rawArgs ?? {});
  // Bad input is answered before anything else, and before any request.
  if (!parsed.success) return errorResult(describeInputIssues(tool.name, parsed.error.issues), services.redactor);
  // A fixed account is not listed (./listing.ts) but still checked: never a silent switch to another account.
  const accountIssue = fixedAccountIssue(parsed.data, services.defaultAccountId);
  if (accountIssue !== undefined) return errorResult(`Invalid arguments for ${tool.name}: ${accountIssue}. Nothing was sent to Cloudflare.`, services.redactor);
  const tracked = services.calls.begin();
  if (!tracked) return errorResult(SHUTTING_DOWN_TEXT, services.redactor);
  const args = parsed.data as Record<string, unknown>;
  const call = buildContext(tool.name, services, channel, tracked);
  try {
    if (call.auth.kind === 'none') throw new ToolInputError(call.auth.message);
    const trimmed = await tool.handler(args, call.context);
    const checked = tool.outputSchema.safeParse(trimmed.data);
    if (!checked.success) throw new Error(`result does not match the output schema (${checked.error.issues.map((i) => i.message).join('; ')})`);
    // Text and structuredContent come from one object, so they cannot disagree (a secret-named key such as
    // "password" is masked in both). Only a result that may hold a secret is copied and re-serialised.
    const data = call.redactor.mayNeed(trimmed.text) ? call.redactor.value(trimmed.data) : trimmed.data;
    const text = data === trimmed.data ? trimmed.text : JSON.stringify(data);
    return { content: [{ type: 'text', text }], structuredContent: data };
  } catch (error) {
    if (error instanceof ToolInputError) return errorResult(error.message, call.redactor);
    if (error instanceof CloudflareApiError) return errorResult(describeApiError(error, errorContext(tool, args, call.state.accountId)), call.redactor);
    const message = error instanceof Error ? error.message : String(error);
    call.logger.error('tool failed unexpectedly', { tool: tool.name, error: message });
    return errorResult(`Internal error in ${tool.name}: ${message}`, call.redactor);
  } finally {
    call.release();
    // Whatever a handler left running (a fan-out branch after another failed) stops with the call.
    if (!tracked.signal.aborted) tracked.abort(new Error('the call has ended'));
    services.calls.end(tracked);
  }
}
