/**
 * The report's sections, in order. Each is a function returning markdown, its
 * figure rows and a machine-readable summary (see Section in ./lib.ts).
 * Later sections (HTTP transports, auto-pagination, …) are appended here;
 * ids are stable keys in the JSON summary, titles are the `## N. Title` headings.
 */
import { coldStartSection } from './cold-start.js';
import { compactionSection } from './compaction.js';
import { httpSection } from './http.js';
import type { Section } from './lib.js';
import { memorySection } from './memory.js';
import { overheadSection } from './overhead.js';
import { peerSection } from './peer.js';
import { toolSizeSection } from './tool-size.js';
import { workflowsSection } from './workflows.js';

export const SECTIONS: readonly Section[] = [toolSizeSection, compactionSection, peerSection, overheadSection, coldStartSection, memorySection, workflowsSection, httpSection];
