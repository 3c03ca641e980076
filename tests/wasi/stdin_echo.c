// Reads all of stdin (fd_read until end of file), then reports its size and line count and
// echoes it upper-cased on stdout; a note goes to stderr.
#include <ctype.h>
#include <stdio.h>

int main(void) {
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, stdin);
    int lines = 0;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') lines++;
        buf[i] = (char)toupper((unsigned char)buf[i]);
    }
    printf("read %zu bytes, %d lines\n", n, lines);
    fwrite(buf, 1, n, stdout);
    fprintf(stderr, "stderr: done\n");
    return 0;
}
