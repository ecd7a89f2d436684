/* conn.c - see conn.h */
#include "runtime/conn.h"

#include "runtime/app.h"
#include "runtime/clock.h"
#include "runtime/config.h"
#include "runtime/dispatch.h"
#include "runtime/log.h"
#include "runtime/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_ONLINE };

struct conn {
    xmpp_ctx_t *ctx;
    xmpp_conn_t *xc;
    const struct config *cfg;
    struct app *app;
    struct conn_hooks hooks;
    enum conn_state state;
    unsigned attempt;       /* failed attempts since the last success */
    uint64_t next_try_ms;   /* monotonic time of the next connect attempt */
    uint64_t next_tick_ms;
    int fatal;
    int stopping; /* conn__shutdown() under way: no reconnect */
    uint64_t last_in_ms; /* clock_mono_ms() of the last stanza read */
};

#define CONN_BACKOFF_BASE_MS 250UL

unsigned long conn_backoff_ms(unsigned attempt, unsigned long cap_ms)
{
    unsigned long d = CONN_BACKOFF_BASE_MS;
    for (unsigned i = 0; i < attempt && d < cap_ms; i++)
        d *= 2;
    return d < cap_ms ? d : cap_ms;
}

/* Component traffic is many small stanzas: no Nagle, and keepalive so a dead
 * server is noticed. */
static int conn__sockopt(xmpp_conn_t *xc, void *sock)
{
    int fd = *(int *)sock;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return xmpp_sockopt_cb_keepalive(xc, sock);
}

static int conn__stanza(xmpp_conn_t *xc, xmpp_stanza_t *stanza, void *ud)
{
    struct conn *c = ud;
    (void)xc;
    c->last_in_ms = clock_mono_ms();
    metrics_stanza_in(metrics_kind_of(xmpp_stanza_get_name(stanza)));
    dispatch_stanza(c->app->dispatch, c->app, stanza);
    return 1;
}

static void conn__schedule_retry(struct conn *c)
{
    unsigned long delay =
        conn_backoff_ms(c->attempt, (unsigned long)c->cfg->reconnect_max *
                                        1000UL);
    c->attempt++;
    metrics_reconnect();
    c->next_try_ms = clock_mono_ms() + delay;
    c->state = CONN_IDLE;
    log_info("conn", "reconnecting to %s:%d in %lu ms", c->cfg->host,
             c->cfg->port, delay);
}

static void conn__event(xmpp_conn_t *xc, xmpp_conn_event_t event, int error,
                        xmpp_stream_error_t *se, void *ud)
{
    struct conn *c = ud;
    (void)xc;
    if (event == XMPP_CONN_CONNECT) {
        log_info("conn", "online as %s", c->cfg->jid);
        c->state = CONN_ONLINE;
        c->attempt = 0;
        if (c->hooks.on_online)
            c->hooks.on_online(c->app);
        return;
    }
    if (c->stopping) {
        c->state = CONN_IDLE;
        return;
    }
    if (se && (se->type == XMPP_SE_NOT_AUTHORIZED ||
               se->type == XMPP_SE_HOST_UNKNOWN)) {
        /* ejabberd says not-authorized for an unknown domain too */
        log_error("conn",
                  "the server refused the component handshake for %s: the "
                  "secret does not match the server's component secret, or "
                  "the server has no component %s configured%s%s",
                  c->cfg->jid, c->cfg->jid, se->text ? ": " : "",
                  se->text ? se->text : "");
        c->fatal = 1;
        c->state = CONN_IDLE;
        return;
    }
    if (se && se->type == XMPP_SE_CONFLICT)
        log_error("conn",
                  "the server says another component is connected as %s; "
                  "is a second chatdesk running on another database?",
                  c->cfg->jid);
    if (c->state == CONN_ONLINE)
        log_warn("conn", "connection lost (error %d%s%s)", error,
                 se && se->text ? ", " : "", se && se->text ? se->text : "");
    else
        log_warn("conn", "cannot connect to %s:%d (error %d)", c->cfg->host,
                 c->cfg->port, error);
    conn__schedule_retry(c);
}

