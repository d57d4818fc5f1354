// ocaml_captures_build_path: OCaml's typed trees and libraries (.cmt, .cmti,
// .cma, .cmx, .cmxa, .cmxs) keep the directory they were built in.
import type { Detector } from './detector.js';
import { learnBuildPaths } from './captures-build-path.js';

const OCAML = /\.(cmti?|cm[ao]|cmx[as]?|cmi)$/;

export const ocamlCapturesBuildPath: Detector = {
  id: 'ocaml_captures_build_path',
  title: 'OCaml build artifacts keep the build path',
  fix: 'Build in a fixed path, or set BUILD_PATH_PREFIX_MAP (honoured by OCaml >= 4.08) to map the build directory away.',
  detect(items) {
    const found = items.filter((i) => i.artifact.some((p) => OCAML.test(p)));
    if (found.length === 0) return [];
    return [{ items: found, confidence: learnBuildPaths(items).length ? 'high' : 'low' }];
  },
};
