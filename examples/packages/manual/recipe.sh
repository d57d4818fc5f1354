# Documentation, packed the reproducible way: the date comes from the
# ChangeLog (SOURCE_DATE_EPOCH), formatted in UTC; files get explicit modes and
# the tarball sorted names, clamped times, numeric owners and gzip -n.
export SOURCE_DATE_EPOCH="$(date -u -d "$(head -n1 ChangeLog | cut -c1-10)" +%s)"
date="$(date -u -d "@$SOURCE_DATE_EPOCH" '+%B %Y')"
mkdir -p stage/usr/share/doc/manual stage/usr/share/man/man7
sed -e "s/@DATE@/$date/" -e "s/@VERSION@/$VERSION/" man/example.7 > stage/usr/share/man/man7/example.7
gzip -9n stage/usr/share/man/man7/example.7
cp doc/* ChangeLog stage/usr/share/doc/manual/
find stage -type d -exec chmod 0755 {} + && find stage -type f -exec chmod 0644 {} +
tar --format=gnu --sort=name --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime \
    --owner=0 --group=0 --numeric-owner -C stage -cf - usr | gzip -9n > "$OUT/manual-$VERSION.tar.gz"
