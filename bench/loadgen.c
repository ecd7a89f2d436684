/* loadgen.c - the load generator of scripts/bench.
 *
 * Many XMPP client connections in one process: one xmpp_ctx, one
 * xmpp_run_once() loop, c2s login with SASL (SCRAM-SHA-1 or PLAIN, as the
 * server offers) over plain TCP on loopback, TCP_NODELAY on every socket.
 * libstrophe watches its sockets with select(): keep the number of
 * connections below ~1000 (FD_SETSIZE).
 *
 * Users are PREFIX<i>@DOMAIN with one password. Results are JSON lines on
 * stdout; progress and errors go to stderr. Every loop is bounded in time.
 *
 * Modes:
 *
 *  ping   --clients C --count N --target JID [--burst B] [--msg]
 *         C clients each make N round trips to JID, B at a time (iq ping,
 *         or with --msg a message the echo component sends back). One
 *         JSON line: the round-trip times.
 *
 *  chat   --kind chatdesk|muc|echo --service DOMAIN --sessions N --techs T
 *         --rate R --duration D --sat-duration S --window W[,W2,...]
 *         --body-size B
 *         N helpdesk sessions, each a room with its contact c<i> and one
 *         to three techs (2-4 occupants; techs are shared between
 *         sessions). chatdesk: the contact runs the ad-hoc start-chat and
 *         joins the room it gets; muc/echo: the contact joins
 *         bench-<i>@DOMAIN first (creating it). Then the techs join, and
 *         two measured phases follow: "rate" (each session sends R
 *         messages/s, its occupants taking turns, for D s) and "saturate"
 *         (each session keeps W messages in flight for S s: the next one
 *         leaves when one came back to its sender). With a list of windows
 *         (ascending) the saturation is a ramp: S s at each window, the
 *         window raised by sending the difference, one line a step
 *         ("saturate-wW"), then a "saturate" line that repeats the step
 *         with the most messages sent per second (the maximum). A body
 *         carries the send time; every delivery to an occupant counts, and
 *         its time-to-delivery goes into the percentiles of the step (or
 *         phase) it was sent in. One JSON line a phase or step.
 *
 *  create --service DOMAIN --contacts M --milestones 1000,10000 --window W
 *         Bulk sessions through start-chat: M contacts each keep W
 *         start-chat commands in flight and join every room they get.
 *         At each milestone (rooms joined) it prints a JSON line and waits
 *         for a line on stdin before going on; after the last it waits for
 *         a line (or EOF) and quits.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LG_NS_MUC "http://jabber.org/protocol/muc"
#define LG_NS_MUC_USER "http://jabber.org/protocol/muc#user"
#define LG_NS_COMMANDS "http://jabber.org/protocol/commands"
#define LG_NS_DATA "jabber:x:data"
#define LG_MAX_OCC 4
#define LG_MAX_CONNECTING 32
#define LG_BODY_MAX 4096
#define LG_MAX_STEPS 8

/* ---- options ------------------------------------------------------------ */

struct opts {
    const char *mode, *kind, *service, *target, *domain, *password;
    const char *contact_prefix, *tech_prefix, *milestones, *windows;
    int port, clients, count, burst, msg;
    int sessions, techs, window, body_size, contacts;
    double rate, duration, sat_duration, setup_timeout;
};

static struct opts opt = {
    .mode = "chat",
    .kind = "chatdesk",
    .service = "helpdesk.localhost",
    .domain = "localhost",
    .password = "pw",
    .contact_prefix = "c",
    .tech_prefix = "t",
    .milestones = "1000,10000",
    .windows = "1",
    .clients = 1,
    .count = 200,
    .burst = 1,
    .sessions = 50,
    .techs = 20,
    .window = 1,
    .body_size = 120,
    .contacts = 20,
    .rate = 1.0,
    .duration = 20,
    .sat_duration = 20,
    .setup_timeout = 120,
};

/* ---- small helpers ------------------------------------------------------ */

static volatile sig_atomic_t lg_stop;

static void lg__on_signal(int sig)
{
    (void)sig;
    lg_stop = 1;
}

static uint64_t lg__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double lg__cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void *lg__xalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(1);
    }
    return p;
}

/* A growable array of latencies in microseconds. */
struct lat {
    uint32_t *v;
    size_t n, cap;
};

static void lat_add(struct lat *l, uint64_t us)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        uint32_t *p = realloc(l->v, cap * sizeof *p);
        if (!p)
            return;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int lg__cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Percentile q (0..1) in ms of a sorted array. */
static double lat_pct(const struct lat *l, double q)
{
    if (!l->n)
        return 0;
    size_t i = (size_t)ceil(q * (double)l->n);
    if (i > 0)
        i--;
    if (i >= l->n)
        i = l->n - 1;
    return l->v[i] / 1000.0;
}

static void lat_print(struct lat *l)
{
    double sum = 0;
    size_t over20 = 0;
    qsort(l->v, l->n, sizeof *l->v, lg__cmp_u32);
    for (size_t i = 0; i < l->n; i++) {
        sum += l->v[i];
        over20 += l->v[i] > 20000;
    }
    printf("\"n\": %zu, \"mean_ms\": %.3f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
           "\"p99_ms\": %.3f, \"max_ms\": %.3f, \"over_20ms\": %zu",
           l->n, l->n ? sum / (double)l->n / 1000.0 : 0.0, lat_pct(l, 0.50),
           lat_pct(l, 0.90), lat_pct(l, 0.99), lat_pct(l, 1.0), over20);
}

