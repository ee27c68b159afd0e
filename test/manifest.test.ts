/** The MCP Bundle manifest validates with the official tool and matches the server it describes. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SERVER_ICON } from '../src/icon.js';
import { allTools } from '../src/tools/index.js';
import { PROJECT_ROOT } from './helpers/spawn.js';

const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'manifest.json'), 'utf8')) as {
  manifest_version: string;
  icon: string;
  server: { type: string; entry_point: string; mcp_config: { env: Record<string, string> } };
  tools: { name: string }[];
  user_config: Record<string, { type: string; sensitive?: boolean; required?: boolean; default?: unknown }>;
};

describe('manifest.json', () => {
  it('passes `mcpb validate`', async () => {
    const cli = join(PROJECT_ROOT, 'node_modules/@anthropic-ai/mcpb/dist/cli/cli.js');
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'validate', 'manifest.json'], { cwd: PROJECT_ROOT });
    expect(stdout).toMatch(/passes/);
  }, 60_000);

  it('describes a node server at the built entry, with secrets marked sensitive and passed through env', () => {
    expect(manifest.manifest_version).toBe('0.3');
    expect(manifest.server).toMatchObject({ type: 'node', entry_point: 'dist/index.js' });
    expect(manifest.server.mcp_config.env).toEqual({
      CLOUDFLARE_API_TOKEN: '${user_config.api_token}',
      CLOUDFLARE_ACCOUNT_ID: '${user_config.account_id}',
      CLOUDFLARE_EMAIL: '${user_config.email}',
      CLOUDFLARE_API_KEY: '${user_config.api_key}',
      CLOUDFLARE_READ_ONLY: '${user_config.read_only}',
    });
    expect(manifest.user_config.api_token?.sensitive).toBe(true);
    expect(manifest.user_config.api_key?.sensitive).toBe(true);
    expect(manifest.user_config.read_only).toMatchObject({ type: 'boolean', default: false });
  });

  it('gives every optional setting a default: unset, it would reach the server as the literal "${user_config.…}"', () => {
    for (const [key, option] of Object.entries(manifest.user_config)) {
      if (option.required) continue;
      expect(option.default, key).toBeDefined();
    }
  });

  it('ships icon.png, and the server reports the same image in its initialize result', () => {
    expect(manifest.icon).toBe('icon.png');
    const png = readFileSync(join(PROJECT_ROOT, manifest.icon));
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([256, 256]);
    expect(SERVER_ICON).toEqual({ src: `data:image/png;base64,${png.toString('base64')}`, mimeType: 'image/png', sizes: ['256x256'] });
  });

  it('lists exactly the registry tools', () => {
    expect(manifest.tools.map((tool) => tool.name)).toEqual(allTools.map((tool) => tool.name));
  });
});
