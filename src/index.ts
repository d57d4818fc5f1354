// reprove as a library: the one entry point that the command line, the rebuilder
// service's worker and daemon, and any other program embedding the engine import.
// The engine's default formats are wired here, once; everything a comparison opens
// belongs to that comparison, so many can run at once in one long-lived process.
import type { Writable } from 'node:stream';
import { compare as compareWith, type CompareResult, type EngineOptions } from './compare/compare.js';
import type { CompareOptions } from './compare/context.js';
import type { Difference } from './compare/difference.js';
import type { FormatRegistry } from './formats/format.js';
import { defaultFormats } from './formats/registry.js';
import { presenters, type PresenterName } from './present/registry.js';
import { writeChunks, writeChunksTo } from './present/write.js';
import { verifyPair as verifyPairWith, verifySet as verifySetWith, type ArtifactVerdict, type SetVerdict, type VerifyOptions as EngineVerifyOptions } from './verdict/verify.js';

/** Options of compare(): limits, excludes, progress, an AbortSignal, the temporary directory, a diagnostics callback; `formats` replaces the default registry. */
export type Options = CompareOptions & { formats?: FormatRegistry };
export type VerifyOptions = Omit<EngineVerifyOptions, 'formats'> & { formats?: FormatRegistry };

const withFormats = <T extends { formats?: FormatRegistry }>(o: T): T & EngineOptions => ({ ...o, formats: o.formats ?? defaultFormats });

/** Compares two files or directories; `difference` is null when they are identical. Rejects with AbortError when `signal` aborts. */
export function compare(path1: string, path2: string, options: Options = {}): Promise<CompareResult> {
  return compareWith(path1, path2, withFormats(options));
}

/** The verdict for one published/rebuilt pair, judged under the policies that apply and explained. */
export function verifyPair(published: string, rebuilt: string, options: VerifyOptions = {}): Promise<ArtifactVerdict> {
  return verifyPairWith(published, rebuilt, withFormats(options));
}

/** Pairs two sets of artifacts by file name (two single ones whatever their names) and verifies each pair. */
export function verifySet(published: string[], rebuilt: string[], options: VerifyOptions = {}): Promise<SetVerdict> {
  return verifySetWith(published, rebuilt, withFormats(options));
}

/** Writes a report of `difference` in one of the formats (text, json, html, markdown) to a stream or a file path ("-": standard output). */
export async function writeReport(difference: Difference, format: PresenterName, out: Writable | string): Promise<void> {
  const chunks = presenters[format](difference);
  if (typeof out === 'string') return writeChunks(chunks, out);
  return writeChunksTo(chunks, out, false);
}

export type { CompareResult, Difference };
export type { CompareOptions, Diagnostic, Progress } from './compare/context.js';
export type { DifferenceKind, FieldChange, IssueTag } from './compare/difference.js';
export { defaultLimits, type Limits } from './compare/limits.js';
export { AbortError, LimitError, ReproveError, type ErrorKind } from './compare/errors.js';
export type { Format, FormatRegistry, MemberPair } from './formats/format.js';
export { defaultFormats } from './formats/registry.js';
export { judge, type Evidence, type Judgement } from './verdict/judge.js';
export { builtinPolicies, loadPolicyFile, mergePolicies, parsePolicies, policiesFor, PolicyError, resolvePolicies, type FieldRule, type NodeRule, type Policy } from './verdict/policy.js';
export { verdictData, verdictJson, type ArtifactVerdict, type SetVerdict, type Verdict } from './verdict/verify.js';
export { annotate, explain, type Explanation, type Finding, type Finding as Issue } from './explain/explain.js';
export type { Detector } from './explain/detector.js';
export { detectors } from './explain/registry.js';
export { presenters, type PresenterName } from './present/registry.js';
export { renderText } from './present/text.js';
export { renderJson, parseJsonReport } from './present/json.js';
export { renderHtml } from './present/html.js';
export { renderMarkdown } from './present/markdown.js';
