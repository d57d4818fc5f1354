# The man page's time is set from the release date in NEWS, but that date has
# no time zone (so it is read in the builder's), and gzip without -n stores the
# file's time in its header: the .gz differs from one builder to the next.
release="$(sed -n '1s/.*(\(.*\)).*/\1/p' NEWS)"
touch -d "$release" greet.1
gzip -9 greet.1
cp greet greet.1.gz "$OUT/"
