/* conn.c - see conn.h */
#include "runtime/conn.h"

#include "runtime/app.h"
#include "runtime/clock.h"
#include "runtime/config.h"
#include "runtime/dispatch.h"
#include "runtime/log.h"
#include "runtime/metrics.h"
#include "runtime/slots.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum conn_state {
    CONN_IDLE,       /* waiting for the next attempt (back-off) */
    CONN_CONNECTING,
    CONN_ONLINE,
    CONN_CLOSING,    /* closed on purpose (holds no route slot) */
    CONN_GONE        /* closed: conn_run() frees it between passes */
};

/* The stanzas sent on a connection during a pass, serialised back to
 * back: handed to libstrophe as one piece of its send queue before the
 * next pass writes (conn__out_flush()), so a pass's reflections leave in
 * one send() and one TCP segment train instead of one of each per stanza.
 * Nothing leaves earlier than before: libstrophe writes its queue only at
 * the start of xmpp_run_once(). sent[] keeps how many stanzas each of the
 * last CONN_OUT_RING pieces held, so the send queue is still counted in
 * stanzas (conn__sendq(), for the answers to refused messages). */
#define CONN_OUT_RING 64
#define CONN_OUT_MAX (256 * 1024) /* a longer piece is handed over at once */
struct conn_out {
    char *buf;
    size_t len, cap;
    unsigned n;                   /* stanzas in buf */
    unsigned sent[CONN_OUT_RING]; /* stanzas of the pieces handed over */
    unsigned next;                /* where the next count goes in sent[] */
};

/* One component connection (XEP-0114 stream). A process holds one, or
 * several behind ejabberd's domain_balancing ([component] connections);
 * each keeps its own reconnect back-off. */
struct conn_link {
    struct conn *c;
    unsigned index; /* in c->links, for the logs and the prober */
    xmpp_conn_t *xc;
    enum conn_state state;
    unsigned attempt;     /* failed attempts since the last success */
    uint64_t next_try_ms; /* monotonic time of the next connect attempt */
    char label[16];       /* " #N" in the logs when there may be several */
    struct conn_out out;  /* what this pass sent, not yet libstrophe's */
};

struct conn {
    xmpp_ctx_t *ctx;
    const struct config *cfg;
    struct app *app;
    struct conn_hooks hooks;
    struct conn_link *links[SLOTS_LINKS_MAX]; /* NULL: no connection */
    unsigned n_links;                         /* highest index used + 1 */
    struct slots *slots; /* connections = auto: the prober; else NULL */
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
    struct conn_link *l = ud;
    struct conn *c = l->c;
    (void)xc;
    metrics_stanza_in(metrics_kind_of(xmpp_stanza_get_name(stanza)));
    if (c->slots && slots_receive(c->slots, l->index, stanza))
        return 1; /* a route-slot probe: never dispatched */
    c->last_in_ms = clock_mono_ms();
    dispatch_stanza(c->app->dispatch, c->app, stanza);
    return 1;
}

static void conn__schedule_retry(struct conn_link *l)
{
    const struct config *cfg = l->c->cfg;
    unsigned long delay =
        conn_backoff_ms(l->attempt, (unsigned long)cfg->reconnect_max *
                                        1000UL);
    l->attempt++;
    metrics_reconnect();
    l->next_try_ms = clock_mono_ms() + delay;
    l->state = CONN_IDLE;
    log_info("conn", "reconnecting%s to %s:%d in %lu ms", l->label,
             cfg->host, cfg->port, delay);
}

static unsigned conn__online_count(const struct conn *c)
{
    unsigned n = 0;
    for (unsigned i = 0; i < c->n_links; i++)
        n += c->links[i] && c->links[i]->state == CONN_ONLINE;
    return n;
}

static void conn__online(struct conn_link *l)
{
    struct conn *c = l->c;
    int first = conn__online_count(c) == 0;
    log_info("conn", "online as %s%s", c->cfg->jid, l->label);
    l->state = CONN_ONLINE;
    l->attempt = 0;
    if (c->slots)
        slots_link_changed(c->slots, l->index);
    if (first && c->hooks.on_online)
        c->hooks.on_online(c->app);
    else if (!first && c->hooks.link_online)
        c->hooks.link_online(c->app);
}

