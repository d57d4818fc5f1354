#include <stdio.h>
#include "trace.h"

int main(int argc, char **argv)
{
    TRACE("starting with %d argument(s)", argc - 1);
    for (int i = 1; i < argc; i++)
        TRACE("argument %d: %s", i, argv[i]);
    return 0;
}
