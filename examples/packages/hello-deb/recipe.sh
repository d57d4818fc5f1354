# A .deb made with dpkg-deb the reproducible way: SOURCE_DATE_EPOCH from the
# changelog's last entry (dpkg-deb clamps member times to it), explicit modes,
# root:root owners, gzip -n for the compressed changelog.
command -v dpkg-deb >/dev/null || { echo "hello-deb: dpkg-deb is not installed" >&2; exit 127; }
export SOURCE_DATE_EPOCH="$(date -u -d "$(sed -n 's/^ -- .*>  //p' debian/changelog | head -n1)" +%s)"
root="$PWD/root"
doc="$root/usr/share/doc/$PACKAGE"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$doc"
sed "s/@VERSION@/$VERSION-1/" debian/control > "$root/DEBIAN/control"
cp hello-deb "$root/usr/bin/hello-deb"
cp debian/copyright "$doc/copyright"
gzip -9n < debian/changelog > "$doc/changelog.Debian.gz"
(cd "$root" && find usr -type f | LC_ALL=C sort | xargs md5sum > DEBIAN/md5sums)
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$root/usr/bin/hello-deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$OUT/${PACKAGE}_$VERSION-1_all.deb"
