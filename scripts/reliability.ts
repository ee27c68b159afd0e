/**
 * Writes RELIABILITY.md: the fault-injection matrix (test/hardening/matrix.ts)
 * run against the local emulator, rendered from what was observed.
 *
 *   npx tsx scripts/reliability.ts            # write RELIABILITY.md
 *   npx tsx scripts/reliability.ts --strict   # also exit 1 when a cell differs from the expectation
 *
 * Everything binds 127.0.0.1; nothing leaves the machine.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FAULT_MATRIX, TOOL_KINDS } from '../test/hardening/matrix.js';
import { renderReliability, runMatrix, startMatrixHarnesses } from '../test/hardening/run-matrix.js';

const target = fileURLToPath(new URL('../RELIABILITY.md', import.meta.url));
const strict = process.argv.includes('--strict');

const started = performance.now();
const harnesses = await startMatrixHarnesses();
let exitCode = 0;
try {
  const rows = await runMatrix(harnesses, FAULT_MATRIX);
  writeFileSync(target, renderReliability(rows, new Date()));
  const cells = rows.flatMap((row) => TOOL_KINDS.map((kind) => row.cells[kind]));
  const mismatches = cells.filter((cell) => cell.problems.length > 0);
  process.stdout.write(`wrote ${target}: ${rows.length} faults × ${TOOL_KINDS.length} tool kinds in ${Math.round(performance.now() - started)} ms\n`);
  for (const cell of mismatches) process.stdout.write(`  differs: ${cell.observation.kind} × ${cell.observation.caseId}: ${cell.problems.join('; ')}\n`);
  if (mismatches.length > 0 && strict) exitCode = 1;
} finally {
  await harnesses.close();
}
process.exit(exitCode);
