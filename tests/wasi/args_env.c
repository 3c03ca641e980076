// Prints the command line and selected environment variables (argv/environ through
// args_get, args_sizes_get, environ_get, environ_sizes_get).
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    int n = 0;
    for (char **e = environ; *e; e++) n++;
    printf("environ count=%d\n", n);
    for (char **e = environ; *e; e++) printf("env %s\n", *e);
    const char *g = getenv("GREETING");
    printf("getenv(GREETING)=%s\n", g ? g : "(null)");
    const char *m = getenv("MISSING");
    printf("getenv(MISSING)=%s\n", m ? m : "(null)");
    return 0;
}