/* The server refused the handshake: the secret, or an unknown domain. */
static void conn__refused(struct conn_link *l, xmpp_stream_error_t *se)
{
    const char *jid = l->c->cfg->jid;
    /* ejabberd says not-authorized for an unknown domain too */
    log_error("conn",
              "the server refused the component handshake for %s: the "
              "secret does not match the server's component secret, or "
              "the server has no component %s configured%s%s",
              jid, jid, se->text ? ": " : "", se->text ? se->text : "");
    l->c->fatal = 1;
    l->state = CONN_IDLE;
}

static void conn__event(xmpp_conn_t *xc, xmpp_conn_event_t event, int error,
                        xmpp_stream_error_t *se, void *ud)
{
    struct conn_link *l = ud;
    struct conn *c = l->c;
    (void)xc;
    if (event == XMPP_CONN_CONNECT) {
        conn__online(l);
        return;
    }
    l->out.len = l->out.n = 0; /* as libstrophe drops its queue */
    if (c->slots)
        slots_link_changed(c->slots, l->index);
    if (c->stopping || l->state == CONN_CLOSING) {
        l->state = c->stopping ? CONN_IDLE : CONN_GONE;
        return;
    }
    if (se && (se->type == XMPP_SE_NOT_AUTHORIZED ||
               se->type == XMPP_SE_HOST_UNKNOWN)) {
        conn__refused(l, se);
        return;
    }
    if (se && se->type == XMPP_SE_CONFLICT && l->index > 0) {
        /* a server without domain_balancing: one connection is all */
        log_info("conn", "the server refuses a second connection as %s "
                 "(conflict): connection #%u closed", c->cfg->jid, l->index);
        l->state = CONN_GONE;
        return;
    }
    if (se && se->type == XMPP_SE_CONFLICT)
        log_error("conn",
                  "the server says another component is connected as %s; "
                  "is a second chatdesk running on another database?",
                  c->cfg->jid);
    if (l->state == CONN_ONLINE)
        log_warn("conn", "connection%s lost (error %d%s%s)", l->label,
                 error, se && se->text ? ", " : "",
                 se && se->text ? se->text : "");
    else
        log_warn("conn", "cannot connect to %s:%d (error %d)", c->cfg->host,
                 c->cfg->port, error);
    conn__schedule_retry(l);
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
static int conn__give_sm_state(xmpp_ctx_t *ctx, xmpp_conn_t *xc)
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
    xmpp_conn_t *tmp = xmpp_conn_new(ctx);
    xmpp_conn_set_jid(tmp, "sm-workaround@localhost");
    xmpp_conn_set_flags(tmp, XMPP_CONN_FLAG_DISABLE_TLS);
    int rc = xmpp_connect_client(tmp, "127.0.0.1", ntohs(sa.sin_port),
                                 conn__ignore_event, NULL);
    if (rc == XMPP_EOK) {
        xmpp_disconnect(tmp);
        for (int i = 0; i < 100 && !xmpp_conn_is_disconnected(tmp); i++)
            xmpp_run_once(ctx, 10);
    }
    close(fd);
    xmpp_sm_state_t *sm = xmpp_conn_get_sm_state(tmp);
    xmpp_conn_release(tmp);
    if (!sm)
        return -1;
    if (xmpp_conn_set_sm_state(xc, sm) != XMPP_EOK) {
        xmpp_free_sm_state(sm);
        return -1;
    }
    return 0;
}

static void conn__try_connect(struct conn_link *l)
{
    struct conn *c = l->c;
    if (!l->xc) {
        l->xc = xmpp_conn_new(c->ctx);
        xmpp_conn_set_jid(l->xc, c->cfg->jid);
        xmpp_conn_set_pass(l->xc, c->cfg->secret);
        xmpp_conn_set_sockopt_callback(l->xc, conn__sockopt);
        /* One handler for every stanza; dispatch.c sorts them by kind. */
        xmpp_handler_add(l->xc, conn__stanza, NULL, NULL, NULL, l);
        if (conn__give_sm_state(c->ctx, l->xc) != 0) {
            log_error("conn", "cannot prepare the connection state");
            c->fatal = 1;
            return;
        }
    }
    log_info("conn", "connecting%s to %s:%d as %s", l->label, c->cfg->host,
             c->cfg->port, c->cfg->jid);
    l->state = CONN_CONNECTING;
    if (xmpp_connect_component(l->xc, c->cfg->host,
                               (unsigned short)c->cfg->port, conn__event,
                               l) != XMPP_EOK)
        conn__schedule_retry(l);
}

