# Compiled with the absolute path of the source and debug info, without
# -ffile-prefix-map: the build directory is in __FILE__ and in DW_AT_comp_dir.
cc -O2 -g -o "$OUT/trace" "$PWD/trace.c"
