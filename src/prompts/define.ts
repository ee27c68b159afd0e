/**
 * What a prompt is: one definition per file, collected in ./index.ts.
 *
 * IDE assistants show MCP prompts as slash commands. A prompt takes typed arguments (every MCP prompt
 * argument arrives as a string; its Zod schema checks and shapes it) and returns instructions that lead the
 * model to the right tools in the right order. It names the tools it uses, so a server that does not serve
 * them (read-only, --tools) does not offer it.
 */
import type { z } from 'zod';

/** Argument name → its schema (classic Zod types, so each carries its description). */
export type PromptArguments = Record<string, z.ZodType>;

export interface PromptDefinition<Shape extends PromptArguments = PromptArguments> {
  name: string;
  title: string;
  /** One line, shown next to the slash command. */
  description: string;
  /** One string schema per argument, each with a description (shown to the person filling it in). */
  arguments: Shape;
  /** Every tool the instructions name: all must be served for the prompt to be offered. */
  tools: readonly string[];
  // Method syntax on purpose (bivariant parameters): a prompt with precise argument types still fits the
  // registry's common PromptDefinition type without a cast, as tools do.
  render(args: z.infer<z.ZodObject<Shape>>): string;
}

/** Arguments that do not fit the prompt's schemas; the message names each field. */
export class PromptArgumentError extends Error {
  override readonly name = 'PromptArgumentError';
}

/** Identity function that keeps each prompt's argument types precise. */
export function definePrompt<Shape extends PromptArguments>(definition: PromptDefinition<Shape>): PromptDefinition<Shape> {
  return definition;
}
