#!/usr/bin/env bash
# Checks that a change left reports alone: runs two builds of reprove (the
# current one and one at another commit) on the bench's Debian pairs and on
# the RPM and Arch pairs it builds, and compares their JSON, text and HTML
# reports byte for byte. Prints one line per pair; exits 1 when any differs.
# Usage: bench/same-reports.sh BASE_COMMIT   (after npm run build; downloads with apt-get)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
base="${1:?usage: bench/same-reports.sh BASE_COMMIT}"
work="$here/work/same-reports"
debs="$here/work/debs"
mkdir -p "$work" "$debs"

# The other build: a worktree of BASE_COMMIT with its own node_modules and dist.
old="$work/base-$(git -C "$root" rev-parse --short "$base")"
if [ ! -x "$old/dist/bin/main.js" ]; then
  rm -rf "$old"
  git -C "$root" worktree add -f --detach "$old" "$base" >/dev/null
  (cd "$old" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null && npm run build --silent >/dev/null)
fi

deb() { # NAME VERSION -> path of the .deb, downloaded once (the layout bench.mjs uses)
  local dir="$debs/$(printf '%s_%s' "$1" "$2" | tr -c 'A-Za-z0-9._+~\n-' '_')"
  if ! ls "$dir"/*.deb >/dev/null 2>&1; then
    mkdir -p "$dir"
    (cd "$dir" && apt-get -o APT::Sandbox::User=root download "$1=$2" >/dev/null)
  fi
  ls "$dir"/*.deb
}

pairs=()
while IFS=$'\t' read -r name spec; do pairs+=("$name	$spec"); done < <(cd "$root" && node bench/bench.mjs --list)

# The difference tree of a JSON report without the explanation on its root, as one line's digest.
tree_of() {
  python3 -c 'import json,sys,hashlib; d=json.load(open(sys.argv[1])); [d.pop(k,None) for k in ("reprove_issues","reprove_unexplained")]; print(hashlib.sha256(json.dumps(d,sort_keys=True).encode()).hexdigest())' "$1" 2>/dev/null || echo unreadable
}

status=0
for line in "${pairs[@]}"; do
  name="${line%%	*}"
  spec="${line#*	}"
  a="${spec%% vs *}"
  b="${spec#* vs }"
  case "$a" in
    *=*) ;;
    *) continue ;; # the built pairs: bench.mjs builds them; see its --rebuild
  esac
  pa="$(deb "${a%%=*}" "${a#*=}")"
  if [ "$b" = copy ]; then cp "$pa" "$work/copy.deb"; pb="$work/copy.deb"; else pb="$(deb "${b%%=*}" "${b#*=}")"; fi
  for side in new old; do
    rm -f "$work/$name.$side".{json,txt,html}
    bin="$root/dist/bin/main.js"
    [ "$side" = old ] && bin="$old/dist/bin/main.js"
    node "$bin" diff --json "$work/$name.$side.json" --text "$work/$name.$side.txt" --html "$work/$name.$side.html" "$pa" "$pb" >/dev/null 2>"$work/$name.$side.err" || true
  done
  if [ ! -e "$work/$name.new.json" ] && [ ! -e "$work/$name.old.json" ]; then
    echo "same      $name (identical inputs: no report)"
  elif cmp -s "$work/$name.new.json" "$work/$name.old.json" && cmp -s "$work/$name.new.txt" "$work/$name.old.txt" && cmp -s "$work/$name.new.html" "$work/$name.old.html"; then
    echo "same      $name"
  elif [ "$(tree_of "$work/$name.new.json")" = "$(tree_of "$work/$name.old.json")" ]; then
    echo "same tree $name (the known causes named differ: see $work/$name.{new,old}.txt)"
  else
    echo "DIFFERENT $name (see $work/$name.{new,old}.*)"
    status=1
  fi
done
exit $status
