#!/bin/sh
# Build and install steps of the bench's synthetic packages, shared by the RPM
# spec (make-rpm-pairs.sh) and the PKGBUILD (make-arch-pairs.sh).
#
#   payload.sh build WORKDIR          generate sources and data (payload.py), compile with gcc -g
#   payload.sh install WORKDIR DEST   install into DEST (the buildroot / $pkgdir)
#
# The package (~45 MB installed): ~12 MB of text (C sources, docs, a man page),
# three ELF programs, two ELF shared libraries and a static library (gcc -O2 -g,
# not stripped), ~21 MB of binary data, and BUILD_DATE, which holds the build
# time: the non-deterministic bit, with __TIME__ in usr/bin/reprove-bench3.
set -eu
here=$(dirname "$0")
cmd=$1 w=$2
CC="gcc -O2 -g"

case $cmd in
build)
  mkdir -p "$w"
  /usr/bin/python3 "$here/payload.py" "$w"
  cd "$w"
  # Objects two at a time (the bench machine may have few cores).
  ls src/unit*.c src/main*.c src/stamp.c | sed 's/\.c$//' | xargs -P 2 -I{} sh -c '
    case {} in src/unit0[6-9]) pic=-fPIC ;; *) pic= ;; esac
    '"$CC"' $pic -c {}.c -o {}.o'
  $CC -o reprove-bench1 src/main1.o src/unit00.o src/unit01.o
  $CC -o reprove-bench2 src/main2.o src/unit02.o src/unit03.o
  $CC -o reprove-bench3 src/main3.o src/unit04.o src/unit05.o src/stamp.o
  $CC -shared -Wl,-soname,libreprovebench1.so.1 -o libreprovebench1.so.1.0 src/unit06.o src/unit07.o
  $CC -shared -Wl,-soname,libreprovebench2.so.1 -o libreprovebench2.so.1.0 src/unit08.o src/unit09.o
  rm -f libreprovebench.a
  ar rcsD libreprovebench.a src/unit10.o src/unit11.o
  date -u '+built %Y-%m-%d %H:%M:%S UTC' > BUILD_DATE
  ;;
install)
  d=$3
  cd "$w"
  install -d "$d/usr/bin" "$d/usr/lib" "$d/usr/share/reprove-bench/src" "$d/usr/share/reprove-bench/data/blobs" \
    "$d/usr/share/doc/reprove-bench" "$d/usr/share/man/man1"
  install -m755 reprove-bench1 reprove-bench2 reprove-bench3 "$d/usr/bin/"
  install -m755 libreprovebench1.so.1.0 libreprovebench2.so.1.0 "$d/usr/lib/"
  ln -sf libreprovebench1.so.1.0 "$d/usr/lib/libreprovebench1.so.1"
  ln -sf libreprovebench2.so.1.0 "$d/usr/lib/libreprovebench2.so.1"
  install -m644 libreprovebench.a "$d/usr/lib/"
  install -m644 src/*.c "$d/usr/share/reprove-bench/src/"
  install -m644 data/random.bin data/table.bin "$d/usr/share/reprove-bench/data/"
  install -m644 data/blobs/* "$d/usr/share/reprove-bench/data/blobs/"
  install -m644 doc/*.txt doc/index.html "$d/usr/share/doc/reprove-bench/"
  install -m644 doc/reprove-bench.1 "$d/usr/share/man/man1/"
  install -m644 BUILD_DATE "$d/usr/share/reprove-bench/"
  ;;
*)
  echo "usage: payload.sh build WORKDIR | install WORKDIR DEST" >&2
  exit 2
  ;;
esac
