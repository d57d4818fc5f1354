# Splits the word list into one file per initial and tars them. The files are
# written by the build, so tar records the time of the build in every member.
mkdir -p data
while read -r w; do printf '%s\n' "$w" >> "data/$(printf %.1s "$w").txt"; done < words.txt
chmod 0755 data && chmod 0644 data/*
tar --format=gnu --sort=name --owner=0 --group=0 --numeric-owner -cf - data | gzip -9n > "$OUT/wordlist-$VERSION.tar.gz"
