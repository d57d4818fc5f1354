#!/usr/bin/env bash
# check.sh [OUTDIR]: runs publish.sh (unless NO_PUBLISH=1 and OUTDIR already
# has a distribution.json), rebuilds every published package once more the way
# a worker does (another build directory, umask 0022, TZ=UTC, LC_ALL=C.UTF-8,
# a clean HOME, later) into OUTDIR/rebuilt/NAME/, verifies each with
# `reprove verify` and prints name, expected verdict, verdict, causes. Exits
# non-zero when a verdict is not the one meta.json expects, or an expected
# cause is not named. Needs `npm ci && npm run build` first (runs the build if
# dist/bin/main.js is missing).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
repo="$(cd "$examples_dir/.." && pwd)"
out="${1:-$examples_dir/out}"
if [ "${NO_PUBLISH:-}" != 1 ] || [ ! -f "$out/distribution.json" ]; then bash "$examples_dir/publish.sh" "$out"; fi
out="$(cd "$out" && pwd)"
[ -f "$repo/dist/bin/main.js" ] || (cd "$repo" && npm run build --silent)

rm -rf "$out/rebuilt" "$out/verify" "$out/logs/rebuild"
mkdir -p "$out/rebuilt" "$out/verify" "$out/logs/rebuild"
work="$(mktemp -d "${TMPDIR:-/tmp}/reprove-rebuild-XXXXXXXXXX")"
trap 'rm -rf "$work"' EXIT
export EX_UMASK=0022 EX_TZ=UTC EX_LANG=C.UTF-8
export GOCACHE="$out/cache/go-build"
# A rebuild comes after the build it checks: at least the next second.
sleep 1

# rebuild_and_verify NAME VERSION: writes $work/NAME.result as VERDICT<TAB>CAUSES.
rebuild_and_verify() {
  local name="$1" version="$2" json="$out/verify/$1.json"
  if ! ex_build "$name" "$version" "$out/sources/$name-$version.tar.gz" "$work/src" "$work/home/$name" "$out/rebuilt/$name" "$out/logs/rebuild/$name.log"; then
    printf 'FTBFS\t-\n' > "$work/$name.result"
    return
  fi
  node "$repo/dist/bin/main.js" verify --json - "$out/published/$name" "$out/rebuilt/$name" > "$json" 2> "$out/logs/rebuild/$name.verify.log" || true
  node -e '
    const fs = require("fs");
    let r;
    try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { console.log("ERROR\t-"); process.exit(0); }
    const ids = [];
    for (const a of r.artifacts ?? []) for (const i of a.issues ?? []) { const id = i.id + (i.ignored ? " (ignored)" : ""); if (!ids.includes(id)) ids.push(id); }
    if ((r.missing ?? []).length) ids.push("missing: " + r.missing.join(" "));
    if ((r.extra ?? []).length) ids.push("extra: " + r.extra.join(" "));
    if ((r.artifacts ?? []).some((a) => (a.unexplained ?? []).length)) ids.push("(unexplained differences)");
    console.log(`${r.verdict}\t${ids.join(", ") || "-"}`);' "$json" > "$work/$name.result"
}

names=()
pids=()
while IFS=$'\t' read -r name version; do
  names+=("$name")
  rebuild_and_verify "$name" "$version" &
  pids+=($!)
  if [ "${#pids[@]}" -ge 2 ]; then wait "${pids[0]}" || true; pids=("${pids[@]:1}"); fi
done < <(node -e 'for (const p of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).packages) console.log(`${p.name}\t${p.version}`)' "$out/distribution.json")
for p in "${pids[@]}"; do wait "$p" || true; done

declare -A expect cause
while IFS=$'\t' read -r name version e c requires; do expect[$name]="$e"; cause[$name]="$c"; done < <(ex_packages)

bad=0
printf '%-14s %-15s %-15s %-4s %s\n' PACKAGE EXPECTED GOT OK CAUSES
for name in "${names[@]}"; do
  IFS=$'\t' read -r verdict causes < "$work/$name.result"
  ok=yes
  [ "$verdict" = "${expect[$name]}" ] || ok=NO
  want="${cause[$name]}"
  if [ "$want" != - ]; then
    case ", $causes," in *", $want,"* | *", $want (ignored),"*) ;; *) ok=NO ;; esac
  fi
  [ "$ok" = yes ] || bad=1
  printf '%-14s %-15s %-15s %-4s %s\n' "$name" "${expect[$name]}" "$verdict" "$ok" "$causes"
  [ "$ok" = yes ] || echo "  expected cause: $want; see $out/verify/$name.json and $out/logs/rebuild/$name.log" >&2
done
exit "$bad"