static void conn__ignore_event(xmpp_conn_t *xc, xmpp_conn_event_t event,
                               int error, xmpp_stream_error_t *se, void *ud)
{
    (void)xc, (void)event, (void)error, (void)se, (void)ud;
}

/* libstrophe 0.12 allocates its stream-management state only in
 * xmpp_connect_client(), but reads it for every stanza, send and disconnect;
 * a component connection without it crashes on the handshake reply. Borrow
 * the state from a throw-away client connection to a closed loopback port. */
static int conn__give_sm_state(struct conn *c)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof sa;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    xmpp_conn_t *tmp = xmpp_conn_new(c->ctx);
    xmpp_conn_set_jid(tmp, "sm-workaround@localhost");
    xmpp_conn_set_flags(tmp, XMPP_CONN_FLAG_DISABLE_TLS);
    int rc = xmpp_connect_client(tmp, "127.0.0.1", ntohs(sa.sin_port),
                                 conn__ignore_event, NULL);
    if (rc == XMPP_EOK) {
        xmpp_disconnect(tmp);
        for (int i = 0; i < 100 && !xmpp_conn_is_disconnected(tmp); i++)
            xmpp_run_once(c->ctx, 10);
    }
    close(fd);
    xmpp_sm_state_t *sm = xmpp_conn_get_sm_state(tmp);
    xmpp_conn_release(tmp);
    if (!sm)
        return -1;
    if (xmpp_conn_set_sm_state(c->xc, sm) != XMPP_EOK) {
        xmpp_free_sm_state(sm);
        return -1;
    }
    return 0;
}

static void conn__try_connect(struct conn *c)
{
    if (!c->xc) {
        c->xc = xmpp_conn_new(c->ctx);
        xmpp_conn_set_jid(c->xc, c->cfg->jid);
        xmpp_conn_set_pass(c->xc, c->cfg->secret);
        xmpp_conn_set_sockopt_callback(c->xc, conn__sockopt);
        /* One handler for every stanza; dispatch.c sorts them by kind. */
        xmpp_handler_add(c->xc, conn__stanza, NULL, NULL, NULL, c);
        if (conn__give_sm_state(c) != 0) {
            log_error("conn", "cannot prepare the connection state");
            c->fatal = 1;
            return;
        }
    }
    log_info("conn", "connecting to %s:%d as %s", c->cfg->host, c->cfg->port,
             c->cfg->jid);
    c->state = CONN_CONNECTING;
    if (xmpp_connect_component(c->xc, c->cfg->host,
                               (unsigned short)c->cfg->port, conn__event,
                               c) != XMPP_EOK)
        conn__schedule_retry(c);
}

struct conn *conn_new(xmpp_ctx_t *ctx, const struct config *cfg,
                      struct app *app, const struct conn_hooks *hooks)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->ctx = ctx;
    c->cfg = cfg;
    c->app = app;
    if (hooks)
        c->hooks = *hooks;
    return c;
}

void conn_free(struct conn *c)
{
    if (!c)
        return;
    if (c->xc)
        xmpp_conn_release(c->xc);
    free(c);
}

void conn_send(void *ud, xmpp_stanza_t *stanza)
{
    struct conn *c = ud;
    if (c->state != CONN_ONLINE) {
        log_warn("conn", "offline: dropped an outgoing <%s/>",
                 xmpp_stanza_get_name(stanza));
        return;
    }
    metrics_stanza_out(metrics_kind_of(xmpp_stanza_get_name(stanza)));
    xmpp_send(c->xc, stanza);
}

/* The rate limit's answers to refused messages (dispatch.h, lowq.h) that
 * may go after this pass: normal traffic first. Offline they wait for the
 * next connection (the queue is bounded); a clean stop sends them all
 * before the stream closes (conn__shutdown). */
