/**
 * npm run build: the published entry, bundled with esbuild into dist/ (dist/index.js + dist/chunks/*.js).
 *
 * ESM with code splitting, every package bundled (dist/ runs without node_modules): start-up parses only what
 * stdio and tools/list need. What else the CLI can do sits in chunks loaded on demand, where src/ imports it
 * dynamically: the HTTP transports (hono, @hono/node-server, jose, src/http), the emulator (--sandbox), the
 * shell commands (call, tools, init) and undici (first upstream request). `npm run typecheck` checks the types;
 * esbuild only strips them.
 *
 *   npm run build [-- --outdir path] [--metafile path/to/meta.json]
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Metafile } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * CommonJS packages (undici, ajv, …) bundled into ESM still call `require` for Node's built-ins; each chunk
 * gets a `require` of its own, made from its URL.
 */
const REQUIRE_SHIM = "import { createRequire as __cfCreateRequire } from 'node:module'; const require = __cfCreateRequire(import.meta.url);";

export interface BuildResult {
  outdir: string;
  /** Bytes of dist/index.js and of everything it imports statically: what a stdio start parses. */
  startupBytes: number;
  totalBytes: number;
  files: number;
  metafile: Metafile;
}

/** The files a start loads: the entry and its static imports, transitively (dynamic imports excluded). */
export function staticClosure(metafile: Metafile, entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imported of metafile.outputs[file]?.imports ?? []) if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
  };
  visit(entry);
  return [...seen];
}

export async function buildDist(outdir = join(ROOT, 'dist')): Promise<BuildResult> {
  // A fresh folder: tsc's old per-file output (or older chunks) must not linger next to the bundle. Never the
  // project itself or a folder that holds it (`--outdir .` must not delete the sources).
  const target = resolve(outdir);
  if (target === ROOT || !relative(target, ROOT).startsWith('..') || existsSync(join(target, 'src', 'index.ts'))) {
    throw new Error(`refusing to build into ${outdir}: it is, or holds, the project; pick an empty or build-only folder`);
  }
  if (existsSync(outdir)) rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { index: 'src/index.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'bundle',
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: REQUIRE_SHIM },
    // The entry's `#!/usr/bin/env node` is kept by esbuild (the bin runs it directly).
    legalComments: 'none',
    sourcemap: false,
    minifySyntax: true,
    minifyWhitespace: true,
    // Readable names in stack traces and error messages.
    minifyIdentifiers: false,
    metafile: true,
    logLevel: 'warning',
  });
  const metafile = result.metafile;
  const outputs = Object.entries(metafile.outputs);
  const entry = relative(ROOT, join(outdir, 'index.js')).split('\\').join('/');
  const startup = staticClosure(metafile, entry);
  // dist/ is ESM whatever the package.json next to it says (a bundle stage writes its own).
  writeFileSync(join(outdir, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
  return {
    outdir,
    startupBytes: startup.reduce((sum, file) => sum + (metafile.outputs[file]?.bytes ?? 0), 0),
    totalBytes: outputs.reduce((sum, [, output]) => sum + output.bytes, 0),
    files: outputs.length,
    metafile,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { outdir: { type: 'string' }, metafile: { type: 'string' } }, strict: true });
  const started = Date.now();
  const result = await buildDist(values.outdir === undefined ? undefined : resolve(values.outdir));
  if (values.metafile) writeFileSync(resolve(values.metafile), JSON.stringify(result.metafile));
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  process.stderr.write(
    `build: ${relative(process.cwd(), result.outdir) || '.'}/index.js + ${result.files - 1} chunks, ${kib(result.totalBytes)} in all, ` +
      `${kib(result.startupBytes)} loaded at start, ${Date.now() - started} ms\n`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
