/* writer_rt.c - the commit writer's round trip, without a server: what a
 * message waits between the loop's check-and-stamp and being allowed out
 * (docs/performance.md, "Where the rate phase's time goes").
 *
 *   writer_rt [--count N] [--gap-ms G] [--batch B] [--dir DIR]
 *
 * A fresh sqlite database in DIR (default /tmp) with one session; N times:
 * B messages checked and stamped as the loop does
 * (sessions_prepare_message()), handed to the writer (writer_add(),
 * writer_submit()), waited for as conn.c's pass does (writer_wait(1 ms)
 * until the batch settles), then G ms of quiet. One JSON line: the round
 * trip's p50/p90/p99/max in ms and the process's CPU (both threads) per
 * message in microseconds. Every fsync is real: run it on the disk
 * chatdesk's database lives on.
 */
#include "domain/directory.h"
#include "domain/sessions.h"
#include "domain/tickets.h"
#include "domain/writer.h"
#include "runtime/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t rt__us(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int rt__cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double rt__pct(const uint64_t *v, size_t n, double q)
{
    size_t i = (size_t)(q * (double)n);
    return (double)v[i < n ? i : n - 1] / 1000.0;
}

/* One round: batch messages in, submitted, settled. 0 or -1. */
static int rt__round(struct sessions *s, struct writer *w, int64_t session,
                     int batch, unsigned seq)
{
    char body[160], err[256];
    for (int i = 0; i < batch; i++) {
        struct sess_pending p;
        snprintf(body, sizeof body,
                 "bench %u %d a message of about the size the bench sends "
                 "with a few words in it for the search index",
                 seq, i);
        if (sessions_prepare_message(s, session, "carol@localhost", NULL,
                                     body, NULL, &p) != SESS_OK ||
            writer_add(w, &p) != 0) {
            fprintf(stderr, "writer_rt: %s\n", sessions_error(s));
            return -1;
        }
    }
    if (!writer_submit(w))
        return -1;
    uint64_t b = 0;
    int rc;
    while (!(rc = writer_settle(w, 0, &b, err, sizeof err)))
        writer_wait(w, 1);
    if (rc < 0)
        fprintf(stderr, "writer_rt: batch failed: %s\n", err);
    return rc < 0 ? -1 : 0;
}

static int rt__run(const char *path, int count, int gap_ms, int batch)
{
    char err[256];
    struct store *st = store_open(path, err, sizeof err);
    struct directory *dir = st ? directory_open(st, err, sizeof err) : NULL;
    struct ticket_store *ts =
        dir ? ticket_store_sqlite_new(st, err, sizeof err) : NULL;
    struct sessions *s = ts ? sessions_open(st, dir, ts, err, sizeof err)
                            : NULL;
    struct writer *w = s ? writer_open(path, err, sizeof err) : NULL;
    struct ticket_draft d = {0, 0, "writer_rt"};
    int64_t t = 0, session = 0;
    uint64_t *rt = calloc((size_t)count, sizeof *rt);
    int rc = -1;
    if (!w || !rt || ticket_create(ts, &d, &t) != TICKET_OK ||
        sessions_create_waiting(s, "carol@localhost", 0, t, "hi",
                                &session) != SESS_OK) {
        fprintf(stderr, "writer_rt: %s\n", *err ? err : "setup failed");
        goto out;
    }
    uint64_t cpu0 = rt__us(CLOCK_PROCESS_CPUTIME_ID);
    int n = 0;
    for (; n < count; n++) {
        uint64_t t0 = rt__us(CLOCK_MONOTONIC);
        if (rt__round(s, w, session, batch, (unsigned)n) != 0)
            goto out;
        rt[n] = rt__us(CLOCK_MONOTONIC) - t0;
        struct timespec gap = {gap_ms / 1000, (long)(gap_ms % 1000) * 1000000L};
        nanosleep(&gap, NULL);
    }
    double cpu = (double)(rt__us(CLOCK_PROCESS_CPUTIME_ID) - cpu0);
    qsort(rt, (size_t)n, sizeof *rt, rt__cmp);
    printf("{\"count\": %d, \"batch\": %d, \"gap_ms\": %d, \"p50_ms\": %.3f, "
           "\"p90_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, "
           "\"cpu_us_per_msg\": %.1f}\n",
           n, batch, gap_ms, rt__pct(rt, (size_t)n, 0.5),
           rt__pct(rt, (size_t)n, 0.9), rt__pct(rt, (size_t)n, 0.99),
           rt__pct(rt, (size_t)n, 1.0), cpu / ((double)n * batch));
    rc = 0;
out:
    free(rt);
    writer_close(w);
    sessions_close(s);
    ticket_store_destroy(ts);
    directory_close(dir);
    store_close(st);
    return rc;
}

int main(int argc, char **argv)
{
    int count = 500, gap_ms = 20, batch = 1;
    const char *dir = "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--count"))
            count = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--gap-ms"))
            gap_ms = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch"))
            batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
        else {
            fprintf(stderr, "usage: writer_rt [--count N] [--gap-ms G] "
                            "[--batch B] [--dir DIR]\n");
            return 2;
        }
    }
    if (count < 1 || batch < 1 || gap_ms < 0)
        return 2;
    char path[4096];
    snprintf(path, sizeof path, "%s/writer-rt-%ld.db", dir, (long)getpid());
    int rc = rt__run(path, count, gap_ms, batch);
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        char f[4200];
        snprintf(f, sizeof f, "%s%s", path, sfx[i]);
        unlink(f);
    }
    return rc ? 1 : 0;
}
