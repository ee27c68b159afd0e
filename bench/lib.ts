/**
 * Shared vocabulary of the bench: what a section returns, how a figure row is
 * judged and printed, and the small statistics the sections need.
 *
 * A figure is always shown next to a baseline measured in the same run (these
 * machines are noisy), the ratio between the two, the goal and PASS/MISS.
 */
import type { Emulator } from '../src/sandbox/emulator.js';
import type { StdioPeer } from './peer.js';
import type { DirectClient, InProcessServer } from './setup.js';

export interface Figure {
  /** Stable machine key, e.g. `tools_list_bytes`. */
  id: string;
  label: string;
  value: number;
  /** How `value` (and the baseline value) are printed. */
  unit: Unit;
  baseline?: { label: string; value: number };
  /** value ÷ baseline unless the section says otherwise. */
  ratio?: number;
  /** Human goal text; absent when the figure is informational. */
  goal?: string;
  /** undefined: no goal. */
  pass?: boolean;
  /** Generated diagnosis, shown under "Misses and why" when pass === false. */
  why?: string;
}

export type Unit = 'bytes' | 'ms' | 'MB' | 'ratio' | 'count' | 'yes/no';

export interface SectionResult {
  /** Details under the section heading (the figure table is printed by the runner). */
  markdown: string;
  figures: Figure[];
  /** Machine-readable numbers behind the markdown. */
  summary: Record<string, unknown>;
}

export interface BenchContext {
  quick: boolean;
  emulator: Emulator;
  /** createServer + InMemoryTransport + SDK Client, real clock. */
  inProcess: InProcessServer;
  /** undici fetch to the emulator on the server's Agent settings (the per-call baseline). */
  direct: DirectClient;
  /** Builds dist/ once if missing or older than src/; resolves to how it went. */
  ensureDist(): Promise<DistStatus>;
  /** The peer (bench/peer.ts), spawned over stdio once on first use against the same emulator; closed by the runner. */
  bridge(): Promise<StdioPeer>;
  progress(message: string): void;
}

export interface DistStatus {
  present: boolean;
  /** 'fresh' | 'built' | 'build failed: …' */
  note: string;
}

export interface Section {
  /** Heading text after the number, e.g. "Tool-definition size". Later sections append here. */
  title: string;
  id: string;
  run(ctx: BenchContext): Promise<SectionResult>;
}

// ---------- statistics ----------

/** Nearest-rank percentile of unsorted samples (p in 0..100). */
/** Fisher-Yates with the given random source (a fixed seed keeps runs comparable): a fresh order each round. */
export function shuffleInPlace<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

export function mean(samples: readonly number[]): number {
  return samples.length === 0 ? Number.NaN : samples.reduce((sum, x) => sum + x, 0) / samples.length;
}

// ---------- formatting ----------

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function fmtInt(n: number): string {
  return intFormat.format(n);
}

export function fmtNum(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  return ms >= 100 ? `${fmtInt(ms)} ms` : ms >= 10 ? `${fmtNum(ms, 1)} ms` : `${fmtNum(ms, 3)} ms`;
}

export function fmtBytes(bytes: number): string {
  return `${fmtInt(bytes)} B`;
}

export function fmtValue(value: number, unit: Unit): string {
  switch (unit) {
    case 'bytes':
      return fmtBytes(value);
    case 'ms':
      return fmtMs(value);
    case 'MB':
      return `${fmtNum(value, 1)} MB`;
    case 'ratio':
      return fmtNum(value, 3);
    case 'count':
      return fmtInt(value);
    case 'yes/no':
      return value ? 'yes' : 'no';
  }
}

export function fmtRatio(ratio: number | undefined): string {
  if (ratio === undefined) return '—';
  return `${fmtNum(ratio, ratio >= 10 ? 1 : 2)}×`;
}

export function verdict(pass: boolean | undefined): string {
  return pass === undefined ? '—' : pass ? 'PASS' : '**MISS**';
}

/** A markdown table; cells are escaped for pipes. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rule = header.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  return [header, rule, ...rows].map((row) => `| ${row.map(cell).join(' | ')} |`).join('\n');
}

export function figureTable(figures: readonly Figure[]): string {
  return table(
    ['figure', 'value', 'baseline (same run)', 'ratio', 'goal', 'result'],
    figures.map((f) => [
      f.label,
      fmtValue(f.value, f.unit),
      f.baseline ? `${fmtValue(f.baseline.value, f.unit)} (${f.baseline.label})` : '—',
      fmtRatio(f.ratio),
      f.goal ?? '—',
      verdict(f.pass),
    ]),
    ['l', 'r', 'l', 'r', 'l', 'l'],
  );
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
