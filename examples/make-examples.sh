#!/usr/bin/env bash
# Builds examples/out/{published,rebuilt}: the same small "package" built twice,
# the second time the way unreproducible builds go wrong (a build date in a
# generated file, gzip header times, tar mtimes and member order), plus one
# pair built reproducibly. Uses only tar, gzip and (when present) dpkg-deb.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/out"
rm -rf "$out"
mkdir -p "$out/published" "$out/rebuilt" "$out/work"
export TZ=UTC LC_ALL=C

build() { # build DEST_DIR BUILD_DATE ORDER(sorted|reversed) REPRODUCIBLE(yes|no)
  local dest="$1" date="$2" order="$3" repro="$4"
  local tree="$out/work/tree-$(basename "$dest")-$repro"
  rm -rf "$tree" && mkdir -p "$tree/usr/share/doc/hello" "$tree/usr/src/hello"
  cp "$here/src/hello/hello.c" "$tree/usr/src/hello/"
  cp "$here/src/hello/README" "$tree/usr/share/doc/hello/"
  printf '{"name": "hello", "version": "1.0", "built": "%s"}\n' "$date" > "$tree/usr/share/doc/hello/buildinfo.json"
  find "$tree" -exec touch -d "$date" {} +
  local names=(./usr/share/doc/hello/README ./usr/share/doc/hello/buildinfo.json ./usr/src/hello/hello.c)
  if [ "$order" = reversed ]; then names=(./usr/src/hello/hello.c ./usr/share/doc/hello/buildinfo.json ./usr/share/doc/hello/README); fi
  if [ "$repro" = yes ]; then
    tar --format=gnu --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$tree" -cf - "${names[@]}" | gzip -n9 > "$dest/hello-1.0.tar.gz"
  else
    tar --format=gnu --owner=0 --group=0 --numeric-owner -C "$tree" -cf "$out/work/hello.tar" "${names[@]}"
    touch -d "$date" "$out/work/hello.tar"
    # gzip records the input's mtime only when compressing a named file.
    (cd "$out/work" && rm -f hello.tar.gz && gzip -9k hello.tar && mv hello.tar.gz "$dest/hello-1.0.tar.gz")
  fi
  if command -v dpkg-deb >/dev/null; then
    mkdir -p "$tree/DEBIAN"
    cat > "$tree/DEBIAN/control" <<CONTROL
Package: hello
Version: 1.0
Architecture: all
Maintainer: Example Maintainer <maintainer@example.org>
Description: example package for reprove
CONTROL
    SOURCE_DATE_EPOCH=$(date -d "$date" +%s) dpkg-deb --root-owner-group -Zxz --build "$tree" "$dest/hello_1.0_all.deb" >/dev/null
  fi
}

build "$out/published" "2024-01-01 12:00:00" sorted no
build "$out/rebuilt" "2024-03-05 08:30:00" reversed no
mkdir -p "$out/published/reproducible" "$out/rebuilt/reproducible"
build "$out/published/reproducible" "2024-01-01 12:00:00" sorted yes
build "$out/rebuilt/reproducible" "2024-01-01 12:00:00" sorted yes
for d in published rebuilt; do
  mv "$out/$d/reproducible/hello-1.0.tar.gz" "$out/$d/hello-1.0-reproducible.tar.gz"
  rm -rf "$out/$d/reproducible"
done
rm -rf "$out/work"
echo "examples written to $out"
