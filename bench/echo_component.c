/* echo_component.c - the benchmark's "limit": a no-op XEP-0114 component.
 *
 * It does the least a component can do for the chat workload of
 * scripts/bench, so that the same load through the same server measures
 * what the server and libstrophe cost without any chatdesk logic:
 *
 *  - iq get with <ping xmlns='urn:xmpp:ping'/> (any iq get/set): an empty
 *    result (round-trip probes of the Nagle experiment);
 *  - a message to the bare component domain: sent back to its sender
 *    (1:1 echo);
 *  - available presence to room@domain/nick: the full JID becomes an
 *    occupant of room, and gets a self-presence with status 110 (nothing
 *    is checked, nothing is broadcast); unavailable presence removes it;
 *  - a groupchat message to room@domain: reflected to every occupant of
 *    the room as from room@domain/nick (no storage, no stanza-id; with
 *    --stanza-id: stamped the way chatdesk stamps its reflections, so that
 *    the server gets byte for byte the same kind of stanza).
 *
 * It connects like component/runtime/conn.c (the same stream-management-state
 * workaround for libstrophe's component mode), with TCP_NODELAY unless
 * --nagle is given. SIGTERM/SIGINT stop it; it then prints its counters
 * to stderr.
 *
 * Usage: echo_component --jid DOMAIN --secret S --port P [--host H] [--nagle]
 *        [--stanza-id]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>
#include <sys/socket.h>
#include <unistd.h>

#define ECHO_NS_MUC "http://jabber.org/protocol/muc"
#define ECHO_NS_MUC_USER "http://jabber.org/protocol/muc#user"
#define ECHO_BUCKETS 4096 /* rooms hash table size (chained) */

struct echo_occ {
    char *full;
    char *nick;
};

struct echo_room {
    char *name; /* local part */
    struct echo_occ *occ;
    size_t n_occ, cap;
    struct echo_room *next;
};

struct echo {
    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;
    const char *jid;
    int nagle;
    int stanza_id; /* --stanza-id: stamp reflections like chatdesk does */
    unsigned long seq;
    int online;
    int failed;
    struct echo_room *buckets[ECHO_BUCKETS];
    unsigned long in, out;
};

static volatile sig_atomic_t echo__stop;
static struct echo *echo__self; /* for the socket-option callback */

static void echo__on_signal(int sig)
{
    (void)sig;
    echo__stop = 1;
}

/* ---- rooms ------------------------------------------------------------ */

static unsigned echo__hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h % ECHO_BUCKETS;
}

static struct echo_room *echo__room(struct echo *e, const char *name,
                                    int create)
{
    unsigned h = echo__hash(name);
    for (struct echo_room *r = e->buckets[h]; r; r = r->next)
        if (!strcmp(r->name, name))
            return r;
    if (!create)
        return NULL;
    struct echo_room *r = calloc(1, sizeof *r);
    if (!r || !(r->name = strdup(name))) {
        free(r);
        return NULL;
    }
    r->next = e->buckets[h];
    e->buckets[h] = r;
    return r;
}

static void echo__rooms_free(struct echo *e)
{
    for (size_t i = 0; i < ECHO_BUCKETS; i++) {
        struct echo_room *r = e->buckets[i];
        while (r) {
            struct echo_room *next = r->next;
            for (size_t k = 0; k < r->n_occ; k++) {
                free(r->occ[k].full);
                free(r->occ[k].nick);
            }
            free(r->occ);
            free(r->name);
            free(r);
            r = next;
        }
        e->buckets[i] = NULL;
    }
}

static int echo__occ_find(const struct echo_room *r, const char *full)
{
    for (size_t i = 0; i < r->n_occ; i++)
        if (!strcmp(r->occ[i].full, full))
            return (int)i;
    return -1;
}

static int echo__occ_add(struct echo_room *r, const char *full,
                         const char *nick)
{
    if (echo__occ_find(r, full) >= 0)
        return 0;
    if (r->n_occ == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4;
        struct echo_occ *p = realloc(r->occ, cap * sizeof *p);
        if (!p)
            return -1;
        r->occ = p;
        r->cap = cap;
    }
    struct echo_occ *o = &r->occ[r->n_occ];
    o->full = strdup(full);
    o->nick = strdup(nick);
    if (!o->full || !o->nick) {
        free(o->full);
        free(o->nick);
        return -1;
    }
    r->n_occ++;
    return 0;
}

