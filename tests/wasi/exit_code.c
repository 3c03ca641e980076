// Exits with the status given as argv[1] (proc_exit), after printing a line; with no
// argument, returns 0 from main.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    printf("exiting with %s\n", argc > 1 ? argv[1] : "0 (return)");
    fflush(stdout);
    if (argc > 1) exit(atoi(argv[1]));
    return 0;
}
