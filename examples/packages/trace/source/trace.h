/* Every trace line says where it comes from: __FILE__ is the path the
 * compiler was given, so an absolute path ends up in the binary. */
#define TRACE(fmt, ...) fprintf(stderr, "%s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__)
