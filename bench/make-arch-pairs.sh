#!/bin/bash
# Builds the bench's synthetic Arch package twice, a second apart, with makepkg:
#   OUTDIR/a/reprove-bench-1.0-1-x86_64.pkg.tar.zst
#   OUTDIR/b/reprove-bench-1.0-1-x86_64.pkg.tar.zst
# Same PKGBUILD, same sources, same BUILDDIR, so the two differ only in what a
# rebuild changes: builddate in .PKGINFO and .BUILDINFO, the time of every
# .MTREE entry and tar member (SOURCE_DATE_EPOCH is unset), the BUILD_DATE file
# and __TIME__ in usr/bin/reprove-bench3.
# The payload (~45 MB: text, unstripped gcc -g ELF files, binary data) comes
# from payload.sh / payload.py; options=(!strip) keeps the debug info.
#
# makepkg refuses to run as root: as root, it runs as "nobody" (runuser) in
# world-writable directories. pacman is not installed: PACMAN=true and --nodeps
# (the package has no dependencies), --nocheck.
# Usage: make-arch-pairs.sh OUTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
rm -rf "$out/pkgbuild" "$out/build" "$out/home" "$out/a" "$out/b"
mkdir -p "$out/pkgbuild" "$out/build" "$out/home" "$out/a" "$out/b"
chmod 755 "$out"
chmod 777 "$out/pkgbuild" "$out/build" "$out/home" "$out/a" "$out/b"
cp "$here/payload.sh" "$here/payload.py" "$out/pkgbuild/"
chmod 644 "$out/pkgbuild/payload.sh" "$out/pkgbuild/payload.py"

cat > "$out/pkgbuild/PKGBUILD" <<'EOF'
pkgname=reprove-bench
pkgver=1.0
pkgrel=1
pkgdesc='Synthetic package for the reprove bench'
arch=('x86_64')
license=('MIT')
options=(!strip !debug)

build() {
  sh "$startdir/payload.sh" build "$srcdir/work"
}

package() {
  sh "$startdir/payload.sh" install "$srcdir/work" "$pkgdir"
}
EOF
chmod 644 "$out/pkgbuild/PKGBUILD"

as_user=()
[ "$(id -u)" = 0 ] && as_user=(runuser -u nobody --)

build() {
  local dest=$1 log=$out/build-$(basename "$1").log
  rm -rf "$out/build"/* 
  (cd "$out/pkgbuild" && "${as_user[@]}" env -u SOURCE_DATE_EPOCH HOME="$out/home" PACMAN=true \
    PACKAGER='Reprove Bench <bench@example.org>' PKGEXT=.pkg.tar.zst PKGDEST="$dest" \
    BUILDDIR="$out/build" SRCDEST="$out/build" makepkg --nodeps --nocheck --force) >"$log" 2>&1 ||
    { tail -30 "$log" >&2; exit 1; }
}

build "$out/a"
sleep 1
build "$out/b"
ls -l "$out"/a/*.pkg.tar.zst "$out"/b/*.pkg.tar.zst >&2
