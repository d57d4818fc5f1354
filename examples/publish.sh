#!/usr/bin/env bash
# publish.sh [OUTDIR]: makes the "examples" distribution in OUTDIR (default
# examples/out), the way a distribution's build server would have:
#   OUTDIR/sources/NAME-VERSION.tar.gz   each package's source (same bytes on every run)
#   OUTDIR/published/NAME/               what the build server built from it, once
#   OUTDIR/distribution.json             the package list, in the API's SyncRequest shape
# Packages whose `requires` commands are missing here are left out.
#
# The build server's conditions differ from a rebuilder's the way real ones
# do; the recipe is the same. Here: a build directory under
# /tmp/reprove-publish-XXXXXX/build/, umask 0000, TZ=AOE12 ("anywhere on
# earth", UTC-12, as a POSIX zone string: no tzdata needed), LC_ALL=C, its own
# HOME (with the package's builder-home/ in it, if it has one), and the time it
# runs at. A rebuilder (check.sh, the worker) builds in another directory with
# umask 0022, TZ=UTC, LC_ALL=C.UTF-8, later. The zone and umask are ones no
# rebuilder is likely to have by accident: a rebuilder in New York, or with a
# user's umask 0002, still differs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out="${1:-$examples_dir/out}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -rf "$out/sources" "$out/published" "$out/distribution.json" "$out/logs/publish"
mkdir -p "$out/sources" "$out/published" "$out/logs/publish"

work="$(mktemp -d "${TMPDIR:-/tmp}/reprove-publish-XXXXXX")"
trap 'rm -rf "$work"' EXIT
export EX_UMASK=0000 EX_TZ=AOE12 EX_LANG=C
# Go's build cache does not change what is built; kept between runs for speed.
export GOCACHE="$out/cache/go-build"

list="$work/packages.tsv"
: > "$list"
pids=()
while IFS=$'\t' read -r name version expect cause requires; do
  # shellcheck disable=SC2086 # requires is a space-separated list
  missing="$(ex_missing $requires)"
  if [ -n "$missing" ]; then
    echo "publish: $name left out: $missing is not installed" >&2
    continue
  fi
  tarball="$out/sources/$name-$version.tar.gz"
  ex_pack_source "$name" "$version" "$tarball"
  home="$work/home/$name"
  mkdir -p "$home"
  if [ -d "$examples_dir/packages/$name/builder-home" ]; then cp -R "$examples_dir/packages/$name/builder-home/." "$home/"; fi
  (
    if ex_build "$name" "$version" "$tarball" "$work/build" "$home" "$out/published/$name" "$out/logs/publish/$name.log"; then
      printf '%s\t%s\n' "$name" "$version" > "$work/$name.ok"
    elif [ -n "$requires" ]; then
      echo "publish: $name left out: its build failed here (see $out/logs/publish/$name.log)" >&2
      rm -rf "$out/published/$name" "$tarball"
    else
      echo "publish: $name failed to build (see $out/logs/publish/$name.log):" >&2
      tail -n 5 "$out/logs/publish/$name.log" >&2
      touch "$work/$name.failed"
    fi
  ) &
  pids+=($!)
  # Two builds at a time.
  if [ "${#pids[@]}" -ge 2 ]; then wait "${pids[0]}" || true; pids=("${pids[@]:1}"); fi
done < <(ex_packages)
for p in "${pids[@]}"; do wait "$p" || true; done

if compgen -G "$work/*.failed" >/dev/null; then echo "publish: some packages failed to build" >&2; exit 1; fi
cat "$work"/*.ok > "$list" 2>/dev/null || true

node - "$out" "$list" "$examples_dir/packages" "$(ex_arch)" <<'NODE'
const fs = require('fs'), path = require('path'), crypto = require('crypto');
const [out, list, packages, architecture] = process.argv.slice(2);
const file = (p) => {
  const data = fs.readFileSync(p);
  return { url: `file://${p}`, sha256: crypto.createHash('sha256').update(data).digest('hex'), size: data.length };
};
const entries = fs.readFileSync(list, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t')).sort((a, b) => (a[0] < b[0] ? -1 : 1));
const dist = {
  distribution: 'examples',
  suite: 'main',
  architecture,
  packages: entries.map(([name, version]) => {
    const src = file(path.join(out, 'sources', `${name}-${version}.tar.gz`));
    const dir = path.join(out, 'published', name);
    return {
      name,
      version,
      backend: 'command',
      recipe: { script: fs.readFileSync(path.join(packages, name, 'recipe.sh'), 'utf8'), source: { url: src.url, sha256: src.sha256, strip: 1 } },
      artifacts: fs.readdirSync(dir).sort().map((n) => ({ name: n, ...file(path.join(dir, n)) })),
    };
  }),
};
fs.writeFileSync(path.join(out, 'distribution.json'), JSON.stringify(dist, null, 2) + '\n');
console.log(`publish: ${dist.packages.length} packages in ${path.join(out, 'distribution.json')}`);
NODE
