/**
 * What a tool is: one definition per file, collected in ./index.ts.
 *
 * A tool declares its schemas, annotations and the token permission it needs,
 * and implements `handler` against its ToolContext (./context.ts). It knows
 * nothing about transports, credentials or how errors become isError results
 * (./run.ts).
 */
import type { z } from 'zod';
import type { Trimmed } from '../trim/index.js';
import type { ToolContext } from './context.js';
import type { ErrorHints } from './errors.js';

/** Every hint is required, so no tool can leave a client guessing whether it is safe. */
export interface RequiredAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** Groups a server can be limited to (`--toolsets`): every tool belongs to exactly one. */
export const TOOLSETS = ['account', 'users', 'sessions'] as const;
export type Toolset = (typeof TOOLSETS)[number];

export interface ToolDefinition<Name extends string = string, Shape extends z.ZodRawShape = z.ZodRawShape, Output extends z.ZodObject = z.ZodObject> {
  name: Name;
  title: string;
  /** account: the token owner; users: Zero Trust users; sessions: a user's sessions, last-seen identity, failed logins. */
  toolset: Toolset;
  /** Written for a model choosing a tool: what it returns, when to use it, which permission it needs. */
  description: string;
  /** Cloudflare token permission group (from the OpenAPI file's x-api-token-group), quoted in auth errors. */
  permission: string;
  inputSchema: Shape;
  outputSchema: Output;
  annotations: RequiredAnnotations;
  /** This tool's own next steps in error texts, where the defaults of ./errors.ts do not fit. */
  errorHints?: ErrorHints;
  // Method syntax on purpose: parameters of methods are checked bivariantly, so a tool with precise
  // argument types still fits the registry's common ToolDefinition type without a cast.
  handler(args: z.infer<z.ZodObject<Shape>>, context: ToolContext): Promise<Trimmed>;
}

/** A user-fixable problem found before any request (no account id, confirmation missing). */
export class ToolInputError extends Error {
  override readonly name = 'ToolInputError';
}

/** Identity function that keeps each tool's name and argument types precise. */
export function defineTool<const Name extends string, Shape extends z.ZodRawShape, Output extends z.ZodObject>(
  definition: ToolDefinition<Name, Shape, Output>,
): ToolDefinition<Name, Shape, Output> {
  return definition;
}
