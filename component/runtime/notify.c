/* notify.c - see notify.h */
#include "runtime/notify.h"

#include "runtime/clock.h"
#include "runtime/log.h"

#include <stdint.h>
#include <systemd/sd-daemon.h>

static int notify__stopping_sent;
static uint64_t notify__last_watchdog_ms;

void notify_ready(const char *jid, const char *host, int port)
{
    if (sd_notifyf(0, "READY=1\nSTATUS=online as %s via %s:%d", jid, host,
                   port) < 0)
        log_warn("notify", "cannot tell systemd the service is ready");
}

void notify_stopping(void)
{
    if (notify__stopping_sent)
        return;
    notify__stopping_sent = 1;
    sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void notify_watchdog(void)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0)
        return;
    uint64_t now = clock_mono_ms();
    if (notify__last_watchdog_ms && now - notify__last_watchdog_ms < usec /
                                                                   2000)
        return;
    notify__last_watchdog_ms = now;
    sd_notify(0, "WATCHDOG=1");
}
