/* nosync.c - an LD_PRELOAD shim for one experiment of scripts/bench: it
 * turns fsync() and fdatasync() into no-ops, so that a chatdesk run shows
 * what its message path costs without waiting for the disk (the upper
 * bound of a group commit). Never use it for anything but that
 * measurement: with it, an acknowledged message can be lost on power loss.
 */
#include <unistd.h>

int fsync(int fd)
{
    (void)fd;
    return 0;
}

int fdatasync(int fd)
{
    (void)fd;
    return 0;
}
