// golang_build_id (Debian: randomness_in_binaries_generated_by_golang): the Go
// build ID, in its ELF note and at the start of the text, differs.
import type { Detector } from './detector.js';
import { changesOf, linesMatching } from './patterns.js';

export const golangBuildId: Detector = {
  id: 'golang_build_id',
  title: 'The Go build ID differs',
  fix: 'Build with `go build -trimpath -ldflags=-buildid=` (or set GOFLAGS="-trimpath -ldflags=-buildid="): the build ID hashes the inputs, including the build directory.',
  detect(items) {
    const found = [...changesOf(items, ['NT_GO_BUILDID', 'go build id']), ...linesMatching(items, /Go build ID: ?"?[\w/=+-]+/)];
    return found.length ? [{ items: found, confidence: 'high' }] : [];
  },
};
