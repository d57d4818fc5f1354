# Shared by publish.sh and check.sh: the package list, the source tarballs and
# one build of one package under given conditions. Sourced, not run.

examples_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The architecture as distributions name it.
ex_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo x86_64 ;;
    aarch64 | arm64) echo aarch64 ;;
    armv7*) echo armv7h ;;
    i?86) echo i686 ;;
    *) uname -m ;;
  esac
}

# One line per package, sorted by name: NAME<TAB>VERSION<TAB>EXPECT<TAB>CAUSE<TAB>REQUIRES(space separated).
ex_packages() {
  node -e '
    const fs = require("fs"), path = require("path");
    const dir = process.argv[1];
    for (const name of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, name, "meta.json");
      if (!fs.existsSync(file)) continue;
      const m = JSON.parse(fs.readFileSync(file, "utf8"));
      if (m.name !== name) throw new Error(`${file}: name ${m.name} is not the directory name ${name}`);
      console.log([m.name, m.version, m.expect, m.cause ?? "-", (m.requires ?? []).join(" ")].join("\t"));
    }' "$examples_dir/packages"
}

# The first of the required commands that is missing, or nothing.
ex_missing() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || { echo "$c"; return; }; done
}

# ex_pack_source NAME VERSION TARBALL: the source tree as NAME-VERSION/ in a
# tarball that is the same bytes on every run (sorted, time 0, owner 0, modes
# without group/other write, gzip -n).
ex_pack_source() {
  local name="$1" version="$2" tarball="$3"
  tar --format=gnu --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    --mode='u+rw,go+r,go-w' --transform="s,^source,$name-$version," \
    -C "$examples_dir/packages/$name" -cf - source | gzip -9n > "$tarball.tmp"
  mv "$tarball.tmp" "$tarball"
}

# ex_build NAME VERSION TARBALL BUILDROOT HOME DEST LOG
# Unpacks TARBALL in BUILDROOT, runs the package's recipe.sh there with
# `bash -euo pipefail` in a clean environment (OUT, PACKAGE, VERSION, ARCH,
# HOME, PATH, and the conditions EX_UMASK, EX_TZ, EX_LANG; GOCACHE when set)
# and copies the files the recipe left in OUT to DEST, mode 0644 (as a
# download would have them). Returns the recipe's status.
ex_build() {
  local name="$1" version="$2" tarball="$3" root="$4" home="$5" dest="$6" log="$7"
  local out="$root/.out-$name" status=0
  mkdir -p "$root" "$home" "$out" "$dest"
  (
    umask "$EX_UMASK"
    tar -xzf "$tarball" -C "$root"
    cd "$root/$name-$version"
    exec env -i PATH="$PATH" HOME="$home" OUT="$out" PACKAGE="$name" VERSION="$version" ARCH="$(ex_arch)" \
      TZ="$EX_TZ" LANG="$EX_LANG" LC_ALL="$EX_LANG" ${GOCACHE:+GOCACHE="$GOCACHE"} \
      bash -euo pipefail "$examples_dir/packages/$name/recipe.sh"
  ) > "$log" 2>&1 || status=$?
  if [ "$status" -eq 0 ]; then
    local f
    for f in "$out"/* "$out"/.[!.]*; do
      [ -e "$f" ] || continue
      if [ ! -f "$f" ] || [ -L "$f" ]; then echo "recipe left $(basename "$f") in OUT, which is not a regular file" >> "$log"; return 1; fi
      cp "$f" "$dest/" && chmod 0644 "$dest/$(basename "$f")"
    done
  fi
  return "$status"
}
