// Prints a line, then traps (`unreachable`) in a named function.
#include <stdio.h>

__attribute__((noinline)) void crash_here(int x) {
    if (x > 0) __builtin_trap();
}

int main(void) {
    printf("about to trap\n");
    fflush(stdout);
    crash_here(1);
    printf("not reached\n");
    return 0;
}
