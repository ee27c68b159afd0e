/**
 * One built copy of src/ per test run, shared by every test file that spawns the CLI many times and by the
 * bundle test: the published build itself (scripts/build.ts, esbuild, packages bundled, lazy chunks), so those
 * tests run what users run, and a start costs less than half of one through tsx. Kept in .vitest-cache/
 * under a hash of the sources and the lockfile, so an edit gives a fresh build; a lock directory makes parallel
 * workers wait for one build instead of each running their own. dist/ is left alone (the stdio test rebuilds it).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildDist } from '../../scripts/build.js';
import { PROJECT_ROOT } from './spawn.js';

const CACHE = join(PROJECT_ROOT, '.vitest-cache');
const STALE_LOCK_MS = 180_000;
const STALE_BUILD_MS = 60 * 60_000;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : [path];
  });
}

function sourceHash(): string {
  const hash = createHash('sha256');
  const extra = ['tsconfig.json', 'package-lock.json', 'scripts/build.ts'].map((file) => join(PROJECT_ROOT, file)).filter((path) => existsSync(path));
  for (const path of [...sourceFiles(join(PROJECT_ROOT, 'src')), ...extra].sort()) {
    hash.update(relative(PROJECT_ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let built: Promise<string> | undefined;

/** The folder holding the built CLI (index.js and its chunks, as `npm run build` lays out dist/); built on first use. */
export function compiledCli(): Promise<string> {
  built ??= compile();
  return built;
}

async function compile(): Promise<string> {
  const target = join(CACHE, `cli-build-${sourceHash()}`);
  const ready = () => existsSync(join(target, 'index.js'));
  if (ready()) return target;
  mkdirSync(CACHE, { recursive: true });
  const lock = `${target}.lock`;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (ready()) return target;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile: try again
      }
      await sleep(200);
    }
  }
  try {
    if (!ready()) {
      const staging = `${target}.tmp-${process.pid}`;
      await buildDist(staging).catch((error: unknown) => {
        throw new Error(`building src/ for the tests failed:\n${error instanceof Error ? error.message : String(error)}`);
      });
      renameSync(staging, target);
      // Builds of older sources: removed once nobody can still be using them (another run may be, for a while).
      for (const name of readdirSync(CACHE)) {
        const path = join(CACHE, name);
        if (!name.startsWith('cli-build-') || path === target) continue;
        try {
          if (Date.now() - statSync(path).mtimeMs > STALE_BUILD_MS) rmSync(path, { recursive: true, force: true });
        } catch {
          // removed by another run meanwhile
        }
      }
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return target;
}

/** argv for `node` to run the built CLI's entry. */
export async function compiledEntry(): Promise<string[]> {
  return [join(await compiledCli(), 'index.js')];
}
