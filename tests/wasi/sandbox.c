// Escape attempts from the preopen /sandbox, and writes to the read-only preopen /ro.
// Every one must fail; the test checks that nothing outside changed. The raw
// __wasi_path_open calls bypass wasi-libc's own preopen matching, so they reach the
// runtime's sandbox (cap-std) with `..` and absolute paths unfiltered.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static void report(const char *what, int r) {
    printf("%s: %s\n", what, r < 0 ? strerror(errno) : "SUCCEEDED");
}

static void raw_open(const char *what, __wasi_fd_t dir, const char *path, __wasi_oflags_t oflags,
                     __wasi_lookupflags_t lookup) {
    __wasi_fd_t fd;
    __wasi_rights_t rights = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE;
    __wasi_errno_t e = __wasi_path_open(dir, lookup, path, oflags, rights, rights, 0, &fd);
    printf("%s: %s\n", what, e == 0 ? "SUCCEEDED" : strerror(e));
    if (e == 0) (void)!__wasi_fd_close(fd);
}

int main(void) {
    struct stat st;
    char buf[64];
    report("open ../outside/secret.txt", open("/sandbox/../outside/secret.txt", O_RDONLY));
    report("open /etc/passwd", open("/etc/passwd", O_RDONLY));
    report("stat /sandbox/..", stat("/sandbox/../outside", &st));

    // fd 3 is /sandbox, fd 4 is /ro (preopened in that order).
    raw_open("raw open ../outside/secret.txt", 3, "../outside/secret.txt", 0, 0);
    raw_open("raw open sub/../../outside/secret.txt", 3, "sub/../../outside/secret.txt", 0, 0);
    raw_open("raw open /etc/passwd", 3, "/etc/passwd", 0, 0);
    raw_open("raw create ../escaped.txt", 3, "../escaped.txt", __WASI_OFLAGS_CREAT, 0);
    raw_open("raw open .. as dir", 3, "..", __WASI_OFLAGS_DIRECTORY, 0);

    report("open link_rel (-> ../outside/secret.txt)", open("/sandbox/link_rel", O_RDONLY));
    report("open link_abs (-> absolute outside path)", open("/sandbox/link_abs", O_RDONLY));
    report("open link_dir/secret.txt (dir link outside)", open("/sandbox/link_dir/secret.txt", O_RDONLY));
    report("write through link_rel", open("/sandbox/link_rel", O_WRONLY | O_TRUNC));
    report("stat link_abs", stat("/sandbox/link_abs", &st));
    report("lstat link_abs (the link itself)", lstat("/sandbox/link_abs", &st));
    report("create symlink to /etc/passwd", symlink("/etc/passwd", "/sandbox/evil"));
    report("create symlink to ../outside", symlink("../outside", "/sandbox/evil2"));
    report("rename into ..", rename("/sandbox/inside.txt", "/sandbox/../outside/moved.txt"));
    report("link to ..", link("/sandbox/inside.txt", "/sandbox/../outside/linked.txt"));

    report("ro: read ro.txt", open("/ro/ro.txt", O_RDONLY));
    int fd = open("/ro/ro.txt", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        printf("ro: contents: %s", buf);
        report("ro: write to read-only fd", (int)write(fd, "x", 1));
        report("ro: ftruncate", ftruncate(fd, 0));
        close(fd);
    }
    report("ro: open for writing", open("/ro/ro.txt", O_WRONLY));
    report("ro: open for append", open("/ro/ro.txt", O_WRONLY | O_APPEND));
    report("ro: truncate", open("/ro/ro.txt", O_RDWR | O_TRUNC));
    report("ro: create file", open("/ro/new.txt", O_CREAT | O_WRONLY, 0644));
    report("ro: mkdir", mkdir("/ro/newdir", 0755));
    report("ro: unlink", unlink("/ro/ro.txt"));
    report("ro: rmdir", rmdir("/ro/sub"));
    report("ro: rename", rename("/ro/ro.txt", "/ro/renamed.txt"));
    report("ro: rename out to rw", rename("/ro/ro.txt", "/sandbox/stolen.txt"));
    report("ro: symlink", symlink("ro.txt", "/ro/ln"));
    report("ro: link", link("/ro/ro.txt", "/ro/hard"));
    struct timespec times[2] = {{1, 0}, {1, 0}};
    report("ro: utimensat", utimensat(AT_FDCWD, "/ro/ro.txt", times, 0));
    printf("done\n");
    return 0;
}
