/**
 * Model-visible size of tool definitions, ours and the generic OpenAPI bridge's, measured the same way:
 * JSON.stringify of the array of {name, title, description, inputSchema} (what a model reads to choose a tool;
 * outputSchema and annotations are not part of it). The bridge (`@ivotoby/openapi-mcp-server`, a pinned
 * devDependency) is spawned over stdio with the SDK Client against spec/cloudflare-users.openapi.json; its
 * tools/list needs no network (the base URL is a closed loopback port).
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';

export function modelVisibleBytes(tools: readonly Tool[]): number {
  return Buffer.byteLength(JSON.stringify(tools.map(({ name, title, description, inputSchema }) => ({ name, title, description, inputSchema }))));
}

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** The bridge's tools/list for the 10 documented operations. */
export async function bridgeTools(): Promise<Tool[]> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [
      root('node_modules/@ivotoby/openapi-mcp-server/bin/mcp-server.js'),
      '--openapi-spec', root('spec/cloudflare-users.openapi.json'),
      '--api-base-url', 'http://127.0.0.1:9',
      '--headers', 'Authorization:Bearer unused',
      '--transport', 'stdio',
    ],
    stderr: 'ignore',
  });
  const client = new Client({ name: 'definitions-size', version: '1' });
  await client.connect(transport);
  try {
    return (await client.listTools()).tools;
  } finally {
    await client.close();
  }
}
