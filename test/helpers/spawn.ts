/** Spawning the real CLI: from source through tsx, or the built dist/. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SOURCE_ENTRY = ['--import', 'tsx', 'src/index.ts'];
export const DIST_ENTRY = ['dist/index.js'];

/** A clean environment: nothing from the developer's shell (no real credentials) leaks into a test. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, NODE_NO_WARNINGS: '1', ...extra };
}

export interface Spawned {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves with the first stderr JSON record matching `predicate`. */
  waitForLog(predicate: (record: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export function spawnServer(args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitForLog: Spawned['waitForLog'] = (predicate, timeoutMs = 20_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line; stderr so far:\n${stderr}`)), timeoutMs);
      const check = () => {
        for (const line of stderr.split('\n')) {
          if (!line.startsWith('{')) continue;
          try {
            const record = JSON.parse(line) as Record<string, unknown>;
            if (predicate(record)) {
              clearTimeout(timer);
              child.stderr.off('data', check);
              resolve(record);
              return;
            }
          } catch {
            // a partial line: wait for more
          }
        }
      };
      child.stderr.on('data', check);
      check();
    });
  return { child, stdout: () => stdout, stderr: () => stderr, exited, waitForLog };
}

export async function stop(spawned: Spawned): Promise<number | null> {
  if (spawned.child.exitCode === null) spawned.child.kill('SIGTERM');
  return spawned.exited;
}
