// Clocks: realtime is after 2020, monotonic never goes back, resolutions are positive,
// the CPU-time clocks advance with work, and a 20 ms sleep (poll_oneoff on a clock) lasts
// at least 20 ms. Prints only properties, so the output is the same on every run.
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static long long ns(struct timespec t) { return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
    struct timespec rt, m1, m2, res, c1, c2;
    clock_gettime(CLOCK_REALTIME, &rt);
    printf("realtime after 2020: %s\n", rt.tv_sec > 1577836800 ? "yes" : "no");
    clock_gettime(CLOCK_MONOTONIC, &m1);
    clock_gettime(CLOCK_MONOTONIC, &m2);
    printf("monotonic nondecreasing: %s\n", ns(m2) >= ns(m1) ? "yes" : "no");
    const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    const char *names[] = {"realtime", "monotonic", "process_cputime", "thread_cputime"};
    for (int i = 0; i < 4; i++) {
        int r = clock_getres(ids[i], &res);
        printf("res %s: %s\n", names[i], r == 0 && ns(res) > 0 && ns(res) <= 1000000 ? "ok" : "bad");
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 20000000; i++) x += i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c2);
    printf("cputime advances: %s\n", ns(c2) > ns(c1) ? "yes" : "no");
    clock_gettime(CLOCK_MONOTONIC, &m1);
    usleep(20000);
    clock_gettime(CLOCK_MONOTONIC, &m2);
    printf("slept at least 20ms: %s\n", ns(m2) - ns(m1) >= 20000000LL ? "yes" : "no");
    struct timespec req = {0, 5000000};
    printf("nanosleep: %d\n", nanosleep(&req, NULL));
    // An absolute deadline 10 ms ahead (poll_oneoff with subscription_clock_abstime).
    clock_gettime(CLOCK_MONOTONIC, &m1);
    struct timespec until = m1;
    until.tv_nsec += 10000000;
    if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
    int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
    clock_gettime(CLOCK_MONOTONIC, &m2);
    printf("absolute sleep: %d, reached deadline: %s\n", r, ns(m2) >= ns(until) ? "yes" : "no");
    return 0;
}
