/* slowsync.c - an LD_PRELOAD shim for scripts/bench and one e2e test: every
 * fsync() and fdatasync() does its real work and then sleeps 2 ms more
 * (SLOWSYNC_MS in the environment changes that), the way a slow or shared
 * disk answers. It shows what a slow disk costs chatdesk in throughput and
 * in latency; durability is unchanged (the real call runs first). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void slowsync__sleep(void)
{
    const char *env = getenv("SLOWSYNC_MS");
    long ms = env && *env ? strtol(env, NULL, 10) : 2;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (ms > 0 && nanosleep(&ts, &ts) != 0)
        ;
}

int fsync(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int rc = real ? real(fd) : 0;

    slowsync__sleep();
    return rc;
}

int fdatasync(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    int rc = real ? real(fd) : 0;

    slowsync__sleep();
    return rc;
}
