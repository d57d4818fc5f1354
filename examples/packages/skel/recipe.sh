# The files are written by the build and packed with whatever modes they got:
# those follow the builder's umask (the build server's 0000 gives files and
# directories that anyone may write, 0022 does not). Everything else is pinned.
mkdir -p stage/etc/skel stage/usr/share/skel
for f in .profile .bashrc; do cat "etc/skel/$f" > "stage/etc/skel/$f"; done
cat etc/skel/.profile etc/skel/.bashrc > stage/usr/share/skel/defaults
tar --format=gnu --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -C stage -cf - etc usr | gzip -9n > "$OUT/skel-$VERSION.tar.gz"
