/* writer.c - see writer.h. The loop and the thread share only what the
 * mutex guards (the todo and done lists, stop); the forming batch, the
 * in-flight count and the pending origin-ids are the loop's, the
 * connection and its modules the thread's. */
#include "domain/writer.h"

#include "domain/history.h"
#include "domain/sessions.h"
#include "runtime/store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct writer__batch {
    uint64_t seq;
    struct sess_pending *items;
    size_t n, cap;
    int failed;
    char err[256];
    struct writer__batch *next;
};

struct writer__list {
    struct writer__batch *head, *tail;
};

/* A message with an origin-id that is not committed yet: in the forming
 * batch (seq = the number it will get) or in flight. Appended in seq
 * order, so settling batch n drops a prefix. */
struct writer__origin {
    uint64_t seq;
    int64_t session;
    char *key; /* "from\norigin-id" */
};

struct writer {
    /* the thread's */
    struct store *st;
    struct sessions *sessions;
    struct history *history;
    pthread_t thread;
    uint64_t indexed_ms;   /* when the thread last indexed for search */
    uint64_t committed_ms; /* when it last committed a batch */
    int unindexed;         /* it committed messages it did not index */
    /* the loop's */
    struct writer__batch *forming;
    uint64_t last_seq;
    size_t in_flight; /* submitted, not yet settled */
    struct writer__origin *origins;
    size_t n_origins, cap_origins;
    /* shared, under mu */
    pthread_mutex_t mu;
    pthread_cond_t work; /* todo non-empty or stop: the thread waits */
    pthread_cond_t done; /* done non-empty: the loop waits */
    struct writer__list todo, finished;
    int stop;
};

static void writer__batch_free(struct writer__batch *b)
{
    for (size_t i = 0; b && i < b->n; i++)
        sess_pending_clear(&b->items[i]);
    if (b)
        free(b->items);
    free(b);
}

static void writer__push(struct writer__list *l, struct writer__batch *b)
{
    b->next = NULL;
    if (l->tail)
        l->tail->next = b;
    else
        l->head = b;
    l->tail = b;
}

/* "from\norigin-id" of p (heap), NULL when out of memory. */
static char *writer__origin_key(const struct sess_pending *p)
{
    size_t n = strlen(p->from) + strlen(p->origin_id) + 2;
    char *key = malloc(n);
    if (key)
        snprintf(key, n, "%s\n%s", p->from, p->origin_id);
    return key;
}

/* Remember p's origin-id (if any) as pending in the batch that will get
 * number seq. 0 or -1 (out of memory). */
static int writer__origin_add(struct writer *w, const struct sess_pending *p,
                              uint64_t seq)
{
    if (!*p->origin_id)
        return 0;
    if (w->n_origins == w->cap_origins) {
        size_t cap = w->cap_origins ? 2 * w->cap_origins : 16;
        struct writer__origin *grown =
            realloc(w->origins, cap * sizeof *grown);
        if (!grown)
            return -1;
        w->origins = grown;
        w->cap_origins = cap;
    }
    char *key = writer__origin_key(p);
    if (!key)
        return -1;
    w->origins[w->n_origins++] =
        (struct writer__origin){seq, p->session_id, key};
    return 0;
}

/* Forget the origin-ids of every batch up to seq (settled). */
static void writer__origin_drop(struct writer *w, uint64_t seq)
{
    size_t i = 0;
    while (i < w->n_origins && w->origins[i].seq <= seq)
        free(w->origins[i++].key);
    if (!i)
        return;
    memmove(w->origins, w->origins + i,
            (w->n_origins - i) * sizeof *w->origins);
    w->n_origins -= i;
}

