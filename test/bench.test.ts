/**
 * Keeps the benchmark suite from rotting: runs `bench/run.ts --quick` as a
 * child process into a temp file and checks the report's structure. Timings
 * are never asserted (shared CI machines are noisy); only the deterministic
 * tools/list sizes are compared with what the server lists right here.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import { SECTIONS } from '../bench/sections.js';
import { startHarness } from './helpers/harness.js';
import { cleanEnv, PROJECT_ROOT } from './helpers/spawn.js';

const COMMITTED = join(PROJECT_ROOT, 'BENCHMARKS.md');
const workDir = mkdtempSync(join(tmpdir(), 'cf-users-bench-'));
const out = join(workDir, 'BENCHMARKS.md');

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

interface FigureSummary {
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  pass?: boolean;
}
interface Summary {
  quick: boolean;
  sections: Record<string, { error?: string; figures?: Record<string, FigureSummary> }>;
}

/** The text under `## N. Title`, up to the next `## ` heading. */
function sectionText(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) return '';
  const next = markdown.indexOf('\n## ', start + heading.length + 2);
  return markdown.slice(start, next < 0 ? undefined : next);
}

describe('bench --quick', () => {
  it('exits 0 and writes every section with numeric figures, leaving BENCHMARKS.md alone', { timeout: 120_000 }, async () => {
    const committedBefore = existsSync(COMMITTED) ? { mtime: statSync(COMMITTED).mtimeMs, text: readFileSync(COMMITTED, 'utf8') } : undefined;

    // execFile rejects on a non-zero exit or on the timeout.
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out], {
      cwd: PROJECT_ROOT,
      env: cleanEnv(),
      timeout: 60_000,
      maxBuffer: 4 * 1024 * 1024,
    });

    const markdown = readFileSync(out, 'utf8');
    expect(markdown).toMatch(/^# Benchmarks/);
    for (const heading of ['## Goals at a glance', '## Misses and why', '## Machine-readable summary']) expect(markdown).toContain(`\n${heading}\n`);
    expect(markdown).toMatch(/\| CPU \| .+ × \d+ logical cores/);
    expect(markdown).toMatch(/\| Node \| v\d+\./);

    SECTIONS.forEach((section, i) => {
      const text = sectionText(markdown, `## ${i + 1}. ${section.title}`);
      expect(text, `section "${section.title}" is missing`).not.toBe('');
      expect(text).not.toContain('failed to run');
      // Its figure table: at least one row whose value cell is a number with a unit.
      expect(text).toMatch(/\n\| [^|\n]+ \| \d[\d,.]* (B|ms|MB) \|/);
    });

    const json = /```json\n([\s\S]*?)\n```/.exec(markdown)?.[1];
    expect(json).toBeDefined();
    const summary = JSON.parse(json!) as Summary;
    expect(summary.quick).toBe(true);
    for (const section of SECTIONS) {
      const entry = summary.sections[section.id];
      expect(entry?.error, `section ${section.id}`).toBeUndefined();
      const figures = Object.values(entry?.figures ?? {});
      expect(figures.length).toBeGreaterThan(0);
      for (const figure of figures) expect(Number.isFinite(figure.value)).toBe(true);
    }

    // Sizes are deterministic: they must match what the server lists in this process.
    const harness = await startHarness();
    try {
      const listed = await harness.mcp.listTools();
      const visible = {
        tools: listed.tools.map((tool: Tool) => ({ name: tool.name, title: tool.title, description: tool.description, inputSchema: tool.inputSchema })),
      };
      const sizes = summary.sections['tool_size']!.figures!;
      expect(sizes['tools_list_bytes']!.value).toBe(Buffer.byteLength(JSON.stringify(listed)));
      expect(sizes['model_visible_bytes']!.value).toBe(Buffer.byteLength(JSON.stringify(visible)));
      // McpServer adds `$schema` and `execution`, so our listing is strictly smaller.
      expect(sizes['tools_list_bytes']!.baseline).toBeGreaterThan(sizes['tools_list_bytes']!.value);
    } finally {
      await harness.close();
    }

    if (committedBefore) {
      expect(statSync(COMMITTED).mtimeMs).toBe(committedBefore.mtime);
      expect(readFileSync(COMMITTED, 'utf8')).toBe(committedBefore.text);
    }
  });
});