/* A new connection in the first free place; it connects at once. */
static struct conn_link *conn__add_link(struct conn *c)
{
    unsigned i = 0;
    while (i < SLOTS_LINKS_MAX && c->links[i])
        i++;
    if (i == SLOTS_LINKS_MAX)
        return NULL;
    struct conn_link *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->c = c;
    l->index = i;
    l->next_try_ms = clock_mono_ms();
    if (c->slots || c->cfg->connections > 1)
        snprintf(l->label, sizeof l->label, " #%u", i);
    c->links[i] = l;
    if (i >= c->n_links)
        c->n_links = i + 1;
    return l;
}

static void conn__free_link(struct conn *c, unsigned i)
{
    struct conn_link *l = c->links[i];
    if (!l)
        return;
    if (l->xc)
        xmpp_conn_release(l->xc);
    free(l->out.buf);
    free(l);
    c->links[i] = NULL;
    while (c->n_links && !c->links[c->n_links - 1])
        c->n_links--;
}

static void conn__foreign(struct app *app, const char *round, int n,
                          unsigned link, void *ud)
{
    struct conn *c = ud;
    (void)link;
    if (c->hooks.probe_foreign)
        c->hooks.probe_foreign(app, round, n);
}

static int conn__elsewhere(struct app *app, const char *round,
                           unsigned char *seen, size_t nseen, void *ud)
{
    struct conn *c = ud;
    return c->hooks.probes_elsewhere
               ? c->hooks.probes_elsewhere(app, round, seen, nseen)
               : 0;
}

struct conn *conn_new(xmpp_ctx_t *ctx, const struct config *cfg,
                      struct app *app, const struct conn_hooks *hooks)
{
    struct conn *c = calloc(1, sizeof *c);
    unsigned want = cfg->connections > 0 ? (unsigned)cfg->connections : 1;
    if (!c)
        return NULL;
    c->ctx = ctx;
    c->cfg = cfg;
    c->app = app;
    if (hooks)
        c->hooks = *hooks;
    if (cfg->connections == 0 &&
        !(c->slots = slots_new(app, (unsigned)cfg->connections_max))) {
        free(c);
        return NULL;
    }
    if (c->slots) {
        slots_set_foreign(c->slots, conn__foreign, c);
        slots_set_elsewhere(c->slots, conn__elsewhere, c);
    }
    for (unsigned i = 0; i < want && i < SLOTS_LINKS_MAX; i++)
        if (!conn__add_link(c)) {
            conn_free(c);
            return NULL;
        }
    return c;
}

void conn_free(struct conn *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < SLOTS_LINKS_MAX; i++)
        conn__free_link(c, i);
    slots_free(c->slots);
    free(c);
}

/* The first connection online, or NULL: where stanzas go out (any will
 * do: the server routes by the destination). */
static struct conn_link *conn__first_online(const struct conn *c)
{
    for (unsigned i = 0; i < c->n_links; i++)
        if (c->links[i] && c->links[i]->state == CONN_ONLINE)
            return c->links[i];
    return NULL;
}

/* Hand what l's pass sent to libstrophe's send queue (one piece). */
static void conn__out_flush(struct conn_link *l)
{
    struct conn_out *o = &l->out;
    if (!o->len)
        return;
    xmpp_send_raw(l->xc, o->buf, o->len);
    o->sent[o->next] = o->n;
    o->next = (o->next + 1) % CONN_OUT_RING;
    o->len = o->n = 0;
}

static void conn__out_flush_all(struct conn *c)
{
    for (unsigned i = 0; i < c->n_links; i++)
        if (c->links[i] && c->links[i]->state == CONN_ONLINE)
            conn__out_flush(c->links[i]);
}

/* Append bytes to l's pass buffer (NUL-terminated, not yet a stanza);
 * 0, or -1 out of memory. */
static int conn__out_put(struct conn_link *l, const char *text, size_t len)
{
    struct conn_out *o = &l->out;
    if (o->len + len + 1 > o->cap) { /* NUL-terminated: libstrophe's
                                         debug log prints it as a string */
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + len + 1)
            cap *= 2;
        char *grown = realloc(o->buf, cap);
        if (!grown)
            return -1;
        o->buf = grown;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, text, len);
    o->len += len;
    o->buf[o->len] = '\0';
    return 0;
}

/* The stanza put in l's pass buffer is whole: count it. */
static void conn__out_end(struct conn_link *l)
{
    l->out.n++;
    if (l->out.len >= CONN_OUT_MAX)
        conn__out_flush(l);
}

