/**
 * What tools/list shows for a tool, and the compiled Zod schemas runTool checks against.
 *
 * Built from the registry with zod's own JSON Schema converter. The root
 * `$schema` URL is dropped: it is ~50 bytes per schema that every model
 * reads on every turn and no MCP client needs (the MCP spec fixes the dialect).
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ToolDefinition } from './define.js';

export interface CompiledTool {
  input: z.ZodObject;
  listing: Tool;
}

const cache = new WeakMap<ToolDefinition, CompiledTool>();

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Tool['inputSchema'] {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-07', io }) as Record<string, unknown>;
  return rest as Tool['inputSchema'];
}

/** Compiled once per process: HTTP builds a server per session, and the schemas never change. */
export function compileTool(tool: ToolDefinition): CompiledTool {
  const cached = cache.get(tool);
  if (cached) return cached;
  const input = z.object(tool.inputSchema);
  const compiled: CompiledTool = {
    input,
    listing: {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: jsonSchema(input, 'input'),
      outputSchema: jsonSchema(tool.outputSchema, 'output'),
      annotations: tool.annotations,
    },
  };
  cache.set(tool, compiled);
  return compiled;
}
