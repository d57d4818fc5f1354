# A C program with debug info. -ffile-prefix-map maps the build directory to
# ".", so two builds in different directories are the same bytes.
cc -O2 -g -ffile-prefix-map="$PWD"=. -o "$OUT/hello" hello.c
cp README "$OUT/README"
