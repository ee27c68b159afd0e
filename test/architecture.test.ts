/**
 * The layering ARCHITECTURE.md promises, checked on the source: imports go one
 * way, the emulator stays out of the product, and the Workers-bound core uses
 * no Node-only API.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './helpers/spawn.js';

const SRC = join(PROJECT_ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

const files = sourceFiles(SRC).map((path) => {
  const text = readFileSync(path, 'utf8');
  const imports = [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/gm)].map((m) => m[1] ?? m[2] ?? '');
  return { file: relative(SRC, path), text, imports };
});

/** Layer of a src-relative path: which top-level area it belongs to. */
function area(file: string): string {
  const [first] = file.split('/');
  return file.includes('/') ? first! : file.replace(/\.ts$/, '');
}

function resolvedArea(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = relative(SRC, join(SRC, from, '..', specifier)).replace(/\.js$/, '.ts');
  return area(target);
}

const PORTABLE = ['wiring', 'server', 'tools', 'prompts', 'cloudflare', 'trim', 'log', 'redact', 'version', 'http', 'worker'];
/**
 * What each area may import from the project, read from ARCHITECTURE.md's table (between the imports
 * markers), so the document and this test cannot disagree.
 */
function allowedImportsFromArchitectureDoc(): Record<string, string[]> {
  const doc = readFileSync(join(PROJECT_ROOT, 'ARCHITECTURE.md'), 'utf8');
  const block = /<!-- imports:begin -->([\s\S]*?)<!-- imports:end -->/.exec(doc)?.[1] ?? '';
  const allowed: Record<string, string[]> = {};
  for (const line of block.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 4 || cells[1] === 'area' || cells[1]!.startsWith('-')) continue;
    allowed[cells[1]!] = cells[2]!.split(',').map((name) => name.replace(/\(.*\)/, '').trim()).filter(Boolean);
  }
  return allowed;
}

const ALLOWED = allowedImportsFromArchitectureDoc();

describe('architecture', () => {
  it('ARCHITECTURE.md lists every area of src/', () => {
    const areas = new Set(files.map(({ file }) => area(file)));
    expect(Object.keys(ALLOWED).sort()).toEqual([...areas].sort());
  });

  it('every import is one ARCHITECTURE.md allows: index → (node, transports, wiring); wiring → server → tools → (cloudflare, trim); transports import no server', () => {
    for (const { file, imports } of files) {
      for (const specifier of imports) {
        const target = resolvedArea(file, specifier);
        if (target === undefined) continue;
        expect(ALLOWED[area(file)], `${file} is in a known area`).toBeDefined();
        expect(ALLOWED[area(file)], `${file} imports ${specifier}`).toContain(target);
      }
    }
  });

  it('only the CLI entry imports the emulator, and only on demand', () => {
    for (const { file, text } of files) {
      if (file.startsWith('sandbox/')) continue;
      if (file === 'index.ts') {
        expect(text).toMatch(/await import\('\.\/sandbox\/emulator\.js'\)/);
        expect(text).not.toMatch(/^import[^\n]*sandbox/m);
      } else {
        expect(text, file).not.toMatch(/sandbox\//);
      }
    }
  });

  it('product code never imports test code', () => {
    for (const { file, imports } of files) for (const specifier of imports) expect(specifier, file).not.toMatch(/(^|\/)test\//);
  });

  it('the core that will run on Workers uses no Node-only API', () => {
    for (const { file, text, imports } of files) {
      if (!PORTABLE.includes(area(file))) continue;
      for (const specifier of imports) expect(specifier, `${file} imports ${specifier}`).not.toMatch(/^(node:|undici$|fs$|http$|path$)/);
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code, `${file} reads process or Buffer`).not.toMatch(/\bprocess\.|\bBuffer\b/);
    }
  });
});

// Spelled in pieces so that this file does not match its own rule.
const SHARED_FOLDER = ['..', 'shared', ''].join('/');

describe('self-contained', () => {
  it('nothing in src/, test/, bench/ or scripts/ reads outside the repository (a clone has no folder beside it)', () => {
    const roots = ['src', 'test', 'bench', 'scripts'].map((dir) => join(PROJECT_ROOT, dir));
    const offenders: string[] = [];
    for (const root of roots) {
      for (const path of sourceFiles(root)) {
        const text = readFileSync(path, 'utf8');
        // The developers' shared folder beside the clone, or a module specifier or file URL climbing
        // above the root (test payloads such as '../../user' are strings, not paths, and are not matched).
        const depth = relative(PROJECT_ROOT, path).split('/').length - 1;
        const climbs = [...text.matchAll(/(?:from|import\(|new URL\(|resolve\(|join\(PROJECT_ROOT,)\s*['"`]((?:\.\.\/)+)/g)].some(
          (m) => m[1]!.length / 3 > depth,
        );
        if (text.includes(SHARED_FOLDER) || climbs) offenders.push(relative(PROJECT_ROOT, path));
      }
    }
    expect(offenders).toEqual([]);
  });
});
