/* lowq.c - see lowq.h */
#include "runtime/lowq.h"

#include <stdlib.h>
#include <string.h>

struct lowq {
    struct lowq_item *ring; /* capacity slots; head is the oldest */
    size_t capacity, head, len;
};

struct lowq *lowq_new(size_t capacity)
{
    if (capacity == 0)
        return NULL;
    struct lowq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->ring = calloc(capacity, sizeof *q->ring);
    if (!q->ring) {
        free(q);
        return NULL;
    }
    q->capacity = capacity;
    return q;
}

void lowq_free(struct lowq *q)
{
    if (!q)
        return;
    while (q->len)
        lowq_pop(q);
    free(q->ring);
    free(q);
}

size_t lowq_len(const struct lowq *q)
{
    return q ? q->len : 0;
}

int lowq_full(const struct lowq *q)
{
    return q && q->len == q->capacity;
}

/* One allocation holds the three strings; item->to points at its start. */
int lowq_push(struct lowq *q, const char *to, const char *from,
              const char *id, uint64_t now_ms)
{
    if (!q || !to || q->len == q->capacity)
        return -1;
    size_t nt = strlen(to) + 1, nf = from ? strlen(from) + 1 : 0;
    size_t ni = id ? strlen(id) + 1 : 0;
    char *buf = malloc(nt + nf + ni);
    if (!buf)
        return -1;
    struct lowq_item *it = &q->ring[(q->head + q->len) % q->capacity];
    memcpy(buf, to, nt);
    it->to = buf;
    it->from = from ? memcpy(buf + nt, from, nf) : NULL;
    it->id = id ? memcpy(buf + nt + nf, id, ni) : NULL;
    it->at_ms = now_ms;
    q->len++;
    return 0;
}

const struct lowq_item *lowq_peek(const struct lowq *q)
{
    return q && q->len ? &q->ring[q->head] : NULL;
}

void lowq_pop(struct lowq *q)
{
    if (!q || !q->len)
        return;
    struct lowq_item *it = &q->ring[q->head];
    free((char *)it->to);
    memset(it, 0, sizeof *it);
    q->head = (q->head + 1) % q->capacity;
    q->len--;
}

size_t lowq_due(const struct lowq *q, uint64_t now_ms, int sendq_len,
                int quiet)
{
    if (!q || !q->len || sendq_len < 0 || sendq_len >= LOWQ_SENDQ_SHORT)
        return 0;
    size_t budget = (size_t)(LOWQ_SENDQ_SHORT - sendq_len);
    if (quiet)
        return q->len < budget ? q->len : budget;
    size_t n = 0;
    while (n < q->len && n < budget) {
        const struct lowq_item *it = &q->ring[(q->head + n) % q->capacity];
        if (now_ms < it->at_ms || now_ms - it->at_ms < LOWQ_MAX_WAIT_MS)
            break;
        n++;
    }
    return n;
}
