#!/bin/sh
# Writes motd and motd.json from motd.in, stamping the build time.
set -eu
built="$(date '+%Y-%m-%d %H:%M:%S')"
sed -e "s/@HOST_OS@/Example Linux/" -e "s/@VERSION@/$1/" motd.in > motd
printf 'Built %s.\n' "$built" >> motd
printf '{"name": "motd", "version": "%s", "built": "%s"}\n' "$1" "$built" > motd.json
