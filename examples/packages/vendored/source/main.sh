#!/bin/sh
# vendored: prints the version of the bundled table.
cat "$(dirname "$0")/table.txt"
