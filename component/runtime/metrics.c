/* metrics.c - see metrics.h */
#include "runtime/metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const metrics__kinds[METRICS_KINDS] = {
    [METRICS_MESSAGE] = "message", [METRICS_PRESENCE] = "presence",
    [METRICS_IQ] = "iq", [METRICS_OTHER] = "other"};

/* Upper bounds of the commit latency buckets, in microseconds. */
static const uint64_t metrics__bounds[] = {250,   500,    1000,   2500,
                                           5000,  10000,  25000,  50000,
                                           100000, 250000, 1000000};
#define METRICS__NBOUNDS (sizeof metrics__bounds / sizeof metrics__bounds[0])
#define METRICS__MAX_STATES 8

static atomic_ulong metrics__in[METRICS_KINDS], metrics__out[METRICS_KINDS];
static atomic_ulong metrics__reconnects, metrics__outbox_failures;
static atomic_long metrics__outbox_depth;
static atomic_long metrics__slots, metrics__peers;
static atomic_ulong metrics__peers_gone;
/* per bucket, not cumulative; the last one is +Inf */
static atomic_ulong metrics__buckets[METRICS__NBOUNDS + 1];
static atomic_ulong metrics__commit_count;
static atomic_ullong metrics__commit_usec;

static pthread_mutex_t metrics__lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char names[METRICS__MAX_STATES][16];
    long counts[METRICS__MAX_STATES];
    size_t n;
    long messages;
} metrics__store; /* under metrics__lock */

static struct MHD_Daemon *metrics__daemon;

enum metrics_kind metrics_kind_of(const char *name)
{
    for (int k = 0; k < METRICS_OTHER; k++)
        if (name && !strcmp(name, metrics__kinds[k]))
            return (enum metrics_kind)k;
    return METRICS_OTHER;
}

void metrics_stanza_in(enum metrics_kind kind)
{
    atomic_fetch_add_explicit(&metrics__in[kind], 1, memory_order_relaxed);
}

void metrics_stanza_out(enum metrics_kind kind)
{
    atomic_fetch_add_explicit(&metrics__out[kind], 1, memory_order_relaxed);
}

void metrics_reconnect(void)
{
    atomic_fetch_add_explicit(&metrics__reconnects, 1, memory_order_relaxed);
}

void metrics_commit(uint64_t usec)
{
    size_t b = 0;
    while (b < METRICS__NBOUNDS && usec > metrics__bounds[b])
        b++;
    atomic_fetch_add_explicit(&metrics__buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&metrics__commit_usec, usec,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&metrics__commit_count, 1,
                              memory_order_relaxed);
}

void metrics_set_outbox_depth(long depth)
{
    atomic_store_explicit(&metrics__outbox_depth, depth,
                          memory_order_relaxed);
}

void metrics_set_cluster(long slots, long peers)
{
    atomic_store_explicit(&metrics__slots, slots, memory_order_relaxed);
    atomic_store_explicit(&metrics__peers, peers, memory_order_relaxed);
}

void metrics_peers_gone(unsigned n)
{
    atomic_fetch_add_explicit(&metrics__peers_gone, n, memory_order_relaxed);
}

void metrics_outbox_failure(void)
{
    atomic_fetch_add_explicit(&metrics__outbox_failures, 1,
                              memory_order_relaxed);
}

void metrics_set_store(const char *const names[], const long counts[],
                       size_t n, long messages)
{
    pthread_mutex_lock(&metrics__lock);
    metrics__store.n = n < METRICS__MAX_STATES ? n : METRICS__MAX_STATES;
    for (size_t i = 0; i < metrics__store.n; i++) {
        snprintf(metrics__store.names[i], sizeof metrics__store.names[i],
                 "%s", names[i]);
        metrics__store.counts[i] = counts[i];
    }
    metrics__store.messages = messages;
    pthread_mutex_unlock(&metrics__lock);
}

/* ---- rendering -------------------------------------------------------- */

struct metrics__out {
    char *buf;
    size_t size, len;
};