static int conn__out_add(struct conn_link *l, const char *text, size_t len)
{
    if (conn__out_put(l, text, len) != 0)
        return -1;
    conn__out_end(l);
    return 0;
}

/* Stanzas waiting to be written on l: libstrophe's pieces, counted by
 * what each held (a piece it queued itself counts one), and the pass's. */
static int conn__sendq(const struct conn_link *l)
{
    const struct conn_out *o = &l->out;
    int pieces = xmpp_conn_send_queue_len(l->xc), n = (int)o->n;
    for (int i = 0; i < pieces; i++) {
        unsigned k = i < CONN_OUT_RING ? o->sent[(o->next + CONN_OUT_RING -
                                                  1 - (unsigned)i) %
                                                 CONN_OUT_RING]
                                       : 1;
        n += k ? (int)k : 1;
    }
    return n;
}

void conn_send(void *ud, xmpp_stanza_t *stanza)
{
    struct conn *c = ud;
    struct conn_link *l = conn__first_online(c);
    if (!l) {
        log_warn("conn", "offline: dropped an outgoing <%s/>",
                 xmpp_stanza_get_name(stanza));
        return;
    }
    metrics_stanza_out(metrics_kind_of(xmpp_stanza_get_name(stanza)));
    char *text = NULL;
    size_t len = 0;
    if (xmpp_stanza_to_text(stanza, &text, &len) == XMPP_EOK &&
        conn__out_add(l, text, len) == 0) {
        xmpp_free(c->ctx, text);
        return;
    }
    if (text)
        xmpp_free(c->ctx, text);
    conn__out_flush(l); /* out of memory: the stanza after what came first */
    xmpp_send(l->xc, stanza);
}

/* Append s to l's pass buffer, XML-escaped for an attribute value; 0 or
 * -1 (out of memory). */
static int conn__out_attr(struct conn_link *l, const char *s)
{
    for (const char *p = s; *p;) {
        size_t plain = strcspn(p, "&<>\"'");
        if (plain && conn__out_put(l, p, plain) != 0)
            return -1;
        p += plain;
        if (!*p)
            break;
        const char *ent = *p == '&'   ? "&amp;"
                          : *p == '<' ? "&lt;"
                          : *p == '>' ? "&gt;"
                          : *p == '"' ? "&quot;"
                                      : "&apos;";
        if (conn__out_put(l, ent, strlen(ent)) != 0)
            return -1;
        p++;
    }
    return 0;
}

/* One copy of the stanza serialised in text (its element's name name_len
 * bytes after the '<') to to: the text with to='...' after the name. */
static int conn__out_copy(struct conn_link *l, const char *text, size_t len,
                          size_t name_len, const char *to)
{
    size_t head = 1 + name_len;
    if (conn__out_put(l, text, head) != 0 ||
        conn__out_put(l, " to=\"", 5) != 0 || conn__out_attr(l, to) != 0 ||
        conn__out_put(l, "\"", 1) != 0 ||
        conn__out_put(l, text + head, len - head) != 0)
        return -1;
    conn__out_end(l);
    return 0;
}

void conn_send_each(void *ud, xmpp_stanza_t *stanza, const char *const *to,
                    size_t n)
{
    struct conn *c = ud;
    struct conn_link *l = conn__first_online(c);
    const char *name = xmpp_stanza_get_name(stanza);
    size_t name_len = name ? strlen(name) : 0;
    char *text = NULL;
    size_t len = 0, i = 0;
    if (l && name_len && xmpp_stanza_to_text(stanza, &text, &len) == XMPP_EOK &&
        len > name_len + 1 && text[0] == '<' &&
        !strncmp(text + 1, name, name_len) &&
        text[1 + name_len] && strchr(" />", text[1 + name_len]))
        for (; i < n; i++) {
            size_t mark = l->out.len;
            if (conn__out_copy(l, text, len, name_len, to[i]) != 0) {
                l->out.len = mark; /* out of memory: one at a time */
                if (l->out.buf)
                    l->out.buf[mark] = '\0';
                break;
            }
            metrics_stanza_out(metrics_kind_of(name));
        }
    if (text)
        xmpp_free(c->ctx, text);
    for (; i < n; i++) { /* what could not be copied (or offline: logged) */
        xmpp_stanza_set_to(stanza, to[i]);
        conn_send(c, stanza);
    }
}

unsigned conn_online_count(const struct conn *c)
{
    return conn__online_count(c);
}

