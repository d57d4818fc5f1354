# SOURCE_DATE_EPOCH is honoured (the release time), but it is formatted in the
# builder's local time zone (no date -u, no TZ=UTC): the same instant is
# written as another date and time on a builder in another zone.
export SOURCE_DATE_EPOCH="$(date -u -d "$(sed -n 's/^released=//p' RELEASE)" +%s)"
{
  printf 'Release notes for %s %s\n\n' "$PACKAGE" "$VERSION"
  printf 'Released on %s\n' "$(date -d "@$SOURCE_DATE_EPOCH" '+%A %-d %B %Y')"
  printf 'Release time: %s\n\n' "$(date -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S%z')"
  cat notes.txt
} > "$OUT/RELEASE-NOTES"