static void metrics__printf(struct metrics__out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void metrics__printf(struct metrics__out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->size ? o->size - o->len : 0;
    int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

static unsigned long metrics__get(atomic_ulong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void metrics__render_stanzas(struct metrics__out *o)
{
    metrics__printf(o, "# HELP chatdesk_stanzas_total Stanzas received (in) "
                       "and sent (out), by kind.\n"
                       "# TYPE chatdesk_stanzas_total counter\n");
    for (int k = 0; k < METRICS_KINDS; k++) {
        metrics__printf(o,
                        "chatdesk_stanzas_total{direction=\"in\",kind=\"%s\"} "
                        "%lu\n",
                        metrics__kinds[k], metrics__get(&metrics__in[k]));
        metrics__printf(o,
                        "chatdesk_stanzas_total{direction=\"out\",kind=\"%s\"}"
                        " %lu\n",
                        metrics__kinds[k], metrics__get(&metrics__out[k]));
    }
}

static void metrics__render_commits(struct metrics__out *o)
{
    metrics__printf(o, "# HELP chatdesk_commit_seconds Time a database COMMIT "
                       "took (group commits included).\n"
                       "# TYPE chatdesk_commit_seconds histogram\n");
    unsigned long cumulative = 0;
    for (size_t b = 0; b <= METRICS__NBOUNDS; b++) {
        cumulative += metrics__get(&metrics__buckets[b]);
        if (b < METRICS__NBOUNDS)
            metrics__printf(o, "chatdesk_commit_seconds_bucket{le=\"%g\"} "
                               "%lu\n",
                            (double)metrics__bounds[b] / 1e6, cumulative);
        else
            metrics__printf(o, "chatdesk_commit_seconds_bucket{le=\"+Inf\"} "
                               "%lu\n",
                            cumulative);
    }
    metrics__printf(o, "chatdesk_commit_seconds_sum %.6f\n",
                    (double)atomic_load(&metrics__commit_usec) / 1e6);
    metrics__printf(o, "chatdesk_commit_seconds_count %lu\n",
                    metrics__get(&metrics__commit_count));
}

static void metrics__render_store(struct metrics__out *o)
{
    metrics__printf(o, "# HELP chatdesk_sessions Chat sessions by state.\n"
                       "# TYPE chatdesk_sessions gauge\n");
    pthread_mutex_lock(&metrics__lock);
    for (size_t i = 0; i < metrics__store.n; i++)
        metrics__printf(o, "chatdesk_sessions{state=\"%s\"} %ld\n",
                        metrics__store.names[i], metrics__store.counts[i]);
    long messages = metrics__store.messages;
    pthread_mutex_unlock(&metrics__lock);
    metrics__printf(o, "# HELP chatdesk_messages_stored_total Chat messages "
                       "in the database.\n"
                       "# TYPE chatdesk_messages_stored_total counter\n"
                       "chatdesk_messages_stored_total %ld\n",
                    messages);
}

static void metrics__render_rest(struct metrics__out *o)
{
    metrics__printf(o,
                    "# HELP chatdesk_reconnects_total Times the server "
                    "connection was lost or refused and retried.\n"
                    "# TYPE chatdesk_reconnects_total counter\n"
                    "chatdesk_reconnects_total %lu\n"
                    "# HELP chatdesk_outbox_depth Webhook deliveries "
                    "waiting in the outbox.\n"
                    "# TYPE chatdesk_outbox_depth gauge\n"
                    "chatdesk_outbox_depth %ld\n"
                    "# HELP chatdesk_outbox_failures_total Webhook "
                    "deliveries that failed.\n"
                    "# TYPE chatdesk_outbox_failures_total counter\n"
                    "chatdesk_outbox_failures_total %lu\n",
                    metrics__get(&metrics__reconnects),
                    atomic_load(&metrics__outbox_depth),
                    metrics__get(&metrics__outbox_failures));
    metrics__printf(o,
                    "# HELP chatdesk_route_slots Route slots of the "
                    "component domain this process holds.\n"
                    "# TYPE chatdesk_route_slots gauge\n"
                    "chatdesk_route_slots %ld\n"
                    "# HELP chatdesk_cluster_peers Other chatdesk processes "
                    "alive on the database (their leases).\n"
                    "# TYPE chatdesk_cluster_peers gauge\n"
                    "chatdesk_cluster_peers %ld\n"
                    "# HELP chatdesk_cluster_peers_gone_total Other chatdesk "
                    "processes seen stop or die.\n"
                    "# TYPE chatdesk_cluster_peers_gone_total counter\n"
                    "chatdesk_cluster_peers_gone_total %lu\n",
                    atomic_load(&metrics__slots), atomic_load(&metrics__peers),
                    metrics__get(&metrics__peers_gone));
}

size_t metrics_render(char *buf, size_t size)
{
    struct metrics__out o = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    metrics__render_store(&o);
    metrics__render_stanzas(&o);
    metrics__render_commits(&o);
    metrics__render_rest(&o);
    return o.len;
}

/* ---- the HTTP server (libmicrohttpd's thread) ------------------------- */

static enum MHD_Result metrics__reply(struct MHD_Connection *conn,
                                      unsigned status, char *body,
                                      size_t len, const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result metrics__handler(void *cls, struct MHD_Connection *conn,
                                        const char *url, const char *method,
                                        const char *version,
                                        const char *upload, size_t *upload_len,
                                        void **req)
{
    (void)cls, (void)version, (void)upload, (void)upload_len, (void)req;
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return metrics__reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                              strdup("GET only\n"), 9, "text/plain");
    if (strcmp(url, "/metrics"))
        return metrics__reply(conn, MHD_HTTP_NOT_FOUND,
                              strdup("not found: try /metrics\n"), 24,
                              "text/plain");
    size_t need = metrics_render(NULL, 0) + 1024;
    char *body = malloc(need);
    if (!body)
        return MHD_NO;
    size_t len = metrics_render(body, need);
    if (len >= need)
        len = need - 1;
    return metrics__reply(conn, MHD_HTTP_OK, body, len,
                          "text/plain; version=0.0.4; charset=utf-8");
}

int metrics_start(const char *host, int port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "metrics: '%s' is not an IP address", host);
        return -1;
    }
    metrics__daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, metrics__handler, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
        MHD_OPTION_END);
    if (!metrics__daemon) {
        snprintf(err, errlen, "metrics: cannot listen on %s port %d", host,
                 port);
        return -1;
    }
    return 0;
}

void metrics_stop(void)
{
    if (metrics__daemon)
        MHD_stop_daemon(metrics__daemon);
    metrics__daemon = NULL;
}
