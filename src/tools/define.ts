/**
 * What a tool is: one definition per file, collected in ./index.ts.
 *
 * A tool declares its schemas, annotations and the token permission it needs,
 * and implements `handler` against a ToolCall. It knows nothing about
 * transports, credentials or how errors become isError results (./run.ts).
 */
import type { z } from 'zod';
import type { ApiRequest, ApiResponse } from '../cloudflare/client.js';
import type { Trimmed } from '../trim/index.js';

/** Every hint is required, so no tool can leave a client guessing whether it is safe. */
export interface RequiredAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** What a handler may do during one call. */
export interface ToolCall {
  /** The account to act on: the argument, else the configured default; throws a ToolInputError when neither. */
  accountId(argument: string | undefined): string;
  /** Sends one API request with the call's credentials. */
  api(request: Omit<ApiRequest, 'authHeaders'>): Promise<ApiResponse>;
  /** Response budget in characters (the trimmer's maxChars). */
  readonly maxResponseChars: number;
}

export interface ToolDefinition<Shape extends z.ZodRawShape = z.ZodRawShape, Output extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  /** Written for a model choosing a tool: what it returns, when to use it, which permission it needs. */
  description: string;
  /** Cloudflare token permission group (from the OpenAPI file's x-api-token-group), quoted in auth errors. */
  permission: string;
  inputSchema: Shape;
  outputSchema: Output;
  annotations: RequiredAnnotations;
  handler(args: z.infer<z.ZodObject<Shape>>, call: ToolCall): Promise<Trimmed>;
}

/** A user-fixable problem found before any request (no account id, confirmation missing). */
export class ToolInputError extends Error {
  override readonly name = 'ToolInputError';
}

/** Identity function that keeps each tool's argument types precise. */
export function defineTool<Shape extends z.ZodRawShape, Output extends z.ZodObject>(
  definition: ToolDefinition<Shape, Output>,
): ToolDefinition<Shape, Output> {
  return definition;
}
