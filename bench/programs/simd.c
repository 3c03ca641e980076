/* simd.c - SIMD-friendly kernels: int16 dot products, saturating and averaging byte ops,
 * sum of absolute differences, a 3-tap byte filter, uint32 lane arithmetic with a max
 * reduction, and an f32 saxpy with wrap-around clamping.
 * Usage: simd [scale]   (default scale 1). Prints a checksum.
 *
 * Written so that clang -O2 -msimd128 (and gcc -O2 natively) vectorises the hot loops:
 * constant trip counts that are multiples of 16, restrict pointers, no early exits.
 * Every reduction is over integers with wrap-around (or max), which is associative, so the
 * result is bit-identical whether or not (and however widely) a loop is vectorised. The
 * float kernel is element-wise (no reductions); its result is folded as integer bits.
 * Build without -ffast-math and with -ffp-contract=off so no FMA changes a rounding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 4096 /* elements per array: the working set stays in L1/L2 */

static uint32_t rng = 0x2545f491u;

static uint32_t next_u32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* int16 x int16 products summed in 32 bits (i32x4.dot_i16x8_s / pmaddwd territory). */
static uint32_t dot_i16(const int16_t *restrict a, const int16_t *restrict b) {
    uint32_t s = 0;
    for (int i = 0; i < N; i++)
        s += (uint32_t)((int32_t)a[i] * (int32_t)b[i]);
    return s;
}

/* r = saturate(p + q) per unsigned byte (u8x16.add_sat_u). */
static void add_sat_u8(uint8_t *restrict r, const uint8_t *restrict p,
                       const uint8_t *restrict q) {
    for (int i = 0; i < N; i++) {
        uint8_t v = (uint8_t)(p[i] + q[i]);
        r[i] = v < p[i] ? 255 : v; /* wrapped around: saturate */
    }
}

/* s = saturate(r - p) per unsigned byte (u8x16.sub_sat_u). */
static void sub_sat_u8(uint8_t *restrict s, const uint8_t *restrict r,
                       const uint8_t *restrict p) {
    for (int i = 0; i < N; i++)
        s[i] = (uint8_t)(r[i] > p[i] ? r[i] - p[i] : 0);
}

/* p = rounding average of s and q, xored with k (u8x16.avgr_u). */
static void avg_u8(uint8_t *restrict p, const uint8_t *restrict s,
                   const uint8_t *restrict q, uint8_t k) {
    for (int i = 0; i < N; i++)
        p[i] = (uint8_t)((uint16_t)(s[i] + q[i] + 1) >> 1) ^ k;
}

/* A byte-wise xorshift plus a constant keeps q changing every round. (Shifts and xors only:
 * Wasm has no i8x16.mul, and LLVM would turn q * 5 back into a scalarised multiply.) */
static void mix_u8(uint8_t *restrict q) {
    for (int i = 0; i < N; i++) {
        uint8_t v = q[i];
        v ^= (uint8_t)(v << 3);
        v ^= (uint8_t)(v >> 5);
        q[i] = (uint8_t)(v + 0x3bu);
    }
}

/* Sum of absolute differences of two byte arrays. */
static uint32_t sad_u8(const uint8_t *restrict p, const uint8_t *restrict q) {
    uint32_t s = 0;
    for (int i = 0; i < N; i++) {
        int d = (int)p[i] - (int)q[i];
        s += (uint32_t)(d < 0 ? -d : d);
    }
    return s;
}

/* A [1 2 1] filter widening bytes to 16 bits, summed. N - 16 keeps the count a multiple
 * of 16 and every read in bounds. */
static uint32_t filter121_u8(uint16_t *restrict out, const uint8_t *restrict p) {
    uint32_t s = 0;
    for (int i = 0; i < N - 16; i++) {
        uint16_t v = (uint16_t)(p[i] + 2 * p[i + 1] + p[i + 2]);
        out[i] = v;
        s += v;
    }
    return s;
}

/* c = (a * 3 + b) >> 2, then a = c ^ b and b += c; returns the max of c (u32x4.max_u). */
static uint32_t lanes_u32(uint32_t *restrict a, uint32_t *restrict b, uint32_t *restrict c) {
    uint32_t m = 0;
    for (int i = 0; i < N; i++) {
        uint32_t v = (a[i] * 3u + b[i]) >> 2;
        c[i] = v;
        a[i] = v ^ b[i];
        b[i] += v;
        m = v > m ? v : m;
    }
    return m;
}