static void echo__occ_remove(struct echo_room *r, const char *full)
{
    int i = echo__occ_find(r, full);
    if (i < 0)
        return;
    free(r->occ[i].full);
    free(r->occ[i].nick);
    r->occ[i] = r->occ[--r->n_occ];
}

/* ---- stanzas ---------------------------------------------------------- */

static void echo__send(struct echo *e, xmpp_stanza_t *st)
{
    xmpp_send(e->conn, st);
    e->out++;
}

/* Split "local@domain/resource" into its local part (copied into room) and
 * resource (pointer into to, or NULL). 0, or -1 without a local part. */
static int echo__split(const char *to, char *room, size_t len, const char **res)
{
    const char *at = strchr(to, '@');
    const char *slash = strchr(to, '/');
    if (!at || (slash && slash < at) || (size_t)(at - to) >= len)
        return -1;
    memcpy(room, to, (size_t)(at - to));
    room[at - to] = '\0';
    *res = slash ? slash + 1 : NULL;
    return 0;
}

static int echo__iq(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct echo *e = ud;
    const char *type = xmpp_stanza_get_type(st);
    (void)conn;
    e->in++;
    if (!type || (strcmp(type, "get") && strcmp(type, "set")))
        return 1;
    xmpp_stanza_t *reply =
        xmpp_iq_new(e->ctx, "result", xmpp_stanza_get_id(st));
    if (!reply)
        return 1;
    if (xmpp_stanza_get_to(st))
        xmpp_stanza_set_from(reply, xmpp_stanza_get_to(st));
    if (xmpp_stanza_get_from(st))
        xmpp_stanza_set_to(reply, xmpp_stanza_get_from(st));
    echo__send(e, reply);
    xmpp_stanza_release(reply);
    return 1;
}

static void echo__self_presence(struct echo *e, const char *from,
                                const char *to, const char *type)
{
    xmpp_stanza_t *p = xmpp_presence_new(e->ctx);
    xmpp_stanza_t *x = xmpp_stanza_new(e->ctx);
    xmpp_stanza_t *item = xmpp_stanza_new(e->ctx);
    xmpp_stanza_t *status = xmpp_stanza_new(e->ctx);
    xmpp_stanza_set_from(p, from);
    xmpp_stanza_set_to(p, to);
    if (type)
        xmpp_stanza_set_type(p, type);
    xmpp_stanza_set_name(x, "x");
    xmpp_stanza_set_ns(x, ECHO_NS_MUC_USER);
    xmpp_stanza_set_name(item, "item");
    xmpp_stanza_set_attribute(item, "affiliation", "member");
    xmpp_stanza_set_attribute(item, "role", type ? "none" : "participant");
    xmpp_stanza_set_name(status, "status");
    xmpp_stanza_set_attribute(status, "code", "110");
    xmpp_stanza_add_child(x, item);
    xmpp_stanza_add_child(x, status);
    xmpp_stanza_add_child(p, x);
    xmpp_stanza_release(item);
    xmpp_stanza_release(status);
    xmpp_stanza_release(x);
    echo__send(e, p);
    xmpp_stanza_release(p);
}

static int echo__presence(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct echo *e = ud;
    const char *to = xmpp_stanza_get_to(st);
    const char *from = xmpp_stanza_get_from(st);
    const char *type = xmpp_stanza_get_type(st);
    const char *nick;
    char room[512];
    (void)conn;
    e->in++;
    if (!to || !from || echo__split(to, room, sizeof room, &nick) != 0 ||
        !nick || !*nick)
        return 1;
    if (!type) {
        struct echo_room *r = echo__room(e, room, 1);
        if (r && echo__occ_add(r, from, nick) == 0)
            echo__self_presence(e, to, from, NULL);
    } else if (!strcmp(type, "unavailable")) {
        struct echo_room *r = echo__room(e, room, 0);
        if (r)
            echo__occ_remove(r, from);
        echo__self_presence(e, to, from, "unavailable");
    }
    return 1;
}