static void conn__refusals(struct conn *c, int quiet)
{
    struct dispatch *d = c->app->dispatch;
    if (!dispatch_refusals_pending(d) || c->state != CONN_ONLINE || !c->xc)
        return;
    int sendq = xmpp_conn_send_queue_len(c->xc);
    size_t n = dispatch_refusals_due(d, sendq, quiet);
    if (!n)
        return;
    dispatch_send_refusals(d, c->app, n);
    log_debug("conn",
              "sent %zu answers to refused messages after a %s pass (send "
              "queue %d, %zu wait)",
              n, quiet ? "quiet" : "busy", sendq,
              dispatch_refusals_pending(d));
}

/* One event-loop pass, then the group commit. Without a commit writer
 * (app->flush): one COMMIT for the messages of this pass, then their
 * reflections (sent by the next pass's write phase), so nothing is held
 * between two passes. With one (app->pump): the batch is handed to the
 * writer's thread and what is already durable is sent. While a batch is
 * in flight, a pass reads without waiting and then waits for the writer
 * instead (1 ms at most: libstrophe watches only its own sockets), so a
 * reflection leaves as soon as its batch is durable; conn_run() flushes
 * before the tick. Then the answers to refused messages that may go (after
 * the reflections; all of them only once no stanza came for CONN_QUIET_MS,
 * i.e. the flood that caused them and the traffic around it are read: a
 * pass waits CONN_WAITING_MS at most while answers wait and the stream is
 * up), then the pass hook (HTTP moves on, never waiting). */
#define CONN_QUIET_MS 20
#define CONN_WAITING_MS 5UL
static void conn__pass(struct conn *c, unsigned long timeout_ms)
{
    struct app *app = c->app;
    if (c->state == CONN_ONLINE && dispatch_refusals_pending(app->dispatch) &&
        timeout_ms > CONN_WAITING_MS)
        timeout_ms = CONN_WAITING_MS;
    if (app->busy && app->busy(app))
        timeout_ms = 0;
    xmpp_run_once(c->ctx, timeout_ms);
    if (app->pump) {
        app->pump(app);
        if (app->wait && app->wait(app, 1))
            app->pump(app); /* what just became durable: sent next pass */
    } else if (app->flush)
        app->flush(app);
    conn__refusals(c, clock_mono_ms() - c->last_in_ms >= CONN_QUIET_MS);
    if (c->hooks.pass)
        c->hooks.pass(app);
}

static void conn__shutdown(struct conn *c)
{
    if (!c->xc || xmpp_conn_is_disconnected(c->xc))
        return;
    if (c->state == CONN_ONLINE && c->hooks.stopping)
        c->hooks.stopping(c->app);
    if (c->state == CONN_ONLINE)
        dispatch_send_refusals(c->app->dispatch, c->app,
                               dispatch_refusals_pending(c->app->dispatch));
    log_info("conn", "closing the stream");
    c->stopping = 1;
    xmpp_disconnect(c->xc);
    uint64_t deadline = clock_mono_ms() + 2000;
    while (!xmpp_conn_is_disconnected(c->xc) && clock_mono_ms() < deadline)
        conn__pass(c, 50);
}

enum conn_exit conn_run(struct conn *c, volatile sig_atomic_t *stop)
{
    /* With no socket open xmpp_run_once() sleeps the whole ctx timeout. */
    xmpp_ctx_set_timeout(c->ctx, 100);
    c->next_try_ms = clock_mono_ms();
    while (!*stop && !c->fatal) {
        uint64_t now = clock_mono_ms();
        if (c->state == CONN_IDLE && now >= c->next_try_ms)
            conn__try_connect(c);
        if (now >= c->next_tick_ms) {
            c->next_tick_ms = now + 1000;
            if (c->app->flush) /* nothing is held or in flight at a tick */
                c->app->flush(c->app);
            if (c->hooks.tick)
                c->hooks.tick(c->app);
        }
        dispatch_run_timers(c->app->dispatch, c->app);
        conn__pass(c, 100);
    }
    if (c->fatal)
        return CONN_EXIT_FATAL;
    conn__shutdown(c);
    return CONN_EXIT_STOPPED;
}
