/* ratelimit.c - see ratelimit.h */
#include "runtime/ratelimit.h"

#include <stdlib.h>
#include <string.h>

/* Tokens are counted in thousandths so that refilling needs no floating
 * point: per_second tokens a second is per_second thousandths a ms. */
#define RL__MILLI 1000u
#define RL__SWEEP_MS 1000u

struct rl__bucket {
    struct rl__bucket *hnext;       /* hash chain */
    struct rl__bucket *prev, *next; /* LRU list: head is the most recent */
    uint64_t last_ms;               /* last take (and refill) */
    uint64_t log_ms;                /* last log line */
    uint64_t milli;                 /* tokens * RL__MILLI */
    unsigned long refused;          /* refusals since the last log line */
    uint32_t hash;
    unsigned char logged, over;
    char key[];
};

struct ratelimit {
    unsigned per_second, burst;
    size_t max_keys, count;
    uint64_t full_ms; /* idle time after which any bucket is full */
    uint64_t last_sweep_ms;
    struct rl__bucket **table;
    size_t table_size; /* a power of two */
    struct rl__bucket *head, *tail;
};

static uint32_t rl__hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

struct ratelimit *ratelimit_new(unsigned per_second, unsigned burst,
                                size_t max_keys)
{
    if (per_second == 0 || burst == 0 || max_keys == 0 ||
        max_keys > ((size_t)1 << 24))
        return NULL;
    struct ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->per_second = per_second;
    rl->burst = burst;
    rl->max_keys = max_keys;
    rl->full_ms = ((uint64_t)burst * RL__MILLI + per_second - 1) / per_second;
    rl->table_size = 16;
    while (rl->table_size < max_keys)
        rl->table_size *= 2;
    rl->table = calloc(rl->table_size, sizeof *rl->table);
    if (!rl->table) {
        free(rl);
        return NULL;
    }
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    struct rl__bucket *b = rl->head;
    while (b) {
        struct rl__bucket *next = b->next;
        free(b);
        b = next;
    }
    free(rl->table);
    free(rl);
}

static struct rl__bucket *rl__find(const struct ratelimit *rl, const char *key,
                                   uint32_t hash)
{
    struct rl__bucket *b = rl->table[hash & (rl->table_size - 1)];
    for (; b; b = b->hnext)
        if (b->hash == hash && !strcmp(b->key, key))
            return b;
    return NULL;
}

static void rl__lru_unlink(struct ratelimit *rl, struct rl__bucket *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        rl->head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    else
        rl->tail = b->prev;
    b->prev = b->next = NULL;
}

static void rl__lru_push(struct ratelimit *rl, struct rl__bucket *b)
{
    b->prev = NULL;
    b->next = rl->head;
    if (rl->head)
        rl->head->prev = b;
    rl->head = b;
    if (!rl->tail)
        rl->tail = b;
}

/* Take b out of the table and the list, and free it. */
static void rl__drop(struct ratelimit *rl, struct rl__bucket *b)
{
    struct rl__bucket **pp = &rl->table[b->hash & (rl->table_size - 1)];
    while (*pp && *pp != b)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = b->hnext;
    rl__lru_unlink(rl, b);
    free(b);
    rl->count--;
}

/* A new full bucket for key; the least recently used one makes room when
 * the table is full. NULL when out of memory. */
static struct rl__bucket *rl__add(struct ratelimit *rl, const char *key,
                                  uint32_t hash, uint64_t now_ms)
{
    size_t len = strlen(key);
    struct rl__bucket *b = calloc(1, sizeof *b + len + 1);
    if (!b)
        return NULL;
    memcpy(b->key, key, len + 1);
    b->hash = hash;
    b->last_ms = now_ms;
    b->milli = (uint64_t)rl->burst * RL__MILLI;
    if (rl->count >= rl->max_keys && rl->tail)
        rl__drop(rl, rl->tail);
    size_t slot = hash & (rl->table_size - 1);
    b->hnext = rl->table[slot];
    rl->table[slot] = b;
    rl__lru_push(rl, b);
    rl->count++;
    return b;
}

/* Add what b earned since its last take; a clock going back earns nothing. */
static void rl__refill(const struct ratelimit *rl, struct rl__bucket *b,
                       uint64_t now_ms)
{
    uint64_t cap = (uint64_t)rl->burst * RL__MILLI;
    if (now_ms > b->last_ms) {
        uint64_t elapsed = now_ms - b->last_ms;
        if (elapsed > rl->full_ms)
            elapsed = rl->full_ms;
        b->milli += elapsed * rl->per_second;
        if (b->milli > cap)
            b->milli = cap;
        b->last_ms = now_ms;
    }
}

enum ratelimit_verdict ratelimit_take(struct ratelimit *rl, const char *key,
                                      uint64_t now_ms)
{
    if (!rl || !key)
        return RATELIMIT_PASS;
    if (now_ms >= rl->last_sweep_ms + RL__SWEEP_MS)
        ratelimit_sweep(rl, now_ms);
    uint32_t hash = rl__hash(key);
    struct rl__bucket *b = rl__find(rl, key, hash);
    if (!b && !(b = rl__add(rl, key, hash, now_ms)))
        return RATELIMIT_PASS;
    rl__refill(rl, b, now_ms);
    if (b != rl->head) {
        rl__lru_unlink(rl, b);
        rl__lru_push(rl, b);
    }
    if (b->milli >= RL__MILLI) {
        b->milli -= RL__MILLI;
        b->over = 0;
        return RATELIMIT_PASS;
    }
    b->over = 1;
    b->refused++;
    return RATELIMIT_OVER;
}

int ratelimit_log_due(struct ratelimit *rl, const char *key, uint64_t now_ms,
                      unsigned long *refused)
{
    struct rl__bucket *b = rl && key ? rl__find(rl, key, rl__hash(key)) : NULL;
    if (!b || !b->over || (b->logged && now_ms < b->log_ms + RATELIMIT_LOG_MS))
        return 0;
    b->logged = 1;
    b->log_ms = now_ms;
    if (refused)
        *refused = b->refused;
    b->refused = 0;
    return 1;
}

size_t ratelimit_sweep(struct ratelimit *rl, uint64_t now_ms)
{
    size_t n = 0;
    if (!rl)
        return 0;
    rl->last_sweep_ms = now_ms;
    /* the tail is the bucket idle longest: stop at the first one that is
     * not full yet */
    while (rl->tail && now_ms >= rl->tail->last_ms + rl->full_ms) {
        rl__drop(rl, rl->tail);
        n++;
    }
    return n;
}

size_t ratelimit_count(const struct ratelimit *rl)
{
    return rl ? rl->count : 0;
}

unsigned ratelimit_per_second(const struct ratelimit *rl)
{
    return rl ? rl->per_second : 0;
}

unsigned ratelimit_burst(const struct ratelimit *rl)
{
    return rl ? rl->burst : 0;
}
