/**
 * npm run bundle: the one-click MCP Bundle (.mcpb) for Claude Desktop.
 *
 * Stages only what runs: dist/ built afresh by scripts/build.ts (esbuild, every package bundled into
 * dist/index.js and its chunks, so the bundle holds no node_modules at all), manifest.json, icon.png and a
 * package.json without scripts, dependencies or dev dependencies; then packs the stage with @anthropic-ai/mcpb,
 * which validates the manifest. Nothing is fetched.
 *
 *   npm run bundle [-- --out path/to/file.mcpb] [--dist path/to/built]
 *
 * --dist copies an already built dist/ (scripts/build.ts output) instead of building (the tests reuse the one
 * build of their run).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packExtension } from '@anthropic-ai/mcpb';
import { buildDist } from './build.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface PackageJson {
  name: string;
  version: string;
  description?: string;
  type?: string;
  license?: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)]));
}

function readPackageJson(): PackageJson {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
}

/** Source maps and declarations: never loaded by node. */
const NOT_RUN = /\.(?:[cm]?ts|map|tsbuildinfo)$/;

export interface BundleResult {
  file: string;
  bytes: number;
  /** Files under dist/ (the entry and its chunks). */
  distFiles: number;
}

export async function buildBundle(outFile: string, compiledDist?: string): Promise<BundleResult> {
  const pkg = readPackageJson();
  const stage = mkdtempSync(join(tmpdir(), 'cloudflare-users-mcp-bundle-'));
  try {
    if (compiledDist === undefined) await buildDist(join(stage, 'dist'));
    else {
      if (!existsSync(join(compiledDist, 'index.js'))) throw new Error(`--dist ${compiledDist} holds no index.js`);
      cpSync(compiledDist, join(stage, 'dist'), { recursive: true, filter: (source) => !NOT_RUN.test(source) });
    }
    // A bundled dist/ imports no package: a bare import left in it would fail in the bundle, which has no node_modules.
    for (const file of listFiles(join(stage, 'dist'))) {
      const bare = /(?:\bimport\s*\(\s*|[\s}*]from\s*|\bimport\s*)["']((?!node:)[@a-z0-9][\w.@/-]*)["']/.exec(readFileSync(file, 'utf8'));
      if (bare) throw new Error(`${relative(stage, file)} imports the package ${bare[1]}: build dist/ with scripts/build.ts (npm run build), which bundles every package`);
    }
    for (const file of ['manifest.json', 'icon.png']) cpSync(join(ROOT, file), join(stage, file));
    // "type": "module" is what lets node load dist/ as ESM; scripts and dependencies do not belong in a bundle
    // whose dist/ already holds every package it runs.
    const runtimePackage = {
      name: pkg.name,
      version: pkg.version,
      description: pkg.description,
      type: pkg.type,
      license: pkg.license,
      engines: pkg.engines,
    };
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(runtimePackage, null, 2)}\n`);
    const distFiles = listFiles(join(stage, 'dist')).length;
    mkdirSync(resolve(outFile, '..'), { recursive: true });
    const packed = await packExtension({ extensionPath: stage, outputPath: outFile, silent: true });
    if (!packed) throw new Error('mcpb pack failed (run `npx mcpb validate manifest.json` for details)');
    return { file: outFile, bytes: statSync(outFile).size, distFiles };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, dist: { type: 'string' } }, strict: true });
  const pkg = readPackageJson();
  const outFile = resolve(values.out ?? join(ROOT, `${pkg.name}-${pkg.version}.mcpb`));
  const started = Date.now();
  const result = await buildBundle(outFile, values.dist === undefined ? undefined : resolve(values.dist));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`${result.file}\n`);
  process.stderr.write(`bundle: ${(result.bytes / 1024 / 1024).toFixed(2)} MiB, dist/ of ${result.distFiles} files and no node_modules, ${seconds} s\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bundle: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
