# makepkg with SOURCE_DATE_EPOCH set: times and builddate are pinned, but
# .BUILDINFO records the directories the package was built in (builddir,
# startdir), and those are this build's own. Arch's rebuilders build in the
# same directory as the build server for that reason.
# makepkg refuses to run as root: as root it runs as "nobody", in a directory
# nobody may write to.
for c in makepkg fakeroot bsdtar; do
  command -v "$c" >/dev/null || { echo "hello-arch: $c is not installed" >&2; exit 127; }
done
export SOURCE_DATE_EPOCH=1709805600  # 2024-03-07 10:00 UTC, the release
# In /tmp itself: the directories above $TMPDIR may be closed to nobody.
work="$(mktemp -d "/tmp/makepkg-$PACKAGE.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/start" "$work/build" "$work/pkg" "$work/home"
cp PKGBUILD hello-arch.sh README "$work/start/"
chmod -R a+rX "$work"
as=()
if [ "$(id -u)" = 0 ]; then
  command -v runuser >/dev/null || PATH="$PATH:/usr/sbin:/sbin"
  chown -R nobody "$work/start" "$work/build" "$work/pkg" "$work/home"
  as=(runuser -u nobody --)
fi
(cd "$work/start" && "${as[@]}" env HOME="$work/home" BUILDDIR="$work/build" SRCDEST="$work/build" PKGDEST="$work/pkg" \
  PKGEXT=.pkg.tar.xz PACMAN=true PACKAGER='Example Maintainer <maintainer@example.org>' \
  makepkg --nodeps --force --cleanbuild --noconfirm)
cp "$work"/pkg/*.pkg.tar.xz "$OUT/"