int conn_holds_domain(const struct conn *c)
{
    if (!c->slots)
        return 1;
    int i = slots_domain_link(c->slots);
    return i >= 0 && (unsigned)i < c->n_links && c->links[i] &&
           c->links[i]->state == CONN_ONLINE;
}

void conn_hurry(struct conn *c, unsigned delay_ms, unsigned expect)
{
    if (c->slots)
        slots_hurry(c->slots, clock_mono_ms(), delay_ms, expect);
}

unsigned conn_slots_held(const struct conn *c)
{
    return c->slots ? slots_held(c->slots) : conn__online_count(c);
}

/* The rate limit's answers to refused messages (dispatch.h, lowq.h) that
 * may go after this pass: normal traffic first. Offline they wait for the
 * next connection (the queue is bounded); a clean stop sends them all
 * before the stream closes (conn__shutdown). */
static void conn__refusals(struct conn *c, int quiet)
{
    struct dispatch *d = c->app->dispatch;
    struct conn_link *l = conn__first_online(c);
    if (!dispatch_refusals_pending(d) || !l)
        return;
    int sendq = conn__sendq(l); /* where conn_send sends */
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
    if (conn__first_online(c) && dispatch_refusals_pending(app->dispatch) &&
        timeout_ms > CONN_WAITING_MS)
        timeout_ms = CONN_WAITING_MS;
    if (app->busy && app->busy(app))
        timeout_ms = 0;
    conn__out_flush_all(c); /* what was sent since the last pass */
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

static int conn__all_disconnected(const struct conn *c)
{
    for (unsigned i = 0; i < c->n_links; i++) {
        struct conn_link *l = c->links[i];
        if (l && l->xc && !xmpp_conn_is_disconnected(l->xc))
            return 0;
    }
    return 1;
}

static void conn__shutdown(struct conn *c)
{
    if (conn__all_disconnected(c))
        return;
    if (conn__online_count(c) && c->hooks.stopping)
        c->hooks.stopping(c->app);
    if (conn__first_online(c))
        dispatch_send_refusals(c->app->dispatch, c->app,
                               dispatch_refusals_pending(c->app->dispatch));
    log_info("conn", "closing the stream%s", c->n_links > 1 ? "s" : "");
    conn__out_flush_all(c); /* before the stream's closing tag */
    c->stopping = 1;
    for (unsigned i = 0; i < c->n_links; i++)
        if (c->links[i] && c->links[i]->xc &&
            !xmpp_conn_is_disconnected(c->links[i]->xc))
            xmpp_disconnect(c->links[i]->xc);
    uint64_t deadline = clock_mono_ms() + 2000;
    while (!conn__all_disconnected(c) && clock_mono_ms() < deadline)
        conn__pass(c, 50);
}

/* Between passes: connect what is due, free what was closed, and (with
 * connections = auto) let the prober probe and carry out its decision. */
static void conn__links(struct conn *c, uint64_t now)
{
    enum slots_link seen[SLOTS_LINKS_MAX];
    for (unsigned i = 0; i < c->n_links && !c->fatal; i++) {
        struct conn_link *l = c->links[i];
        if (l && l->state == CONN_GONE)
            conn__free_link(c, i);
        else if (l && l->state == CONN_IDLE && now >= l->next_try_ms)
            conn__try_connect(l);
    }
    if (!c->slots)
        return;
    for (unsigned i = 0; i < c->n_links; i++)
        seen[i] = !c->links[i] ? SLOTS_LINK_NONE
                  : c->links[i]->state == CONN_ONLINE ? SLOTS_LINK_ONLINE
                                                      : SLOTS_LINK_PENDING;
    struct slots_action a = slots_poll(c->slots, now, seen, c->n_links);
    if (a.what == SLOTS_OPEN) {
        struct conn_link *l = conn__add_link(c);
        if (l)
            conn__try_connect(l);
    } else if (a.what == SLOTS_CLOSE && a.link < c->n_links &&
               c->links[a.link]) {
        conn__out_flush(c->links[a.link]);
        c->links[a.link]->state = CONN_CLOSING;
        xmpp_disconnect(c->links[a.link]->xc);
    }
}

enum conn_exit conn_run(struct conn *c, volatile sig_atomic_t *stop)
{
    /* With no socket open xmpp_run_once() sleeps the whole ctx timeout. */
    xmpp_ctx_set_timeout(c->ctx, 100);
    while (!*stop && !c->fatal) {
        uint64_t now = clock_mono_ms();
        conn__links(c, now);
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
