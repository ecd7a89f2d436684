/* lock.c - see lock.h */
#include "runtime/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int lock_acquire(const char *db_path, char *err, size_t errlen)
{
    char path[1100];
    snprintf(path, sizeof path, "%s.lock", db_path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open lock file %s: %s", path,
                 strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = read(fd, pid, sizeof pid - 1);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        snprintf(err, errlen,
                 "another chatdesk (pid %s) is already running on database "
                 "%s; stop it first",
                 *pid ? pid : "unknown", db_path);
        close(fd);
        return -1;
    }
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || write(fd, buf, (size_t)len) != len) {
        snprintf(err, errlen, "cannot write lock file %s: %s", path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void lock_release(int fd)
{
    if (fd >= 0)
        close(fd);
}
