# Packs the plugin configurations in the order the file system lists them
# (shuf stands in for readdir order, which differs between file systems and
# machines): the tarball's members come in a different order every build.
chmod 0755 plugins && chmod 0644 plugins/*
find plugins -type f | shuf > files.list
tar --format=gnu --no-recursion --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -cf - plugins -T files.list | gzip -9n > "$OUT/plugins-$VERSION.tar.gz"
