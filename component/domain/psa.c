/* psa.c - see psa.h */
#include "domain/psa.h"

#include "domain/directory.h"
#include "domain/tickets.h"
#include "runtime/clock.h"
#include "runtime/store.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct psa {
    struct store *st;
    struct directory *dir;
    struct ticket_store *ts;
    struct outbox *ob;
    char err[256];
};

__attribute__((format(printf, 2, 3))) static int psa__fail(struct psa *p,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof p->err, fmt, ap);
    va_end(ap);
    return -1;
}

struct psa *psa_open(struct store *st, struct directory *dir,
                     struct ticket_store *ts, char *err, size_t errlen)
{
    struct psa *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->st = st;
    p->dir = dir;
    p->ts = ts;
    p->ob = outbox_open(st, err, errlen);
    if (!p->ob) {
        free(p);
        return NULL;
    }
    return p;
}

void psa_close(struct psa *p)
{
    if (!p)
        return;
    outbox_close(p->ob);
    free(p);
}

const char *psa_error(const struct psa *p)
{
    return p->err;
}

int psa_due(struct psa *p, size_t limit, struct outbox_list *out)
{
    if (outbox_due(p->ob, limit, out) == 0)
        return 0;
    return psa__fail(p, "%s", outbox_error(p->ob));
}

long psa_pending(struct psa *p)
{
    return outbox_pending(p->ob);
}

void psa_time(time_t t, char out[21])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 21, "1970-01-01T00:00:00Z");
}

/* Bytes of the well-formed UTF-8 character at s (RFC 3629: no overlong
 * forms, surrogates or code points above U+10FFFF), 0 when there is none. */
static size_t psa__utf8_char(const unsigned char *s)
{
    unsigned lo = 0x80, hi = 0xbf;
    size_t n;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (s[0] == 0xe0)
        lo = 0xa0;
    else if (s[0] == 0xed)
        hi = 0x9f;
    else if (s[0] == 0xf0)
        lo = 0x90;
    else if (s[0] == 0xf4)
        hi = 0x8f;
    for (size_t i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
        if (s[i] < lo || s[i] > hi)
            return 0;
    return n;
}

/* s as a JSON string, NULL for NULL. What a store holds need not be UTF-8
 * (a CSV import in Latin-1): each byte that starts no well-formed character
 * becomes U+FFFD, so the event still renders (a body refused for good would
 * be retried for ever and hold back the ticket's later events). */
static json_t *psa__str(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    if (v || !s)
        return v;
    char *fixed = malloc(strlen(s) * 3 + 1), *o = fixed;
    for (const unsigned char *c = (const unsigned char *)s; fixed && *c;) {
        size_t n = psa__utf8_char(c);
        memcpy(o, n ? (const char *)c : "\xef\xbf\xbd", n ? n : 3);
        o += n ? n : 3;
        c += n ? n : 1;
    }
    if (fixed)
        *o = '\0';
    v = fixed ? json_string(fixed) : NULL;
    free(fixed);
    return v;
}

/* {"id", "name"} of company id, JSON null for none; NULL on a store error. */
static json_t *psa__company(struct psa *p, int64_t id)
{
    struct company c;
    if (!id)
        return json_null();
    int rc = directory_company_get(p->dir, id, &c);
    if (rc != DIR_OK && rc != DIR_ERR_NOT_FOUND) {
        psa__fail(p, "%s", directory_error(p->dir));
        return NULL;
    }
    return json_pack("{s:I,s:o?}", "id", (json_int_t)id, "name",
                     psa__str(rc == DIR_OK ? c.name : NULL));
}

/* {"id", "name", "jid"} of contact id, JSON null for none; NULL on error. */
static json_t *psa__contact(struct psa *p, int64_t id)
{
    struct contact c;
    if (!id)
        return json_null();
    int rc = directory_contact_get(p->dir, id, &c);
    if (rc != DIR_OK && rc != DIR_ERR_NOT_FOUND) {
        psa__fail(p, "%s", directory_error(p->dir));
        return NULL;
    }
    return json_pack("{s:I,s:o?,s:o?}", "id", (json_int_t)id, "name",
                     psa__str(rc == DIR_OK ? c.name : NULL), "jid",
                     psa__str(rc == DIR_OK ? c.jid : NULL));
}

static json_t *psa__ticket(struct psa *p, const struct ticket *t)
{
    json_t *company = psa__company(p, t->company_id);
    json_t *contact = company ? psa__contact(p, t->contact_id) : NULL;
    if (!contact) {
        json_decref(company);
        return NULL;
    }
    return json_pack("{s:I,s:o?,s:o,s:o,s:o,s:s}", "id", (json_int_t)t->id,
                     "external_id", psa__str(t->external_id), "company",
                     company, "contact", contact, "summary",
                     psa__str(t->summary), "status",
                     ticket_status_name(t->status));
}

/* The "note" object of note id of t, NULL when t has no such note. */
static json_t *psa__note(const struct ticket *t, int64_t id)
{
    for (size_t i = 0; i < t->n_notes; i++) {
        const struct ticket_note *n = &t->notes[i];
        char when[21];
        if (n->id != id)
            continue;
        psa_time(n->created, when);
        return json_pack("{s:s,s:o,s:s,s:o}", "kind",
                         ticket_note_kind_name(n->kind), "author",
                         psa__str(n->author), "time", when, "text",
                         psa__str(n->text));
    }
    return NULL;
}

/* The whole body of e for ticket t, NULL when a part cannot be made. */
static json_t *psa__event(struct psa *p, const struct outbox_event *e,
                          const struct ticket *t)
{
    char when[21];
    psa_time(e->created, when);
    json_t *ticket = psa__ticket(p, t);
    json_t *root = ticket ? json_pack("{s:s,s:s,s:s,s:o}", "id", e->event_id,
                                      "type", outbox_type_name(e->type), "time",
                                      when, "ticket", ticket)
                          : NULL;
    if (root && e->type == OUTBOX_NOTE_ADDED) {
        json_t *note = psa__note(t, e->note_id);
        if (!note || json_object_set_new(root, "note", note) != 0) {
            psa__fail(p, "ticket #%lld has no note %lld",
                      (long long)e->ticket_id, (long long)e->note_id);
            json_decref(root);
            return NULL;
        }
    }
    return root;
}

int psa_render(struct psa *p, const struct outbox_event *e, char **body)
{
    struct ticket t;
    if (ticket_get(p->ts, e->ticket_id, &t) != TICKET_OK)
        return psa__fail(p, "%s", ticket_store_error(p->ts));
    snprintf(p->err, sizeof p->err, "cannot render event %s", e->event_id);
    json_t *root = psa__event(p, e, &t);
    ticket_clear(&t);
    *body = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return *body ? 0 : -1;
}

void psa_sign(const char *secret, const char *body, size_t len,
              char hex[PSA_SIG_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    hex[0] = '\0';
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret),
              (const unsigned char *)body, len, md, &n))
        return;
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