/* --stanza-id: the reflection chatdesk sends (xep/xep0045_muc/messages.c,
 * muc__reflect): without the stream's namespace and libstrophe's "lang"
 * attribute, with a XEP-0359 <stanza-id/> of 16 hex digits. */
static void echo__stamp(struct echo *e, xmpp_stanza_t *copy,
                        const char *room_jid)
{
    char id[32];
    xmpp_stanza_del_attribute(copy, "xmlns");
    xmpp_stanza_del_attribute(copy, "lang");
    snprintf(id, sizeof id, "%016lx", 0x5eed000000000000UL + ++e->seq);
    xmpp_stanza_t *sid = xmpp_stanza_new(e->ctx);
    xmpp_stanza_set_name(sid, "stanza-id");
    xmpp_stanza_set_ns(sid, "urn:xmpp:sid:0");
    xmpp_stanza_set_attribute(sid, "by", room_jid);
    xmpp_stanza_set_attribute(sid, "id", id);
    xmpp_stanza_add_child(copy, sid);
    xmpp_stanza_release(sid);
}

static void echo__reflect(struct echo *e, xmpp_stanza_t *st,
                          const char *room_name, const char *room_jid,
                          const char *from)
{
    struct echo_room *r = echo__room(e, room_name, 0);
    int i = r ? echo__occ_find(r, from) : -1;
    if (i < 0)
        return;
    char occ_jid[1024];
    if ((size_t)snprintf(occ_jid, sizeof occ_jid, "%s/%s", room_jid,
                         r->occ[i].nick) >= sizeof occ_jid)
        return;
    xmpp_stanza_t *copy = xmpp_stanza_copy(st);
    if (!copy)
        return;
    xmpp_stanza_set_from(copy, occ_jid);
    if (e->stanza_id)
        echo__stamp(e, copy, room_jid);
    for (size_t k = 0; k < r->n_occ; k++) {
        xmpp_stanza_set_to(copy, r->occ[k].full);
        echo__send(e, copy);
    }
    xmpp_stanza_release(copy);
}

static int echo__message(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct echo *e = ud;
    const char *to = xmpp_stanza_get_to(st);
    const char *from = xmpp_stanza_get_from(st);
    const char *type = xmpp_stanza_get_type(st);
    const char *res;
    char room[512];
    (void)conn;
    e->in++;
    if (!to || !from || (type && !strcmp(type, "error")))
        return 1;
    if (echo__split(to, room, sizeof room, &res) != 0) {
        /* to the domain itself: 1:1 echo */
        xmpp_stanza_t *copy = xmpp_stanza_copy(st);
        if (!copy)
            return 1;
        xmpp_stanza_set_from(copy, to);
        xmpp_stanza_set_to(copy, from);
        echo__send(e, copy);
        xmpp_stanza_release(copy);
        return 1;
    }
    if (type && !strcmp(type, "groupchat") && !res) {
        char room_jid[1024];
        snprintf(room_jid, sizeof room_jid, "%s", to);
        echo__reflect(e, st, room, room_jid, from);
    }
    return 1;
}

/* ---- connection ------------------------------------------------------- */

static int echo__sockopt(xmpp_conn_t *conn, void *sock)
{
    struct echo *e = echo__self;
    int fd = *(int *)sock;
    int one = 1;
    (void)conn;
    if (e && !e->nagle)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
}

static void echo__event(xmpp_conn_t *conn, xmpp_conn_event_t status, int error,
                        xmpp_stream_error_t *se, void *ud)
{
    struct echo *e = ud;
    (void)conn, (void)se;
    if (status == XMPP_CONN_CONNECT) {
        e->online = 1;
        fprintf(stderr, "echo_component: online as %s\n", e->jid);
        return;
    }
    fprintf(stderr, "echo_component: disconnected (error %d)\n", error);
    e->online = 0;
    e->failed = 1;
}

static void echo__ignore(xmpp_conn_t *conn, xmpp_conn_event_t status, int error,
                         xmpp_stream_error_t *se, void *ud)
{
    (void)conn, (void)status, (void)error, (void)se, (void)ud;
}

/* libstrophe 0.12 allocates the stream-management state only in
 * xmpp_connect_client() but uses it on every component stanza: take the
 * state of a client connection to a closed loopback port (see
 * component/runtime/conn.c and ENGINEERING.md). */
