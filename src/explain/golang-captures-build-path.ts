// golang_compiler_captures_build_path_in_binary: without -trimpath, Go writes
// source paths into the binary (the pclntab, build info, panics).
import type { Detector } from './detector.js';
import { learnBuildPaths } from './captures-build-path.js';
import { artifactKey, goArtifacts } from './patterns.js';

export const golangCapturesBuildPath: Detector = {
  id: 'golang_compiler_captures_build_path_in_binary',
  title: 'The Go compiler recorded the build path',
  fix: 'Build with `go build -trimpath` (GOFLAGS=-trimpath).',
  detect(items) {
    const go = goArtifacts(items);
    if (go.size === 0) return [];
    const paths = learnBuildPaths(items);
    const trimpathOff = items.some((i) => i.change?.field === 'go buildinfo:-trimpath' || (i.change?.field.startsWith('go buildinfo:') && /\/[\w.-]+\//.test(`${i.change.value1 ?? ''}${i.change.value2 ?? ''}`)));
    if (paths.length === 0 && !trimpathOff) return [];
    const found = items.filter((i) => go.has(artifactKey(i)) && !(i.change && /^(NT_GO_BUILDID|go build id|NT_GNU_BUILD_ID)$/.test(i.change.field)));
    return found.length ? [{ items: found, confidence: 'medium' }] : [];
  },
};
