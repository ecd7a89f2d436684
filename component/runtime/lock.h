/* lock.h - one chatdesk per database.
 *
 * Some servers (ejabberd) accept a second connection for the same component
 * silently, so chatdesk guards itself: an exclusive flock() on
 * "<database>.lock", held for the life of the process.
 */
#ifndef CHATDESK_LOCK_H
#define CHATDESK_LOCK_H

#include <stddef.h>

/* Take the lock for db_path. Returns a descriptor to pass to lock_release(),
 * or -1 with a message in err (naming the PID of the holder when known). */
int lock_acquire(const char *db_path, char *err, size_t errlen);

void lock_release(int fd);

#endif
