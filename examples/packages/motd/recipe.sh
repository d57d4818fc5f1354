# The generator stamps the current date and time into its output ("Built
# ..."), ignoring SOURCE_DATE_EPOCH: every build differs.
sh ./generate.sh "$VERSION"
cp motd motd.json "$OUT/"