/* y = alpha * x + y, wrapped back into [-1000, 1000]; element-wise, so vector and scalar
 * code round identically. */
static void saxpy_wrap(float *restrict y, const float *restrict x, float alpha) {
    for (int i = 0; i < N; i++) {
        float t = alpha * x[i];
        t = t + y[i];
        t = t > 1000.0f ? t - 2000.0f : t;
        t = t < -1000.0f ? t + 2000.0f : t;
        y[i] = t;
    }
}

/* The bit patterns of y summed as integers: an exact fold of the float results. */
static uint32_t fold_f32(const float *restrict y) {
    uint32_t bits[N];
    memcpy(bits, y, sizeof bits);
    uint32_t s = 0;
    for (int i = 0; i < N; i++)
        s += bits[i] ^ (bits[i] >> 7);
    return s;
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (scale < 1) scale = 1;
    const int rounds = 60000 * scale;

    int16_t *a16 = malloc(N * sizeof *a16), *b16 = malloc(N * sizeof *b16);
    uint8_t *p = malloc(N), *q = malloc(N), *r = malloc(N), *s = malloc(N);
    uint16_t *f16 = malloc(N * sizeof *f16);
    uint32_t *ua = malloc(N * sizeof *ua), *ub = malloc(N * sizeof *ub),
             *uc = malloc(N * sizeof *uc);
    float *fx = malloc(N * sizeof *fx), *fy = malloc(N * sizeof *fy);
    if (!a16 || !b16 || !p || !q || !r || !s || !f16 || !ua || !ub || !uc || !fx || !fy) {
        printf("out of memory\n");
        return 1;
    }
    for (int i = 0; i < N; i++) {
        a16[i] = (int16_t)next_u32();
        b16[i] = (int16_t)next_u32();
        p[i] = (uint8_t)next_u32();
        q[i] = (uint8_t)(next_u32() >> 8);
        ua[i] = next_u32();
        ub[i] = next_u32();
        fx[i] = (float)(int32_t)(next_u32() % 20001u - 10000) / 16.0f;
        fy[i] = (float)(int32_t)(next_u32() % 2001u - 1000);
    }

    uint32_t dot = 0, sad = 0, filt = 0, umax = 0, fbits = 0;
    uint64_t check = 0xcbf29ce484222325ull;
    for (int round = 0; round < rounds; round++) {
        uint32_t d = dot_i16(a16, b16);
        /* Feed each result back into the data so no round can be hoisted or skipped. */
        a16[round & (N - 1)] ^= (int16_t)(d & 0x7fff);
        dot += d;

        add_sat_u8(r, p, q);
        sub_sat_u8(s, r, p);
        avg_u8(p, s, q, (uint8_t)round);
        mix_u8(q);
        uint32_t sd = sad_u8(p, q);
        sad += sd;
        filt += filter121_u8(f16, p);

        uint32_t m = lanes_u32(ua, ub, uc);
        umax ^= m;

        float alpha = (float)((int)(sd & 15) - 8) / 8.0f;
        saxpy_wrap(fy, fx, alpha);
        if ((round & 15) == 15) fbits += fold_f32(fy);

        check = (check ^ (d + sd + m)) * 0x100000001b3ull;
    }
    check ^= ((uint64_t)dot << 32) ^ sad;
    check = check * 0x100000001b3ull ^ filt;
    check = check * 0x100000001b3ull ^ umax;
    check = check * 0x100000001b3ull ^ fbits;

    printf("simd: %d rounds of %d elements\n", rounds, N);
    printf("dot %08x sad %08x filter %08x max %08x floats %08x\n", (unsigned)dot,
           (unsigned)sad, (unsigned)filt, (unsigned)umax, (unsigned)fbits);
    printf("checksum: %016llx\n", (unsigned long long)check);
    free(a16); free(b16); free(p); free(q); free(r); free(s); free(f16);
    free(ua); free(ub); free(uc); free(fx); free(fy);
    return 0;
}
