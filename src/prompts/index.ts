/**
 * The prompt registry: every prompt, in the order clients list them, and the one place a prompt's
 * arguments are checked and its messages built. A server offers only the prompts whose tools it serves.
 */
import type { GetPromptResult, Prompt } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { PromptArgumentError, type PromptDefinition } from './define.js';
import investigateAccess from './investigate-access.js';
import offboardPerson from './offboard-person.js';
import onboardPeople from './onboard-people.js';

const registry = [investigateAccess, onboardPeople, offboardPerson] as const satisfies readonly PromptDefinition[];

export type PromptName = (typeof registry)[number]['name'];

export const allPrompts: readonly PromptDefinition[] = registry;

/** The prompts a server with these tools can offer: a prompt naming a tool it does not serve is left out. */
export function selectPrompts(servedTools: ReadonlySet<string>, prompts: readonly PromptDefinition[] = allPrompts): readonly PromptDefinition[] {
  return prompts.filter((prompt) => prompt.tools.every((tool) => servedTools.has(tool)));
}

/** The prompts/list entry: arguments with their descriptions and whether each is required. */
export function listPrompt(prompt: PromptDefinition): Prompt {
  const args = Object.entries(prompt.arguments).map(([name, schema]) => ({
    name,
    description: schema.description,
    required: !schema.safeParse(undefined).success,
  }));
  return { name: prompt.name, title: prompt.title, description: prompt.description, arguments: args };
}

/** prompts/get: checks the arguments (unknown ones are ignored) and returns the instructions as one user message. */
export function getPrompt(prompt: PromptDefinition, rawArgs: Record<string, string> | undefined): GetPromptResult {
  const parsed = z.object(prompt.arguments).safeParse(rawArgs ?? {});
  if (!parsed.success) {
    // Each message names its field; one from zod's defaults gets the field put in front.
    const problems = parsed.error.issues
      .map((issue) => {
        const field = issue.path.map(String).join('.');
        return field && !issue.message.includes(field) ? `${field}: ${issue.message}` : issue.message;
      })
      .join('; ');
    throw new PromptArgumentError(`Invalid arguments for prompt ${prompt.name}: ${problems}.`);
  }
  return {
    description: prompt.description,
    messages: [{ role: 'user', content: { type: 'text', text: prompt.render(parsed.data) } }],
  };
}

export { PromptArgumentError, type PromptDefinition } from './define.js';
