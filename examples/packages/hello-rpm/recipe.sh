# rpmbuild with SOURCE_DATE_EPOCH taken from the %changelog and file times
# clamped to it. BUILDTIME (the clock's) and BUILDHOST (the machine's) stay
# in the header: the rpm policy allows exactly those, so a rebuild is
# REPRODUCIBLE rather than BIT_IDENTICAL.
command -v rpmbuild >/dev/null || { echo "hello-rpm: rpmbuild is not installed" >&2; exit 127; }
top="$PWD/rpmbuild"
mkdir -p "$top/tmp"
rpmbuild -bb \
  --define "_topdir $top" --define "_sourcedir $PWD" --define "_tmppath $top/tmp" \
  --define 'source_date_epoch_from_changelog 1' --define 'clamp_mtime_to_source_date_epoch 1' \
  --define 'debug_package %{nil}' --define '_build_id_links none' \
  hello-rpm.spec
cp "$top"/RPMS/noarch/*.rpm "$OUT/"