/* A string -> int map (room bare JID -> session), open addressing. */
struct smap {
    char **keys;
    int *vals;
    size_t cap;
};

static size_t lg__hash(const char *s)
{
    size_t h = 1469598103934665603u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211u;
    return h;
}

static void smap_init(struct smap *m, size_t n)
{
    m->cap = 64;
    while (m->cap < n * 2 + 16)
        m->cap *= 2;
    m->keys = lg__xalloc(m->cap * sizeof *m->keys);
    m->vals = lg__xalloc(m->cap * sizeof *m->vals);
}

static void smap_put(struct smap *m, const char *key, int val)
{
    size_t i = lg__hash(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key))
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->keys[i] = strdup(key);
    m->vals[i] = val;
}

static int smap_get(const struct smap *m, const char *key)
{
    size_t i = lg__hash(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (!strcmp(m->keys[i], key))
            return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

static void smap_free(struct smap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
}

/* ---- state -------------------------------------------------------------- */

struct client {
    int idx;
    xmpp_conn_t *conn;
    char jid[256];
    int started, online, failed;
    /* ping mode */
    int pings_left, in_flight;
    /* create mode */
    int creating;
};

struct session {
    char room[512];      /* bare JID of the room; "" until known */
    int occ[LG_MAX_OCC]; /* client indices; occ[0] is the contact */
    int joined[LG_MAX_OCC];
    int n_occ, n_joined;
    int join_sent; /* how many occupants were sent their join */
    uint64_t next_send;
    unsigned seq, turn;
};

/* PH_SAT + k: step k of the saturation ramp */
enum phase { PH_SETUP, PH_RATE, PH_SAT, PH_N = PH_SAT + LG_MAX_STEPS };

struct phase_stats {
    uint64_t sent, delivered, expected, errors, t0, t1;
    double cpu0, cpu1;
    struct lat lat;
};

struct lg {
    xmpp_ctx_t *ctx;
    struct client *cl;
    int n_cl;
    struct session *ss;
    int n_ss;
    struct smap rooms;
    enum phase phase;
    struct phase_stats ph[PH_N];
    int window[LG_MAX_STEPS], n_steps; /* the saturation ramp */
    struct lat ping;
    int online, failed, joins_done, join_errors, create_errors;
    uint64_t id_seq;
    char pad[LG_BODY_MAX];
    /* create mode */
    int created, create_target;
};

static struct lg lg;

/* ---- connections -------------------------------------------------------- */

static int lg__sockopt(xmpp_conn_t *conn, void *sock)
{
    int fd = *(int *)sock;
    int one = 1;
    (void)conn;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
}

static void lg__conn_event(xmpp_conn_t *conn, xmpp_conn_event_t status,
                           int error, xmpp_stream_error_t *se, void *ud)
{
    struct client *c = ud;
    (void)se;
    if (status == XMPP_CONN_CONNECT) {
        c->online = 1;
        lg.online++;
        xmpp_stanza_t *p = xmpp_presence_new(lg.ctx);
        xmpp_send(conn, p);
        xmpp_stanza_release(p);
        return;
    }
    if (c->online)
        lg.online--;
    if (!c->failed) {
        fprintf(stderr, "loadgen: %s disconnected (error %d)\n", c->jid, error);
        lg.failed++;
    }
    c->online = 0;
    c->failed = 1;
}

static void lg__start_client(struct client *c)
{
    c->conn = xmpp_conn_new(lg.ctx);
    xmpp_conn_set_jid(c->conn, c->jid);
    xmpp_conn_set_pass(c->conn, opt.password);
    xmpp_conn_set_flags(c->conn,
                        XMPP_CONN_FLAG_DISABLE_TLS | XMPP_CONN_FLAG_DISABLE_SM);
    xmpp_conn_set_sockopt_callback(c->conn, lg__sockopt);
    c->started = 1;
    if (xmpp_connect_client(c->conn, "127.0.0.1", (unsigned short)opt.port,
                            lg__conn_event, c) != XMPP_EOK) {
        fprintf(stderr, "loadgen: cannot connect %s\n", c->jid);
        c->failed = 1;
        lg.failed++;
    }
}

static void lg__make_clients(int n_contacts, int n_techs)
{
    lg.n_cl = n_contacts + n_techs;
    lg.cl = lg__xalloc((size_t)lg.n_cl * sizeof *lg.cl);
    for (int i = 0; i < lg.n_cl; i++) {
        struct client *c = &lg.cl[i];
        c->idx = i;
        if (i < n_contacts)
            snprintf(c->jid, sizeof c->jid, "%s%d@%s/bench", opt.contact_prefix,
                     i, opt.domain);
        else
            snprintf(c->jid, sizeof c->jid, "%s%d@%s/bench", opt.tech_prefix,
                     i - n_contacts, opt.domain);
    }
}

/* Run the loop; keep at most LG_MAX_CONNECTING logins under way, until
 * every client is online (0) or the time is up (-1). */
static int lg__connect_all(void)
{
    uint64_t deadline = lg__now_us() + (uint64_t)(opt.setup_timeout * 1e6);
    int next = 0;
    while (!lg_stop && lg__now_us() < deadline) {
        int under_way = 0;
        for (int i = 0; i < next; i++)
            under_way += !lg.cl[i].online && !lg.cl[i].failed;
        while (next < lg.n_cl && under_way < LG_MAX_CONNECTING) {
            lg__start_client(&lg.cl[next++]);
            under_way++;
        }
        if (lg.failed)
            return -1;
        if (lg.online == lg.n_cl)
            return 0;
        xmpp_run_once(lg.ctx, 5);
    }
    fprintf(stderr, "loadgen: %d of %d clients online in time\n", lg.online,
            lg.n_cl);
    return -1;
}

static void lg__disconnect_all(void)
{
    for (int i = 0; i < lg.n_cl; i++)
        if (lg.cl[i].conn && lg.cl[i].online) {
            lg.cl[i].failed = 1; /* expected: no message */
            xmpp_disconnect(lg.cl[i].conn);
        }
    uint64_t deadline = lg__now_us() + 3000000;
    for (;;) {
        int open = 0;
        for (int i = 0; i < lg.n_cl; i++)
            open += lg.cl[i].conn && !xmpp_conn_is_disconnected(lg.cl[i].conn);
        if (!open || lg__now_us() > deadline)
            break;
        xmpp_run_once(lg.ctx, 10);
    }
    for (int i = 0; i < lg.n_cl; i++)
        if (lg.cl[i].conn)
            xmpp_conn_release(lg.cl[i].conn);
}

/* ---- ping mode ---------------------------------------------------------- */

static void lg__ping_send(struct client *c);

static int lg__ping_reply(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct client *c = ud;
    const char *id = xmpp_stanza_get_id(st);
    const char *dash = id ? strrchr(id, '-') : NULL;
    (void)conn;
    if (dash) {
        uint64_t t = strtoull(dash + 1, NULL, 10);
        lat_add(&lg.ping, lg__now_us() - t);
    }
    if (xmpp_stanza_get_type(st) && !strcmp(xmpp_stanza_get_type(st), "error"))
        lg.ph[PH_SETUP].errors++;
    if (--c->in_flight == 0 && c->pings_left > 0)
        lg__ping_send(c);
    return 0;
}

static int lg__echo_msg(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    const char *id = xmpp_stanza_get_id(st);
    if (!id || strncmp(id, "png-", 4))
        return 1;
    lg__ping_reply(conn, st, ud);
    return 1;
}

static void lg__ping_send(struct client *c)
{
    for (int b = 0; b < opt.burst && c->pings_left > 0; b++) {
        char id[64];
        xmpp_stanza_t *st;
        snprintf(id, sizeof id, "png-%d-%" PRIu64 "-%" PRIu64, c->idx,
                 ++lg.id_seq, lg__now_us());
        if (opt.msg) {
            st = xmpp_message_new(lg.ctx, "chat", opt.target, id);
            xmpp_message_set_body(st, "ping");
        } else {
            xmpp_stanza_t *ping = xmpp_stanza_new(lg.ctx);
            st = xmpp_iq_new(lg.ctx, "get", id);
            xmpp_stanza_set_to(st, opt.target);
            xmpp_stanza_set_name(ping, "ping");
            xmpp_stanza_set_ns(ping, "urn:xmpp:ping");
            xmpp_stanza_add_child(st, ping);
            xmpp_stanza_release(ping);
            xmpp_id_handler_add(c->conn, lg__ping_reply, id, c);
        }
        xmpp_send(c->conn, st);
        xmpp_stanza_release(st);
        c->pings_left--;
        c->in_flight++;
    }
}

static int lg__mode_ping(void)
{
    lg__make_clients(opt.clients, 0);
    if (lg__connect_all() != 0)
        return 1;
    for (int i = 0; i < lg.n_cl; i++) {
        struct client *c = &lg.cl[i];
        if (opt.msg)
            xmpp_handler_add(c->conn, lg__echo_msg, NULL, "message", NULL, c);
        c->pings_left = opt.count;
    }
    /* settle: the server's first answers to presence etc. */
    uint64_t settle = lg__now_us() + 300000;
    while (lg__now_us() < settle)
        xmpp_run_once(lg.ctx, 5);
    double cpu0 = lg__cpu_s();
    uint64_t t0 = lg__now_us();
    for (int i = 0; i < lg.n_cl; i++)
        lg__ping_send(&lg.cl[i]);
    uint64_t deadline = t0 + (uint64_t)(opt.setup_timeout * 1e6);
    for (;;) {
        int busy = 0;
        for (int i = 0; i < lg.n_cl; i++)
            busy += lg.cl[i].in_flight > 0 || lg.cl[i].pings_left > 0;
        if (!busy || lg_stop || lg.failed || lg__now_us() > deadline)
            break;
        xmpp_run_once(lg.ctx, 5);
    }
    double wall = (double)(lg__now_us() - t0) / 1e6;
    printf("{\"mode\": \"ping\", \"kind\": \"%s\", \"clients\": %d, "
           "\"burst\": %d, \"expected\": %d, \"errors\": %" PRIu64 ", ",
           opt.msg ? "message" : "iq", opt.clients, opt.burst,
           opt.clients * opt.count, lg.ph[PH_SETUP].errors);
    lat_print(&lg.ping);
    printf(", \"wall_s\": %.3f, \"loadgen_cpu_pct\": %.1f}\n", wall,
           100.0 * (lg__cpu_s() - cpu0) / (wall > 0 ? wall : 1));
    fflush(stdout);
    int rc = (int)lg.ping.n == opt.clients * opt.count ? 0 : 1;
    lg__disconnect_all();
    return rc;
}

/* ---- rooms: joining ----------------------------------------------------- */

static void lg__join(struct client *c, const char *room)
{
    char to[640];
    snprintf(to, sizeof to, "%s/u%d", room, c->idx);
    xmpp_stanza_t *p = xmpp_presence_new(lg.ctx);
    xmpp_stanza_t *x = xmpp_stanza_new(lg.ctx);
    xmpp_stanza_set_to(p, to);
    xmpp_stanza_set_name(x, "x");
    xmpp_stanza_set_ns(x, LG_NS_MUC);
    xmpp_stanza_add_child(p, x);
    xmpp_stanza_release(x);
    xmpp_send(c->conn, p);
    xmpp_stanza_release(p);
}

/* Whether presence st carries status code 110 (self-presence). */
static int lg__is_self_presence(xmpp_stanza_t *st)
{
    xmpp_stanza_t *x =
        xmpp_stanza_get_child_by_name_and_ns(st, "x", LG_NS_MUC_USER);
    for (xmpp_stanza_t *k = x ? xmpp_stanza_get_children(x) : NULL; k;
         k = xmpp_stanza_get_next(k)) {
        const char *name = xmpp_stanza_get_name(k);
        const char *code = xmpp_stanza_get_attribute(k, "code");
        if (name && !strcmp(name, "status") && code && !strcmp(code, "110"))
            return 1;
    }
    return 0;
}

/* The room bare JID of a from="room@service/nick" into buf. */
static void lg__bare(const char *from, char *buf, size_t len)
{
    size_t n = strcspn(from, "/");
    if (n >= len)
        n = len - 1;
    memcpy(buf, from, n);
    buf[n] = '\0';
}

static void lg__send_join_next(struct session *s)
{
    /* the contact first (it creates the room); then the techs together */
    if (s->join_sent == 0) {
        lg__join(&lg.cl[s->occ[0]], s->room);
        s->join_sent = 1;
    } else if (s->join_sent == 1 && s->joined[0]) {
        for (int k = 1; k < s->n_occ; k++)
            lg__join(&lg.cl[s->occ[k]], s->room);
        s->join_sent = s->n_occ;
    }
}

static int lg__presence(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct client *c = ud;
    const char *from = xmpp_stanza_get_from(st);
    const char *type = xmpp_stanza_get_type(st);
    char room[512];
    (void)conn;
    if (!from || !strchr(from, '/'))
        return 1;
    lg__bare(from, room, sizeof room);
    int si = smap_get(&lg.rooms, room);
    if (si < 0)
        return 1;
    struct session *s = &lg.ss[si];
    if (type && !strcmp(type, "error")) {
        lg.join_errors++;
        fprintf(stderr, "loadgen: join of %s to %s refused\n", c->jid, room);
        return 1;
    }
    if (type || !lg__is_self_presence(st))
        return 1;
    for (int k = 0; k < s->n_occ; k++) {
        if (s->occ[k] == c->idx && !s->joined[k]) {
            s->joined[k] = 1;
            s->n_joined++;
            lg.joins_done++;
            if (k == 0)
                lg__send_join_next(s);
        }
    }
    return 1;
}

/* ---- start-chat --------------------------------------------------------- */

static int lg__start_chat_result(xmpp_conn_t *conn, xmpp_stanza_t *st,
                                 void *ud);

static void lg__start_chat(struct client *c, int session)
{
    char id[64], xml[1024];
    snprintf(id, sizeof id, "sc-%d", session);
    snprintf(xml, sizeof xml,
             "<iq type='set' id='%s' to='%s'><command xmlns='%s' "
             "node='start-chat' action='execute'><x xmlns='%s' "
             "type='submit'><field var='description'><value>bench session "
             "%d: the printer is on fire</value></field></x></command></iq>",
             id, opt.service, LG_NS_COMMANDS, LG_NS_DATA, session);
    xmpp_stanza_t *iq = xmpp_stanza_new_from_string(lg.ctx, xml);
    if (!iq) {
        lg.create_errors++;
        return;
    }
    xmpp_id_handler_add(c->conn, lg__start_chat_result, id, c);
    xmpp_send(c->conn, iq);
    xmpp_stanza_release(iq);
    c->creating++;
}

/* The value of field var of the data form in a command reply, or NULL. */
static const char *lg__form_value(xmpp_stanza_t *iq, const char *var)
{
    xmpp_stanza_t *cmd =
        xmpp_stanza_get_child_by_name_and_ns(iq, "command", LG_NS_COMMANDS);
    xmpp_stanza_t *x =
        cmd ? xmpp_stanza_get_child_by_name_and_ns(cmd, "x", LG_NS_DATA) : NULL;
    for (xmpp_stanza_t *f = x ? xmpp_stanza_get_children(x) : NULL; f;
         f = xmpp_stanza_get_next(f)) {
        const char *v = xmpp_stanza_get_attribute(f, "var");
        if (!v || strcmp(v, var))
            continue;
        xmpp_stanza_t *val = xmpp_stanza_get_child_by_name(f, "value");
        xmpp_stanza_t *text = val ? xmpp_stanza_get_children(val) : NULL;
        return text ? xmpp_stanza_get_text_ptr(text) : NULL;
    }
    return NULL;
}

static int lg__start_chat_result(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct client *c = ud;
    const char *id = xmpp_stanza_get_id(st);
    const char *type = xmpp_stanza_get_type(st);
    int si = id ? atoi(id + 3) : -1;
    const char *room = lg__form_value(st, "room");
    (void)conn;
    c->creating--;
    if (!type || strcmp(type, "result") || !room || si < 0 || si >= lg.n_ss) {
        char *text = NULL;
        size_t len;
        xmpp_stanza_to_text(st, &text, &len);
        if (lg.create_errors++ < 3)
            fprintf(stderr, "loadgen: start-chat failed: %s\n",
                    text ? text : "?");
        if (text)
            xmpp_free(lg.ctx, text);
        return 0;
    }
    struct session *s = &lg.ss[si];
    snprintf(s->room, sizeof s->room, "%s", room);
    smap_put(&lg.rooms, s->room, si);
    lg.created++;
    lg__send_join_next(s);
    return 0;
}

/* ---- chat: messages ----------------------------------------------------- */

static void lg__send_msg(struct session *s, int si)
{
    int k = (int)(s->turn++ % (unsigned)s->n_occ);
    struct client *c = &lg.cl[s->occ[k]];
    char body[LG_BODY_MAX + 128];
    struct phase_stats *ph = &lg.ph[lg.phase];
    int n = snprintf(body, sizeof body, "bench %d %d %d %u %" PRIu64 " ",
                     (int)lg.phase, si, c->idx, s->seq++, lg__now_us());
    if (n < opt.body_size && opt.body_size < LG_BODY_MAX)
        snprintf(body + n, sizeof body - (size_t)n, "%.*s", opt.body_size - n,
                 lg.pad);
    xmpp_stanza_t *m = xmpp_message_new(lg.ctx, "groupchat", s->room, NULL);
    xmpp_message_set_body(m, body);
    xmpp_send(c->conn, m);
    xmpp_stanza_release(m);
    ph->sent++;
    ph->expected += (uint64_t)s->n_occ;
}

static int lg__message(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct client *c = ud;
    const char *type = xmpp_stanza_get_type(st);
    (void)conn;
    if (type && !strcmp(type, "error")) {
        lg.ph[lg.phase].errors++;
        if (lg.ph[lg.phase].errors <= 3) {
            char *text = NULL;
            size_t len;
            xmpp_stanza_to_text(st, &text, &len);
            fprintf(stderr, "loadgen: error: %.400s\n", text ? text : "?");
            if (text)
                xmpp_free(lg.ctx, text);
        }
        return 1;
    }
    if (!type || strcmp(type, "groupchat"))
        return 1;
    xmpp_stanza_t *b = xmpp_stanza_get_child_by_name(st, "body");
    xmpp_stanza_t *t = b ? xmpp_stanza_get_children(b) : NULL;
    const char *body = t ? xmpp_stanza_get_text_ptr(t) : NULL;
    int phase, si, sender;
    unsigned seq;
    uint64_t sent_us;
    if (!body || strncmp(body, "bench ", 6) ||
        sscanf(body + 6, "%d %d %d %u %" SCNu64, &phase, &si, &sender, &seq,
               &sent_us) != 5 ||
        phase < 0 || phase >= PH_N || si < 0 || si >= lg.n_ss)
        return 1;
    if (xmpp_stanza_get_child_by_name(st, "delay"))
        return 1; /* history replayed to a joiner */
    struct phase_stats *ph = &lg.ph[phase];
    ph->delivered++;
    lat_add(&ph->lat, lg__now_us() - sent_us);
    /* saturate: the sender got its own message back: the next one goes */
    if (sender == c->idx && phase >= PH_SAT && lg.phase >= PH_SAT)
        lg__send_msg(&lg.ss[si], si);
    return 1;
}

/* ---- chat mode ---------------------------------------------------------- */

static void lg__sessions_layout(void)
{
    int n = opt.sessions, t = opt.techs;
    lg.n_ss = n;
    lg.ss = lg__xalloc((size_t)n * sizeof *lg.ss);
    smap_init(&lg.rooms, (size_t)n);
    /* occupants 2, 3, 2, 4, ...: the contact, tech i, maybe two more */
    static const int extra[LG_MAX_OCC - 1] = {0, 7, 13};
    for (int i = 0; i < n; i++) {
        struct session *s = &lg.ss[i];
        int techs = 1 + (i % 2 == 1) + (i % 4 == 3);
        s->occ[0] = i;
        s->n_occ = 1;
        for (int k = 0; k < techs && k < t; k++)
            s->occ[s->n_occ++] = n + (i + extra[k]) % t;
        if (strcmp(opt.kind, "chatdesk")) {
            snprintf(s->room, sizeof s->room, "bench-%d@%s", i, opt.service);
            smap_put(&lg.rooms, s->room, i);
        }
    }
}

static void lg__phase_begin(enum phase p)
{
    lg.phase = p;
    lg.ph[p].t0 = lg__now_us();
    lg.ph[p].cpu0 = lg__cpu_s();
}

/* Stop sending; wait until every expected delivery of phases first..last
 * came (or 5 s). */
static void lg__phase_end(enum phase first, enum phase last)
{
    lg.ph[last].t1 = lg__now_us();
    lg.phase = PH_SETUP;
    uint64_t deadline = lg__now_us() + 5000000;
    for (enum phase p = first; p <= last; p++)
        while (lg.ph[p].delivered < lg.ph[p].expected &&
               lg__now_us() < deadline && !lg_stop && !lg.failed)
            xmpp_run_once(lg.ctx, 5);
    lg.ph[last].cpu1 = lg__cpu_s();
}

/* One JSON line: phase p under name, with its window (0: none). */
static void lg__phase_print(enum phase p, const char *name, int window)
{
    struct phase_stats *ph = &lg.ph[p];
    double secs = (double)(ph->t1 - ph->t0) / 1e6;
    int occ = 0;
    for (int i = 0; i < lg.n_ss; i++)
        occ += lg.ss[i].n_occ;
    printf("{\"mode\": \"chat\", \"kind\": \"%s\", \"phase\": \"%s\", "
           "\"sessions\": %d, \"occupants\": %d, \"clients\": %d, "
           "\"rate_per_session\": %.3f, \"window\": %d, \"seconds\": %.3f, "
           "\"sent\": %" PRIu64 ", \"expected\": %" PRIu64
           ", \"delivered\": %" PRIu64 ", \"errors\": %" PRIu64 ", "
           "\"sent_per_s\": %.1f, \"delivered_per_s\": %.1f, ",
           opt.kind, name, lg.n_ss, occ, lg.n_cl,
           p == PH_RATE ? opt.rate : 0.0, window, secs,
           ph->sent, ph->expected, ph->delivered, ph->errors,
           (double)ph->sent / secs, (double)ph->delivered / secs);
    lat_print(&ph->lat);
    printf(", \"loadgen_cpu_pct\": %.1f}\n",
           100.0 * (ph->cpu1 - ph->cpu0) /
               ((double)(lg.ph[p].t1 - ph->t0) / 1e6));
    fflush(stdout);
}

/* Wait up to the setup timeout for cond over the sessions. */
static int lg__wait_joined(void)
{
    uint64_t deadline = lg__now_us() + (uint64_t)(opt.setup_timeout * 1e6);
    int total = 0;
    for (int i = 0; i < lg.n_ss; i++)
        total += lg.ss[i].n_occ;
    while (!lg_stop && !lg.failed && lg__now_us() < deadline) {
        if (lg.joins_done == total)
            return 0;
        if (lg.join_errors || lg.create_errors)
            break;
        xmpp_run_once(lg.ctx, 5);
    }
    fprintf(stderr,
            "loadgen: %d of %d joins done (%d refused, %d start-chat "
            "errors)\n",
            lg.joins_done, total, lg.join_errors, lg.create_errors);
    return -1;
}

/* The saturation ramp: S s at each window (raised by sending the
 * difference), a line a step, then the best step again as "saturate". */
static void lg__saturate(void)
{
    int best = 0, last = lg.n_steps - 1;
    for (int k = 0; k < lg.n_steps && !lg_stop && !lg.failed; k++) {
        int more = lg.window[k] - (k ? lg.window[k - 1] : 0);
        lg__phase_begin((enum phase)(PH_SAT + k));
        for (int i = 0; i < lg.n_ss; i++)
            for (int w = 0; w < more; w++)
                lg__send_msg(&lg.ss[i], i);
        uint64_t end = lg.ph[PH_SAT + k].t0 +
                       (uint64_t)(opt.sat_duration * 1e6);
        while (!lg_stop && !lg.failed && lg__now_us() < end)
            xmpp_run_once(lg.ctx, 5);
        if (k == last)
            lg__phase_end(PH_SAT, (enum phase)(PH_SAT + k));
        else {
            lg.ph[PH_SAT + k].t1 = lg__now_us();
            lg.ph[PH_SAT + k].cpu1 = lg__cpu_s();
        }
        char name[32];
        snprintf(name, sizeof name, "saturate-w%d", lg.window[k]);
        if (lg.n_steps > 1)
            lg__phase_print((enum phase)(PH_SAT + k), name, lg.window[k]);
        const struct phase_stats *b = &lg.ph[PH_SAT + best],
                                 *p = &lg.ph[PH_SAT + k];
        if ((double)p->sent / (double)(p->t1 - p->t0) >
            (double)b->sent / (double)(b->t1 - b->t0))
            best = k;
    }
    lg__phase_print((enum phase)(PH_SAT + best), "saturate", lg.window[best]);
}

/* --window W[,W2,...]: the saturation ramp's windows, ascending. */
static int lg__parse_windows(void)
{
    const char *s = opt.windows;
    lg.n_steps = 0;
    while (*s && lg.n_steps < LG_MAX_STEPS) {
        char *end;
        long w = strtol(s, &end, 10);
        if (end == s || w < 1 || w > 10000 ||
            (lg.n_steps && w <= lg.window[lg.n_steps - 1]))
            return -1;
        lg.window[lg.n_steps++] = (int)w;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    opt.window = lg.window[0];
    return *s || !lg.n_steps ? -1 : 0;
}

static int lg__mode_chat(void)
{
    if (opt.sessions < 1 || opt.techs < 3 || opt.sessions + opt.techs > 1000) {
        fprintf(stderr, "loadgen: need 1 <= sessions, 3 <= techs, sessions "
                        "+ techs <= 1000 (select() limit)\n");
        return 2;
    }
    lg__make_clients(opt.sessions, opt.techs);
    lg__sessions_layout();
    uint64_t t_setup = lg__now_us();
    if (lg__connect_all() != 0)
        return 1;
    for (int i = 0; i < lg.n_cl; i++) {
        xmpp_handler_add(lg.cl[i].conn, lg__presence, NULL, "presence", NULL,
                         &lg.cl[i]);
        xmpp_handler_add(lg.cl[i].conn, lg__message, NULL, "message", NULL,
                         &lg.cl[i]);
    }
    double login_s = (double)(lg__now_us() - t_setup) / 1e6;
    uint64_t t_rooms = lg__now_us();
    for (int i = 0; i < lg.n_ss; i++) {
        if (!strcmp(opt.kind, "chatdesk"))
            lg__start_chat(&lg.cl[lg.ss[i].occ[0]], i);
        else
            lg__send_join_next(&lg.ss[i]);
    }
    if (lg__wait_joined() != 0)
        return 1;
    double rooms_s = (double)(lg__now_us() - t_rooms) / 1e6;
    fprintf(stderr,
            "loadgen: %d clients online in %.2fs, %d rooms joined in "
            "%.2fs\n",
            lg.n_cl, login_s, lg.n_ss, rooms_s);
    /* let notices, history and subjects settle */
    uint64_t settle = lg__now_us() + 1000000;
    while (lg__now_us() < settle)
        xmpp_run_once(lg.ctx, 5);
    printf("{\"mode\": \"chat\", \"kind\": \"%s\", \"phase\": \"setup\", "
           "\"clients\": %d, \"sessions\": %d, \"login_s\": %.3f, "
           "\"rooms_s\": %.3f}\n",
           opt.kind, lg.n_cl, lg.n_ss, login_s, rooms_s);
    fflush(stdout);

    /* phase 1: a set rate per session */
    if (opt.duration > 0 && opt.rate > 0) {
        uint64_t period = (uint64_t)(1e6 / opt.rate);
        lg__phase_begin(PH_RATE);
        uint64_t t0 = lg.ph[PH_RATE].t0;
        for (int i = 0; i < lg.n_ss; i++)
            lg.ss[i].next_send = t0 + (uint64_t)rand() % (period ? period : 1);
        uint64_t end = t0 + (uint64_t)(opt.duration * 1e6);
        while (!lg_stop && !lg.failed) {
            uint64_t now = lg__now_us();
            if (now >= end)
                break;
            for (int i = 0; i < lg.n_ss; i++) {
                struct session *s = &lg.ss[i];
                /* catch up at most a few periods when the loop lags */
                for (int k = 0; k < 4 && s->next_send <= now; k++) {
                    lg__send_msg(s, i);
                    s->next_send += period;
                }
            }
            xmpp_run_once(lg.ctx, 1);
        }
        lg__phase_end(PH_RATE, PH_RATE);
        lg__phase_print(PH_RATE, "rate", 0);
    }
    /* phase 2: saturate with W messages in flight per session */
    if (opt.sat_duration > 0 && lg.n_steps > 0)
        lg__saturate();
    int rc = lg.failed ? 1 : 0;
    lg__disconnect_all();
    return rc;
}

/* ---- create mode -------------------------------------------------------- */

static int lg__stdin_line(int wait_ms)
{
    struct pollfd p = {.fd = 0, .events = POLLIN};
    if (poll(&p, 1, wait_ms) <= 0)
        return 0;
    char buf[256];
    ssize_t n = read(0, buf, sizeof buf);
    return n <= 0 ? -1 : 1; /* EOF: -1 */
}

static int lg__mode_create(void)
{
    int milestones[16], n_ms = 0;
    for (const char *p = opt.milestones; *p && n_ms < 16;) {
        milestones[n_ms++] = atoi(p);
        p += strcspn(p, ",");
        p += *p == ',';
    }
    if (!n_ms || opt.contacts < 1 || opt.contacts > 1000)
        return 2;
    int total = milestones[n_ms - 1];
    opt.sessions = total;
    lg.n_ss = total;
    lg.ss = lg__xalloc((size_t)total * sizeof *lg.ss);
    smap_init(&lg.rooms, (size_t)total);
    lg__make_clients(opt.contacts, 0);
    if (lg__connect_all() != 0)
        return 1;
    for (int i = 0; i < lg.n_cl; i++)
        xmpp_handler_add(lg.cl[i].conn, lg__presence, NULL, "presence", NULL,
                         &lg.cl[i]);
    int next = 0, rc = 0;
    for (int m = 0; m < n_ms && !rc; m++) {
        uint64_t t0 = lg__now_us();
        uint64_t deadline = t0 + (uint64_t)(opt.setup_timeout * 1e6);
        double cpu0 = lg__cpu_s();
        int start = lg.joins_done;
        while (lg.joins_done < milestones[m]) {
            if (lg_stop || lg.failed || lg.create_errors || lg.join_errors ||
                lg__now_us() > deadline) {
                fprintf(stderr, "loadgen: create stopped at %d rooms\n",
                        lg.joins_done);
                rc = 1;
                break;
            }
            for (int i = 0; i < lg.n_cl && next < milestones[m]; i++) {
                struct client *c = &lg.cl[i];
                while (c->creating < opt.window && next < milestones[m]) {
                    lg.ss[next].occ[0] = i;
                    lg.ss[next].n_occ = 1;
                    lg__start_chat(c, next++);
                }
            }
            xmpp_run_once(lg.ctx, 5);
        }
        double secs = (double)(lg__now_us() - t0) / 1e6;
        printf("{\"mode\": \"create\", \"milestone\": %d, \"rooms\": %d, "
               "\"seconds\": %.3f, \"per_s\": %.1f, \"loadgen_cpu_pct\": "
               "%.1f}\n",
               milestones[m], lg.joins_done, secs,
               (lg.joins_done - start) / (secs > 0 ? secs : 1),
               100.0 * (lg__cpu_s() - cpu0) / (secs > 0 ? secs : 1));
        fflush(stdout);
        /* wait for the driver (bounded: 10 minutes) */
        uint64_t wait_end = lg__now_us() + 600000000u;
        while (!rc && !lg_stop && lg__now_us() < wait_end) {
            xmpp_run_once(lg.ctx, 20);
            if (lg__stdin_line(0) != 0)
                break;
        }
    }
    lg__disconnect_all();
    return rc;
}

/* ---- main --------------------------------------------------------------- */

static void lg__usage(FILE *out)
{
    fputs("usage: loadgen --mode ping|chat|create --port C2S_PORT [options]\n"
          "  common: --domain localhost --password pw --contact-prefix c\n"
          "          --tech-prefix t --setup-timeout SECS\n"
          "  ping:   --target JID --clients C --count N --burst B [--msg]\n"
          "  chat:   --kind chatdesk|muc|echo --service DOMAIN --sessions N\n"
          "          --techs T --rate R --duration D --sat-duration S\n"
          "          --window W[,W2...] --body-size B\n"
          "  create: --service DOMAIN --contacts M --milestones 1000,10000\n"
          "          --window W\n"
          "See the comment at the top of bench/loadgen.c.\n",
          out);
}

static int lg__args(int argc, char **argv)
{
    static const struct {
        const char *name;
        char type; /* s string, i int, d double, f flag */
        void *dst;
    } table[] = {
        {"--mode", 's', &opt.mode},
        {"--kind", 's', &opt.kind},
        {"--service", 's', &opt.service},
        {"--target", 's', &opt.target},
        {"--domain", 's', &opt.domain},
        {"--password", 's', &opt.password},
        {"--contact-prefix", 's', &opt.contact_prefix},
        {"--tech-prefix", 's', &opt.tech_prefix},
        {"--milestones", 's', &opt.milestones},
        {"--port", 'i', &opt.port},
        {"--clients", 'i', &opt.clients},
        {"--count", 'i', &opt.count},
        {"--burst", 'i', &opt.burst},
        {"--msg", 'f', &opt.msg},
        {"--sessions", 'i', &opt.sessions},
        {"--techs", 'i', &opt.techs},
        {"--window", 's', &opt.windows},
        {"--body-size", 'i', &opt.body_size},
        {"--contacts", 'i', &opt.contacts},
        {"--rate", 'd', &opt.rate},
        {"--duration", 'd', &opt.duration},
        {"--sat-duration", 'd', &opt.sat_duration},
        {"--setup-timeout", 'd', &opt.setup_timeout},
    };
    for (int i = 1; i < argc; i++) {
        size_t k, n = sizeof table / sizeof table[0];
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            lg__usage(stdout);
            exit(0);
        }
        for (k = 0; k < n && strcmp(argv[i], table[k].name); k++)
            ;
        if (k == n || (table[k].type != 'f' && i + 1 >= argc)) {
            fprintf(stderr, "loadgen: bad argument '%s'\n", argv[i]);
            return -1;
        }
        switch (table[k].type) {
        case 'f':
            *(int *)table[k].dst = 1;
            break;
        case 's':
            *(const char **)table[k].dst = argv[++i];
            break;
        case 'i':
            *(int *)table[k].dst = atoi(argv[++i]);
            break;
        default:
            *(double *)table[k].dst = atof(argv[++i]);
        }
    }
    if (opt.port <= 0 || opt.port > 65535) {
        fprintf(stderr, "loadgen: --port is required\n");
        return -1;
    }
    if (opt.burst < 1)
        opt.burst = 1;
    if (lg__parse_windows() != 0) {
        fprintf(stderr, "loadgen: --window wants ascending numbers "
                        "(at most %d): %s\n", LG_MAX_STEPS, opt.windows);
        return -1;
    }
    if (opt.body_size >= LG_BODY_MAX)
        opt.body_size = LG_BODY_MAX - 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (lg__args(argc, argv) != 0) {
        lg__usage(stderr);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = lg__on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    srand(1);
    memset(lg.pad, 'x', sizeof lg.pad - 1);
    xmpp_initialize();
    lg.ctx = xmpp_ctx_new(NULL, NULL);
    xmpp_ctx_set_timeout(lg.ctx, 5);
    int rc;
    if (!strcmp(opt.mode, "ping") && opt.target)
        rc = lg__mode_ping();
    else if (!strcmp(opt.mode, "chat"))
        rc = lg__mode_chat();
    else if (!strcmp(opt.mode, "create"))
        rc = lg__mode_create();
    else {
        lg__usage(stderr);
        rc = 2;
    }
    xmpp_ctx_free(lg.ctx);
    xmpp_shutdown();
    for (int p = 0; p < PH_N; p++)
        free(lg.ph[p].lat.v);
    free(lg.ping.v);
    if (lg.n_ss)
        smap_free(&lg.rooms);
    free(lg.ss);
    free(lg.cl);
    return rc;
}