static uint64_t writer__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One transaction for every batch of the list; each gets the result. */
static void writer__commit(struct writer *w, struct writer__batch *list)
{
    char why[256] = ""; /* the first failure: the commit's own says less */
    int rc = sessions_hold(w->sessions);
    for (struct writer__batch *b = list; rc == SESS_OK && b; b = b->next)
        for (size_t i = 0; rc == SESS_OK && i < b->n; i++)
            rc = sessions_store_pending(w->sessions, &b->items[i]);
    if (rc != SESS_OK)
        snprintf(why, sizeof why, "%s", sessions_error(w->sessions));
    /* the search index in the same transaction (no extra fsync), at most
     * every WRITER_INDEX_MS (writer.h); a failure only leaves the rows to
     * the next indexing, tick or search (bounded as the loop's group
     * commit bounds it, so a backlog cannot stretch a batch) */
    uint64_t now = writer__now_ms();
    int index = rc == SESS_OK && now - w->indexed_ms >= WRITER_INDEX_MS;
    if (index) {
        history_index_pending(w->history, 2000, NULL);
        w->indexed_ms = now;
    }
    int crc = sessions_commit_held(w->sessions);
    if (rc == SESS_OK)
        rc = crc;
    if (rc == SESS_OK)
        w->unindexed = !index;
    w->committed_ms = now;
    for (struct writer__batch *b = list; b; b = b->next) {
        b->failed = rc != SESS_OK;
        if (b->failed)
            snprintf(b->err, sizeof b->err, "%s",
                     *why ? why : sessions_error(w->sessions));
        for (size_t i = 0; i < b->n; i++)
            sess_pending_clear(&b->items[i]);
        b->n = 0;
    }
}

/* With the mutex held: wait for work; while stored messages wait for the
 * search index, index them (in a transaction of their own, one more
 * fsync) once WRITER_INDEX_MS passed since the last commit and the last
 * indexing: while batches keep coming the index rides along with them. */
static void writer__idle(struct writer *w)
{
    while (!w->todo.head && !w->stop) {
        if (!w->unindexed) {
            pthread_cond_wait(&w->work, &w->mu);
            continue;
        }
        uint64_t due = (w->indexed_ms > w->committed_ms ? w->indexed_ms
                                                         : w->committed_ms) +
                       WRITER_INDEX_MS;
        struct timespec until = {(time_t)(due / 1000),
                                 (long)(due % 1000) * 1000000L};
        if (pthread_cond_timedwait(&w->work, &w->mu, &until) != ETIMEDOUT ||
            w->todo.head || w->stop)
            continue;
        pthread_mutex_unlock(&w->mu);
        history_index_pending(w->history, 2000, NULL);
        w->indexed_ms = writer__now_ms();
        w->unindexed = 0;
        pthread_mutex_lock(&w->mu);
    }
}

/* The thread: take everything handed over, commit it, report it. */
static void *writer__main(void *arg)
{
    struct writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        writer__idle(w);
        struct writer__batch *list = w->todo.head;
        if (!list)
            break; /* stopping, and nothing left to write */
        w->todo.head = w->todo.tail = NULL;
        pthread_mutex_unlock(&w->mu);
        writer__commit(w, list);
        pthread_mutex_lock(&w->mu);
        while (list) {
            struct writer__batch *next = list->next;
            writer__push(&w->finished, list);
            list = next;
        }
        pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Start the thread with every signal blocked: they are the loop's.
 * 0 or pthread_create()'s error number. */
static int writer__start(struct writer *w)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, writer__main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* The thread's connection and modules; 0 or -1 with err. */
static int writer__open_db(struct writer *w, const char *path, char *err,
                           size_t errlen)
{
    w->st = store_open(path, err, errlen);
    if (!w->st)
        return -1;
    w->sessions = sessions_open(w->st, NULL, NULL, err, errlen);
    if (!w->sessions)
        return -1;
    w->history = history_open(w->st, NULL, err, errlen);
    return w->history ? 0 : -1;
}

static void writer__close_db(struct writer *w)
{
    history_close(w->history);
    sessions_close(w->sessions);
    store_close(w->st);
}

struct writer *writer_open(const char *path, char *err, size_t errlen)
{
    struct writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (writer__open_db(w, path, err, errlen) != 0) {
        writer__close_db(w);
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca; /* the deadlines of writer_wait() and of the
                              thread's indexing: monotonic */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->work, &ca);
    pthread_cond_init(&w->done, &ca);
    pthread_condattr_destroy(&ca);
    int rc = writer__start(w);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the commit writer: %s",
                 strerror(rc));
        w->stop = -1; /* no thread to join */
        writer_close(w);
        return NULL;
    }
    return w;
}

