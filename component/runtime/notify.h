/* notify.h - telling systemd how the service is (sd_notify, Type=notify).
 *
 * Each call is a no-op when chatdesk was not started by systemd (no
 * NOTIFY_SOCKET). All of them run on the chat loop's thread.
 */
#ifndef CHATDESK_NOTIFY_H
#define CHATDESK_NOTIFY_H

/* READY=1 with a STATUS naming where: the component handshake succeeded.
 * Sent again after each reconnect. */
void notify_ready(const char *jid, const char *host, int port);

/* STOPPING=1: a clean shutdown has begun. Sent once; later calls do
 * nothing. */
void notify_stopping(void);

/* WATCHDOG=1 when the unit sets WatchdogSec and at least half of it has
 * passed since the last one; call it from the loop's tick (about once a
 * second, so WatchdogSec must be 3 s or more). */
void notify_watchdog(void);

#endif
