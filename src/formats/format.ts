// What a format module provides. Each file in src/formats/ exports one Format,
// and formats/registry.ts lists them in the order they are tried.
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import type { Difference } from '../compare/difference.js';

/** How many leading bytes recognition may look at. */
export const HEAD_SIZE = 4096;

/** Two members of the same name (or paired by similarity) in two containers. */
export interface MemberPair {
  a: Artifact;
  b: Artifact;
}

export interface Format {
  /** Short lower-case name, shown in reports and used by policies. */
  readonly name: string;
  /** Recognises the format by its first bytes (at most HEAD_SIZE). */
  magic?(head: Buffer, artifact: Artifact): boolean;
  /** Recognises the format by the member's name, when no format's magic matched. */
  readonly fileName?: RegExp;
  /**
   * Compares two artifacts of this format whose bytes differ. Returns the node for
   * the pair (source1 = a.name) with what differs, or null if this format sees no
   * difference (compare() then adds the binary fallback: different bytes are
   * never reported identical). Throws ReproveError when the bytes are unreadable.
   */
  compare(a: Artifact, b: Artifact, ctx: Context, depth: number): Promise<Difference | null>;
  /**
   * Told every member pair of a container before any of them is compared, so that a
   * format whose view comes from a slow program can run it once for many pairs (javap:
   * one JVM for a hundred class files instead of one each). Cheap and synchronous: it
   * only plans; compare() does the work, and must still work for a pair not planned.
   */
  prepare?(pairs: readonly MemberPair[], ctx: Context): void;
  /**
   * For compressions: the decompressed content, so that a stream recompressed
   * with another compressor (a .deb's data.tar.xz vs data.tar.zst) is still
   * compared by what it holds.
   */
  content?(a: Artifact, ctx: Context): Promise<Artifact>;
}

/** The formats an engine knows, in the order they are tried, and how an artifact is recognised. */
export interface FormatRegistry {
  readonly formats: readonly Format[];
  /** The format of an artifact: by magic bytes first, by name second, else `fallback`. */
  recognise(a: Artifact): Promise<Format>;
  /** Bytes no format reads: the hex dump diff. */
  readonly fallback: Format;
}
