#include <stdio.h>

int main(void) {
    printf("Hello from the reprove example package\n");
    return 0;
}
