/**
 * npm run bundle: the one-click MCP Bundle (.mcpb) for Claude Desktop.
 *
 * Stages only what runs (src/ compiled afresh, manifest.json, icon.png, a package.json without scripts or
 * dev dependencies, and the production dependencies exactly as installed, listed by `npm ls --omit=dev`),
 * then packs the stage with @anthropic-ai/mcpb, which validates the manifest. Nothing is fetched: the
 * dependencies are copied from node_modules.
 *
 *   npm run bundle [-- --out path/to/file.mcpb] [--dist path/to/compiled]
 *
 * --dist copies an already compiled src/ instead of compiling (the tests reuse the one build of their run).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packExtension } from '@anthropic-ai/mcpb';

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

function readPackageJson(): PackageJson {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
}

/** Paths (relative to the root, e.g. node_modules/a/node_modules/b) of every installed production package. */
export function productionPackagePaths(): string[] {
  // npm ls reads node_modules and the lockfile only; it never asks the registry.
  const listing = execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: ROOT,
    encoding: 'utf8',
    shell: process.platform === 'win32',
    maxBuffer: 16 * 1024 * 1024,
  });
  const root = resolve(ROOT);
  return [
    ...new Set(
      listing
        .split(/\r?\n/)
        .filter(Boolean)
        .map((path) => relative(root, path))
        .filter((path) => path.startsWith(`node_modules${sep}`)),
    ),
  ].sort();
}

/** Compiles src/ into the stage (not into dist/, which tests and developers share). */
function compile(stage: string): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(stage, 'dist'), '--sourceMap', 'false'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

/** TypeScript sources and declarations, source maps: shipped by packages for editors, never loaded by node. */
const NOT_RUN = /\.(?:[cm]?ts|map|tsbuildinfo)$/;

/** Copies each package on its own, without its nested node_modules (those are listed, and copied, separately). */
function copyPackages(stage: string, packages: readonly string[]): void {
  for (const packagePath of packages) {
    const from = join(ROOT, packagePath);
    const nested = join(from, 'node_modules');
    cpSync(from, join(stage, packagePath), { recursive: true, filter: (source) => source !== nested && !NOT_RUN.test(source) });
  }
}

export interface BundleResult {
  file: string;
  bytes: number;
  packages: number;
}

export async function buildBundle(outFile: string, compiledDist?: string): Promise<BundleResult> {
  const pkg = readPackageJson();
  const stage = mkdtempSync(join(tmpdir(), 'cloudflare-users-mcp-bundle-'));
  try {
    if (compiledDist === undefined) compile(stage);
    else {
      if (!existsSync(join(compiledDist, 'index.js'))) throw new Error(`--dist ${compiledDist} holds no index.js`);
      cpSync(compiledDist, join(stage, 'dist'), { recursive: true, filter: (source) => !NOT_RUN.test(source) });
    }
    for (const file of ['manifest.json', 'icon.png']) cpSync(join(ROOT, file), join(stage, file));
    // "type": "module" is what lets node load dist/ as ESM; scripts and dev dependencies do not belong in a bundle.
    const runtimePackage = {
      name: pkg.name,
      version: pkg.version,
      description: pkg.description,
      type: pkg.type,
      license: pkg.license,
      engines: pkg.engines,
      dependencies: pkg.dependencies,
    };
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(runtimePackage, null, 2)}\n`);
    const packages = productionPackagePaths();
    copyPackages(stage, packages);
    for (const name of Object.keys(pkg.devDependencies ?? {})) {
      if (existsSync(join(stage, 'node_modules', name))) throw new Error(`dev dependency ${name} reached the bundle stage`);
    }
    mkdirSync(resolve(outFile, '..'), { recursive: true });
    const packed = await packExtension({ extensionPath: stage, outputPath: outFile, silent: true });
    if (!packed) throw new Error('mcpb pack failed (run `npx mcpb validate manifest.json` for details)');
    return { file: outFile, bytes: statSync(outFile).size, packages: packages.length };
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
  process.stderr.write(`bundle: ${(result.bytes / 1024 / 1024).toFixed(1)} MiB, ${result.packages} production packages, ${seconds} s\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bundle: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