enum psa_outcome psa_classify(long status)
{
    if (status >= 200 && status <= 299)
        return PSA_SENT;
    if (status == 0 || status == 408 || status == 429 ||
        (status >= 500 && status <= 599))
        return PSA_RETRY;
    return PSA_DEAD;
}

long psa_backoff(int attempt, long retry_max, double jitter)
{
    long d = 1;
    for (int i = 1; i < attempt && d < retry_max; i++)
        d *= 2;
    if (d > retry_max)
        d = retry_max;
    d -= (long)((double)d * 0.2 * jitter);
    return d < 1 ? 1 : d;
}

/* Room for an answer before outbox_settle() cuts it to OUTBOX_ANSWER_MAX
 * bytes at a character boundary. */
#define PSA_ANSWER_BUF (OUTBOX_ANSWER_MAX + 32)

/* "HTTP 400: <body>" (control characters as spaces), or the error. */
static void psa__answer(long status, const char *what, const char *body,
                        char out[PSA_ANSWER_BUF])
{
    if (!status) {
        snprintf(out, PSA_ANSWER_BUF, "%s", what ? what : "no answer");
        return;
    }
    size_t n = (size_t)snprintf(out, PSA_ANSWER_BUF, "HTTP %ld", status);
    if (psa_classify(status) != PSA_SENT && body && *body) {
        size_t len = strnlen(body, OUTBOX_ANSWER_MAX); /* n + 2 + len < buf */
        memcpy(out + n, ": ", 2);
        memcpy(out + n + 2, body, len);
        out[n + 2 + len] = '\0';
    }
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
}

/* The "external_id" of a JSON answer body (a string or an integer) into
 * out; 0 when there is one. */
static int psa__external_id(const char *body, char *out, size_t outlen)
{
    json_t *root = body ? json_loads(body, 0, NULL) : NULL;
    json_t *v =
        json_is_object(root) ? json_object_get(root, "external_id") : NULL;
    int rc = -1;
    if (json_is_string(v) && json_string_length(v) > 0 &&
        json_string_length(v) < outlen)
        rc = snprintf(out, outlen, "%s", json_string_value(v)) > 0 ? 0 : -1;
    else if (json_is_integer(v))
        rc = snprintf(out, outlen, "%" JSON_INTEGER_FORMAT,
                      json_integer_value(v)) > 0
                 ? 0
                 : -1;
    json_decref(root);
    return rc;
}

/* A delivery: the external id (ticket.created) and the status together. */
static int psa__delivered(struct psa *p, const struct outbox_event *e,
                          const char *body, const char *answer)
{
    char ext[256];
    if (store_begin(p->st) != 0)
        return psa__fail(p, "cannot begin a transaction");
    if (e->type == OUTBOX_TICKET_CREATED &&
        psa__external_id(body, ext, sizeof ext) == 0 &&
        ticket_set_external_id(p->ts, e->ticket_id, ext) != TICKET_OK) {
        psa__fail(p, "%s", ticket_store_error(p->ts));
        store_rollback(p->st);
        return -1;
    }
    if (outbox_settle(p->ob, e->id, OUTBOX_SENT, e->next_at, answer) != 0) {
        psa__fail(p, "%s", outbox_error(p->ob));
        store_rollback(p->st);
        return -1;
    }
    return store_commit(p->st) == 0 ? 0
                                    : psa__fail(p, "cannot commit a delivery");
}

int psa_settle(struct psa *p, const struct outbox_event *e, long status,
               const char *what, const char *body, long retry_max,
               double jitter, enum psa_outcome *outcome)
{
    char answer[PSA_ANSWER_BUF];
    *outcome = psa_classify(status);
    psa__answer(status, what, body, answer);
    if (*outcome == PSA_SENT)
        return psa__delivered(p, e, body, answer);
    time_t next =
        *outcome == PSA_RETRY
            ? clock_now() + psa_backoff(e->attempts + 1, retry_max, jitter)
            : e->next_at;
    enum outbox_status st =
        *outcome == PSA_RETRY ? OUTBOX_PENDING : OUTBOX_DEAD;
    if (outbox_settle(p->ob, e->id, st, next, answer) != 0)
        return psa__fail(p, "%s", outbox_error(p->ob));
    return 0;
}