static int echo__sm_workaround(struct echo *e)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    xmpp_conn_t *tmp = xmpp_conn_new(e->ctx);
    xmpp_conn_set_jid(tmp, "sm-workaround@localhost");
    xmpp_conn_set_flags(tmp, XMPP_CONN_FLAG_DISABLE_TLS);
    if (xmpp_connect_client(tmp, "127.0.0.1", ntohs(sa.sin_port), echo__ignore,
                            NULL) == XMPP_EOK) {
        xmpp_disconnect(tmp);
        for (int i = 0; i < 100 && !xmpp_conn_is_disconnected(tmp); i++)
            xmpp_run_once(e->ctx, 10);
    }
    close(fd);
    xmpp_sm_state_t *sm = xmpp_conn_get_sm_state(tmp);
    xmpp_conn_release(tmp);
    if (!sm)
        return -1;
    if (xmpp_conn_set_sm_state(e->conn, sm) != XMPP_EOK) {
        xmpp_free_sm_state(sm);
        return -1;
    }
    return 0;
}

static void echo__usage(FILE *out)
{
    fputs("usage: echo_component --jid DOMAIN --secret SECRET --port PORT "
          "[--host HOST] [--nagle] [--stanza-id]\n"
          "A no-op XEP-0114 component for scripts/bench: answers iqs, "
          "echoes messages,\nreflects groupchat to joined full JIDs. "
          "--nagle leaves TCP_NODELAY off. --stanza-id reflects groupchat "
          "the way chatdesk\ndoes (XEP-0359 stanza-id) instead of "
          "as received.\n",
          out);
}

int main(int argc, char **argv)
{
    static struct echo e;
    echo__self = &e;
    const char *host = "127.0.0.1", *secret = NULL;
    long port = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--nagle")) {
            e.nagle = 1;
        } else if (!strcmp(a, "--stanza-id")) {
            e.stanza_id = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            echo__usage(stdout);
            return 0;
        } else if (v && !strcmp(a, "--jid")) {
            e.jid = v, i++;
        } else if (v && !strcmp(a, "--secret")) {
            secret = v, i++;
        } else if (v && !strcmp(a, "--host")) {
            host = v, i++;
        } else if (v && !strcmp(a, "--port")) {
            port = strtol(v, NULL, 10), i++;
        } else {
            echo__usage(stderr);
            return 2;
        }
    }
    if (!e.jid || !secret || port <= 0 || port > 65535) {
        echo__usage(stderr);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = echo__on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    xmpp_initialize();
    e.ctx = xmpp_ctx_new(NULL, NULL);
    e.conn = xmpp_conn_new(e.ctx);
    int rc = 1;
    xmpp_ctx_set_timeout(e.ctx, 50);
    xmpp_conn_set_jid(e.conn, e.jid);
    xmpp_conn_set_pass(e.conn, secret);
    xmpp_conn_set_sockopt_callback(e.conn, echo__sockopt);
    xmpp_handler_add(e.conn, echo__iq, NULL, "iq", NULL, &e);
    xmpp_handler_add(e.conn, echo__presence, NULL, "presence", NULL, &e);
    xmpp_handler_add(e.conn, echo__message, NULL, "message", NULL, &e);
    if (echo__sm_workaround(&e) != 0) {
        fprintf(stderr, "echo_component: cannot prepare the SM state\n");
        goto out;
    }
    if (xmpp_connect_component(e.conn, host, (unsigned short)port, echo__event,
                               &e) != XMPP_EOK) {
        fprintf(stderr, "echo_component: cannot connect to %s:%ld\n", host,
                port);
        goto out;
    }
    while (!echo__stop && !e.failed)
        xmpp_run_once(e.ctx, 50);
    rc = e.failed ? 1 : 0;
    if (e.online) {
        xmpp_disconnect(e.conn);
        for (int i = 0; i < 100 && !xmpp_conn_is_disconnected(e.conn); i++)
            xmpp_run_once(e.ctx, 10);
    }
    fprintf(stderr, "echo_component: stanzas in %lu out %lu\n", e.in, e.out);
out:
    echo__rooms_free(&e);
    xmpp_conn_release(e.conn);
    xmpp_ctx_free(e.ctx);
    xmpp_shutdown();
    return rc;
}
