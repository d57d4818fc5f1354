#!/usr/bin/env bash
# Long fuzzing runs (issue 11): the properties of test/fuzz.test.ts with many
# more inputs, one format at a time, each for a time budget.
#   bench/fuzz-long.sh [MINUTES_PER_FORMAT] [FORMAT...]
# Prints, per format, the runs, the slowest input and the heap growth; a failing
# input is shrunk by fast-check and printed as a counterexample, and its bytes are
# kept in bench/work/fuzz/failures/ as a corpus entry: move it to test/corpus/
# (see test/corpus/README.md) once fixed.
set -uo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-30}"; shift || true
formats=("$@")
if [ ${#formats[@]} -eq 0 ]; then
  formats=(tar gzip bzip2 xz zstd ar deb cpio cpio-odc zip elf rpm pyc gettext java-class json mtree pkginfo debian-control md5sums text)
fi
mkdir -p bench/work/fuzz
# Build once for streams started together (several formats in parallel): a second tsc
# would rewrite files the first stream is loading, and its batch would fail for that.
(
  flock 9
  if [ ! -f dist/.fuzz-built ] || [ -n "$(find src test -name '*.ts' -newer dist/.fuzz-built | head -1)" ]; then
    npx tsc -p . >/dev/null && touch dist/.fuzz-built
  fi
) 9>bench/work/fuzz/.build.lock
for f in "${formats[@]}"; do
  log="bench/work/fuzz/$f.log"
  start=$(date +%s)
  runs=0; failed=0
  # Batches of 200 inputs until the budget is spent, each with a fresh seed.
  while [ $(( $(date +%s) - start )) -lt $(( minutes * 60 )) ]; do
    if REPROVE_FUZZ_SAVE=bench/work/fuzz/failures REPROVE_FUZZ_RUNS=200 REPROVE_FUZZ_FORMAT="$f" node --test dist/test/fuzz.test.js >>"$log" 2>&1; then
      runs=$((runs + 1))
    else
      failed=$((failed + 1)); runs=$((runs + 1))
      echo "$f: a batch failed, see $log" >&2
    fi
  done
  slowest=$(grep -o '"slowestMs":[0-9]*' "$log" | cut -d: -f2 | sort -n | tail -1)
  heap=$(grep -o '"peakHeapGrowth":[-0-9]*' "$log" | cut -d: -f2 | sort -n | tail -1)
  inputs=$(grep -o '"runs":[0-9]*' "$log" | cut -d: -f2 | paste -sd+ | bc)
  echo "$f: $runs batches, $inputs comparisons, $failed failed batches, slowest ${slowest:-?} ms, peak heap growth $(( ${heap:-0} / 1048576 )) MiB"
done
