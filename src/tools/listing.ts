/**
 * What tools/list shows for a tool, and the compiled Zod schemas runTool checks against.
 *
 * Built from the registry with zod's own JSON Schema converter. The root
 * `$schema` URL is dropped: it is ~50 bytes per schema that every model
 * reads on every turn and no MCP client needs (the MCP spec fixes the dialect).
 *
 * Two listings per tool: one with `account_id`, and one without it for a server whose account is fixed
 * (CLOUDFLARE_ACCOUNT_ID, or a session's X-Cloudflare-Account-Id), as sentry-mcp drops organization and project
 * when its URL fixes them: an argument with one right value is bytes every model reads for nothing. The input
 * schema runTool checks is the same for both: a model that passes account_id anyway is held to the fixed one
 * by `fixedAccountIssue` (./fields.ts), never switched to another account.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ToolDefinition } from './define.js';

export interface CompiledTool {
  input: z.ZodObject;
  listing: Tool;
}

interface Compiled {
  input: z.ZodObject;
  outputSchema: Tool['outputSchema'];
  /** [account open, account fixed], each compiled when first served. */
  variants: [CompiledTool | undefined, CompiledTool | undefined];
}

const cache = new WeakMap<ToolDefinition, Compiled>();

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Tool['inputSchema'] {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-07', io }) as Record<string, unknown>;
  return rest as Tool['inputSchema'];
}

function listingOf(tool: ToolDefinition, compiled: Compiled, accountFixed: boolean): Tool {
  const hasAccount = Object.hasOwn(tool.inputSchema, 'account_id');
  let inputSchema = jsonSchema(compiled.input, 'input');
  if (hasAccount && accountFixed) {
    const { account_id: _fixed, ...shape } = tool.inputSchema;
    inputSchema = jsonSchema(z.object(shape), 'input');
  } else if (hasAccount) {
    // No default account: every call needs one, so the listing says so up front (a call without it would only
    // be answered with where to find it). The check itself stays in the context, which names CLOUDFLARE_ACCOUNT_ID.
    inputSchema = { ...inputSchema, required: [...(inputSchema.required ?? []), 'account_id'] };
  }
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema,
    outputSchema: compiled.outputSchema,
    annotations: tool.annotations,
  };
}

/**
 * Compiled once per process and variant: HTTP builds a server per session, and the schemas never change.
 * `accountFixed`: the listing for a server whose account is fixed (no `account_id` property).
 */
export function compileTool(tool: ToolDefinition, accountFixed = false): CompiledTool {
  let compiled = cache.get(tool);
  if (compiled === undefined) {
    compiled = { input: z.object(tool.inputSchema), outputSchema: jsonSchema(tool.outputSchema, 'output'), variants: [undefined, undefined] };
    cache.set(tool, compiled);
  }
  const slot = accountFixed ? 1 : 0;
  return (compiled.variants[slot] ??= { input: compiled.input, listing: listingOf(tool, compiled, accountFixed) });
}
