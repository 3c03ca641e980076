// Prints 32 bytes from random_get (getentropy) in hex: deterministic under a seeded random
// source, and checks that two draws differ.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    unsigned char a[32], b[32];
    if (getentropy(a, sizeof a) != 0 || getentropy(b, sizeof b) != 0) {
        printf("getentropy failed\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof a; i++) printf("%02x", a[i]);
    printf("\n");
    printf("draws differ: %s\n", memcmp(a, b, sizeof a) != 0 ? "yes" : "no");
    return 0;
}
