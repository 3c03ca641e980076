// Files and directories inside the preopen /sandbox: create, write, read, seek, append,
// pread/pwrite, truncate, stat, readdir, rename, unlink, mkdir/rmdir, symlink/readlink,
// hard links, set times, and the errors for the usual mistakes.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#define CHECK(x)                                                                   \
    do {                                                                           \
        if (!(x)) {                                                                \
            printf("FAIL line %d: %s (errno %d: %s)\n", __LINE__, #x, errno,       \
                   strerror(errno));                                               \
            return 1;                                                              \
        }                                                                          \
    } while (0)

static void expect_errno(const char *what, int r) {
    printf("%s: %s\n", what, r < 0 ? strerror(errno) : "succeeded (unexpected)");
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list(const char *path) {
    DIR *d = opendir(path);
    CHECK(d);
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        char tag = e->d_type == DT_DIR ? 'd' : e->d_type == DT_REG ? 'f' : e->d_type == DT_LNK ? 'l' : '?';
        char *s = malloc(strlen(e->d_name) + 3);
        sprintf(s, "%s:%c", e->d_name, tag);
        names[n++] = s;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("ls %s:", path);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
    return 0;
}

int main(void) {
    char buf[64];
    struct stat st;

    FILE *f = fopen("/sandbox/a.txt", "w");
    CHECK(f);
    fputs("hello\nworld\n", f);
    CHECK(fclose(f) == 0);
    f = fopen("/sandbox/a.txt", "r");
    CHECK(f);
    CHECK(fgets(buf, sizeof buf, f));
    printf("first line: %s", buf);
    fclose(f);

    int fd = open("/sandbox/a.txt", O_RDONLY);
    CHECK(fd >= 0);
    printf("seek set 6 -> %lld\n", (long long)lseek(fd, 6, SEEK_SET));
    ssize_t n = read(fd, buf, 5);
    buf[n > 0 ? n : 0] = 0;
    printf("read after seek: %s\n", buf);
    printf("seek cur -3 -> %lld\n", (long long)lseek(fd, -3, SEEK_CUR));
    printf("seek end 0 -> %lld\n", (long long)lseek(fd, 0, SEEK_END));
    expect_errno("seek before start", (int)lseek(fd, -100, SEEK_SET));
    expect_errno("write to read-only fd", (int)write(fd, "x", 1));
    close(fd);

    fd = open("/sandbox/a.txt", O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK(write(fd, "more\n", 5) == 5);
    close(fd);
    CHECK(stat("/sandbox/a.txt", &st) == 0);
    printf("size after append: %lld, regular: %d\n", (long long)st.st_size, S_ISREG(st.st_mode));

    fd = open("/sandbox/a.txt", O_RDWR);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "HELLO", 5, 0) == 5);
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, 11, 0) == 11);
    printf("pread: %.5s|%.5s\n", buf, buf + 6);
    printf("position after pread/pwrite: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    CHECK(ftruncate(fd, 5) == 0);
    CHECK(fstat(fd, &st) == 0);
    printf("size after ftruncate: %lld\n", (long long)st.st_size);
    close(fd);

    CHECK(mkdir("/sandbox/d", 0755) == 0);
    expect_errno("mkdir existing", mkdir("/sandbox/d", 0755));
    for (const char *p = "xyz"; *p; p++) {
        char path[32];
        sprintf(path, "/sandbox/d/%c", *p);
        fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0644);
        CHECK(fd >= 0);
        CHECK(write(fd, path, strlen(path)) > 0);
        close(fd);
    }
    fd = open("/sandbox/d/created_ro", O_CREAT | O_RDONLY, 0644);
    CHECK(fd >= 0);
    expect_errno("write to O_CREAT|O_RDONLY fd", (int)write(fd, "x", 1));
    close(fd);
    CHECK(unlink("/sandbox/d/created_ro") == 0);
    expect_errno("O_EXCL on existing", open("/sandbox/d/x", O_CREAT | O_WRONLY | O_EXCL, 0644));
    expect_errno("open missing", open("/sandbox/nope.txt", O_RDONLY));
    expect_errno("open dir for writing", open("/sandbox/d", O_WRONLY));
    expect_errno("opendir on a file", open("/sandbox/a.txt", O_RDONLY | O_DIRECTORY));
    CHECK(stat("/sandbox/d", &st) == 0);
    printf("d is dir: %d\n", S_ISDIR(st.st_mode));

    CHECK(rename("/sandbox/a.txt", "/sandbox/d/b.txt") == 0);
    expect_errno("stat renamed-away", stat("/sandbox/a.txt", &st));
    CHECK(symlink("b.txt", "/sandbox/d/ln") == 0);
    n = readlink("/sandbox/d/ln", buf, sizeof buf - 1);
    CHECK(n > 0);
    buf[n] = 0;
    printf("readlink: %s\n", buf);
    CHECK(lstat("/sandbox/d/ln", &st) == 0);
    printf("lstat is link: %d\n", S_ISLNK(st.st_mode));
    CHECK(stat("/sandbox/d/ln", &st) == 0);
    printf("stat through link size: %lld\n", (long long)st.st_size);
    CHECK(link("/sandbox/d/b.txt", "/sandbox/d/hard") == 0);
    CHECK(stat("/sandbox/d/b.txt", &st) == 0);
    printf("nlink after link: %lld\n", (long long)st.st_nlink);
    if (list("/sandbox/d")) return 1;

    struct timespec times[2] = {{1000000000, 0}, {1234567890, 500}};
    CHECK(utimensat(AT_FDCWD, "/sandbox/d/b.txt", times, 0) == 0);
    CHECK(stat("/sandbox/d/b.txt", &st) == 0);
    printf("mtime: %lld.%09ld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);

    // Descriptor calls wasi-libc exposes through POSIX: fcntl flags (append on and off),
    // fsync/fdatasync, posix_fadvise, posix_fallocate, and the raw renumber and rights calls.
    fd = open("/sandbox/d/misc", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "abc", 3) == 3);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(fcntl(fd, F_SETFL, O_APPEND) == 0);
    printf("fcntl append set: %d\n", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    CHECK(write(fd, "def", 3) == 3);
    CHECK(fcntl(fd, F_SETFL, 0) == 0);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(write(fd, "X", 1) == 1);
    CHECK(pread(fd, buf, 6, 0) == 6);
    printf("after append on/off: %.6s\n", buf);
    printf("fsync: %d, fdatasync: %d\n", fsync(fd), fdatasync(fd));
    printf("posix_fadvise: %d\n", posix_fadvise(fd, 0, 6, POSIX_FADV_SEQUENTIAL));
    int fd2 = open("/sandbox/d/x", O_RDONLY);
    CHECK(fd2 >= 0);
    printf("fd_renumber: %d\n", __wasi_fd_renumber(fd, fd2));
    CHECK(pread(fd2, buf, 6, 0) == 6);
    printf("renumbered fd reads misc: %.6s\n", buf);
    printf("old fd closed: %d\n", __wasi_fd_close(fd));
    __wasi_fdstat_t fst;
    CHECK(__wasi_fd_fdstat_get(fd2, &fst) == 0);
    printf("rights include write: %d\n", (fst.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0);
    printf("drop write right: %d\n", __wasi_fd_fdstat_set_rights(fd2, fst.fs_rights_base & ~__WASI_RIGHTS_FD_WRITE, 0));
    expect_errno("write without the right", (int)write(fd2, "x", 1));
    printf("regain write right: %d\n", __wasi_fd_fdstat_set_rights(fd2, fst.fs_rights_base, 0));
    close(fd2);
    CHECK(unlink("/sandbox/d/misc") == 0);

    // Many entries: readdir continues with cookies across several fd_readdir calls.
    CHECK(mkdir("/sandbox/many", 0755) == 0);
    for (int i = 0; i < 300; i++) {
        char path[96];
        sprintf(path, "/sandbox/many/entry-with-a-longish-name-%03d", i);
        fd = open(path, O_CREAT | O_WRONLY, 0644);
        CHECK(fd >= 0);
        close(fd);
    }
    DIR *dir = opendir("/sandbox/many");
    CHECK(dir);
    int count = 0, sum = 0;
    struct dirent *ent;
    while ((ent = readdir(dir))) {
        count++;
        if (ent->d_name[0] != '.') sum += atoi(ent->d_name + strlen("entry-with-a-longish-name-"));
    }
    printf("many: %d entries, index sum %d\n", count, sum);
    rewinddir(dir);
    count = 0;
    while (readdir(dir)) count++;
    printf("many after rewinddir: %d entries\n", count);
    closedir(dir);
    for (int i = 0; i < 300; i++) {
        char path[96];
        sprintf(path, "/sandbox/many/entry-with-a-longish-name-%03d", i);
        CHECK(unlink(path) == 0);
    }
    CHECK(rmdir("/sandbox/many") == 0);

    expect_errno("rmdir non-empty", rmdir("/sandbox/d"));
    expect_errno("unlink a directory", unlink("/sandbox/d"));
    const char *names[] = {"x", "y", "z", "b.txt", "ln", "hard"};
    for (int i = 0; i < 6; i++) {
        char path[32];
        sprintf(path, "/sandbox/d/%s", names[i]);
        CHECK(unlink(path) == 0);
    }
    CHECK(rmdir("/sandbox/d") == 0);
    if (list("/sandbox")) return 1;
    printf("done\n");
    return 0;
}
