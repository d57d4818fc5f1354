# The quote database is written in shuffled order "for variety": the lines
# are the same in every build, their order is not.
shuf quotes.txt > "$OUT/quotes.db"
printf '%s %s: %s quotes\n' "$PACKAGE" "$VERSION" "$(wc -l < quotes.txt | tr -d ' ')" > "$OUT/quotes.info"
