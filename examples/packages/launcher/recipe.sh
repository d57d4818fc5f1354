# A configure-like step takes the prefix from the current directory ("run it
# from the build tree"): the build directory ends up in the installed script
# and in the .pc file.
prefix="$PWD/stage/usr"
for f in launcher launcher.pc; do
  sed -e "s|@PREFIX@|$prefix|g" -e "s|@DATADIR@|$prefix/share/launcher|g" \
      -e "s|@LIBEXECDIR@|$prefix/libexec/launcher|g" -e "s|@VERSION@|$VERSION|g" "$f.in" > "$OUT/$f"
done