static void writer__free_list(struct writer__batch *b)
{
    while (b) {
        struct writer__batch *next = b->next;
        writer__batch_free(b);
        b = next;
    }
}

void writer_close(struct writer *w)
{
    if (!w)
        return;
    if (w->stop != -1) {
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_signal(&w->work);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    writer__free_list(w->finished.head);
    writer__free_list(w->todo.head);
    writer__batch_free(w->forming);
    writer__origin_drop(w, UINT64_MAX);
    free(w->origins);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->done);
    pthread_mutex_destroy(&w->mu);
    writer__close_db(w);
    free(w);
}

int writer_pending_origin(const struct writer *w,
                          const struct sess_pending *p)
{
    if (!w || !*p->origin_id)
        return 0;
    for (size_t i = 0; i < w->n_origins; i++) {
        const struct writer__origin *o = &w->origins[i];
        const char *k = o->key;
        size_t fl = strlen(p->from);
        if (o->session == p->session_id && !strncmp(k, p->from, fl) &&
            k[fl] == '\n' && !strcmp(k + fl + 1, p->origin_id))
            return 1;
    }
    return 0;
}

int writer_add(struct writer *w, struct sess_pending *p)
{
    struct writer__batch *b = w->forming;
    if (!b && !(b = w->forming = calloc(1, sizeof *b)))
        return -1;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        struct sess_pending *grown = realloc(b->items, cap * sizeof *grown);
        if (!grown)
            return -1;
        b->items = grown;
        b->cap = cap;
    }
    if (writer__origin_add(w, p, w->last_seq + 1) != 0)
        return -1;
    b->items[b->n++] = *p;
    p->body = NULL;
    return 0;
}

uint64_t writer_submit(struct writer *w)
{
    struct writer__batch *b = w->forming;
    if (!b || !b->n)
        return 0;
    w->forming = NULL;
    b->seq = ++w->last_seq;
    w->in_flight++;
    pthread_mutex_lock(&w->mu);
    writer__push(&w->todo, b);
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    return b->seq;
}

int writer_settle(struct writer *w, int wait, uint64_t *batch, char *err,
                  size_t errlen)
{
    pthread_mutex_lock(&w->mu);
    while (wait && w->in_flight && !w->finished.head)
        pthread_cond_wait(&w->done, &w->mu);
    struct writer__batch *b = w->finished.head;
    if (b) {
        w->finished.head = b->next;
        if (!b->next)
            w->finished.tail = NULL;
    }
    pthread_mutex_unlock(&w->mu);
    if (!b)
        return 0;
    w->in_flight--;
    writer__origin_drop(w, b->seq);
    *batch = b->seq;
    int rc = b->failed ? -1 : 1;
    snprintf(err, errlen, "%s", b->failed ? b->err : "");
    writer__batch_free(b);
    return rc;
}

int writer_wait(struct writer *w, unsigned ms)
{
    if (!w || !w->in_flight)
        return 0;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    until.tv_sec += ms / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&w->mu);
    int rc = 0;
    while (!w->finished.head && rc == 0)
        rc = pthread_cond_timedwait(&w->done, &w->mu, &until);
    int done = w->finished.head != NULL;
    pthread_mutex_unlock(&w->mu);
    return done;
}

size_t writer_in_flight(const struct writer *w)
{
    return w ? w->in_flight : 0;
}
