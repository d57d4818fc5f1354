// What a known-cause detector is. Each file in src/explain/ exports one, and
// registry.ts lists them. A detector claims the evidence items it explains;
// line-pattern detectors also offer a normaliser, so a changed line that shows
// two causes at once (a path and a date) is explained by both together.
import type { EvidenceItem } from './evidence.js';

export type Confidence = 'high' | 'medium' | 'low';

export interface Claim {
  items: EvidenceItem[];
  confidence: Confidence;
  /** Replaces the detector's id when one detector names several related causes (per archive format, say). */
  id?: string;
}

export interface Detector {
  /** The cause's id in Debian's reproducible-builds taxonomy where it has one. */
  id: string;
  title: string;
  fix: string;
  /** Claims evidence items among `items` (all items of the report). */
  detect?(items: EvidenceItem[]): Claim[];
  /** Rewrites what the cause varies in a line ("/build/a" -> "<BUILD_PATH>"), for changed line pairs. */
  normalise?(line: string, context: LineContext): string;
}

export interface LineContext {
  /** Path prefixes seen to differ between the two sides anywhere in the report (build directories). */
  buildPaths: [string, string][];
}
