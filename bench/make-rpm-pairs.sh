#!/bin/bash
# Builds the bench's synthetic RPM twice, a second apart, with rpmbuild:
#   OUTDIR/a/reprove-bench-1.0-1.x86_64.rpm
#   OUTDIR/b/reprove-bench-1.0-1.x86_64.rpm
# Same spec, same sources, same %_topdir (OUTDIR/top), so the two differ only in
# what a rebuild changes: BUILDTIME and the other header fields rpmbuild takes
# from the clock, file mtimes (not clamped: SOURCE_DATE_EPOCH is unset), the
# BUILD_DATE file and __TIME__ in usr/bin/reprove-bench3.
# The payload (~45 MB: text, unstripped gcc -g ELF files, binary data) comes
# from payload.sh / payload.py; it is xz-compressed (w2.xzdio, as on RHEL 8).
# Usage: make-rpm-pairs.sh OUTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
top=$out/top
rm -rf "$top" "$out/a" "$out/b"
mkdir -p "$top/SOURCES" "$top/SPECS" "$out/a" "$out/b"
cp "$here/payload.sh" "$here/payload.py" "$top/SOURCES/"

cat > "$top/SPECS/reprove-bench.spec" <<'EOF'
Name:           reprove-bench
Version:        1.0
Release:        1
Summary:        Synthetic package for the reprove bench
License:        MIT
Source0:        payload.sh
Source1:        payload.py

# Keep the ELF files as gcc -g left them: no strip, no debuginfo subpackage,
# no man page compression, no build-id links.
%global debug_package %{nil}
%global __os_install_post %{nil}
%global _build_id_links none
%global _binary_payload w2.xzdio

%description
Text, unstripped ELF programs and libraries, and binary data, about 45 MB.

%build
unset SOURCE_DATE_EPOCH
sh %{SOURCE0} build work

%install
sh %{SOURCE0} install work %{buildroot}

%files
/usr/bin/reprove-bench1
/usr/bin/reprove-bench2
/usr/bin/reprove-bench3
/usr/lib/libreprovebench*
/usr/share/reprove-bench
%doc /usr/share/doc/reprove-bench
/usr/share/man/man1/reprove-bench.1
EOF

build() {
  local dest=$1
  # Both builds use the same %_builddir, so DWARF paths are the same.
  rm -rf "$top/BUILD" "$top/BUILDROOT" "$top/RPMS" "$top/SRPMS"
  env -u SOURCE_DATE_EPOCH rpmbuild -bb --define "_topdir $top" "$top/SPECS/reprove-bench.spec" >"$out/build-$(basename "$dest").log" 2>&1 ||
    { tail -30 "$out/build-$(basename "$dest").log" >&2; exit 1; }
  mv "$top"/RPMS/*/*.rpm "$dest/"
}

build "$out/a"
sleep 1
build "$out/b"
ls -l "$out"/a/*.rpm "$out"/b/*.rpm >&2
