/* sender.c - see sender.h */
#include "psa/sender.h"

#include "domain/outbox.h"
#include "domain/psa.h"
#include "runtime/config.h"
#include "runtime/http.h"
#include "runtime/log.h"
#include "runtime/metrics.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define PSA_SENDER_SCAN 64 /* due events read per scan */

/* One request in flight: the event as it was when it started. */
struct psa__flight {
    struct psa_sender *s;
    struct outbox_event e;
    int used;
};

struct psa_sender {
    const struct config *cfg;
    struct psa *psa;
    struct http *http;
    struct psa__flight flights[PSA_SENDER_MAX];
    int rescan; /* a request finished: look for more after this pass */
};

struct psa_sender *psa_sender_new(struct store *st, struct directory *dir,
                                  struct ticket_store *ts,
                                  const struct config *cfg, char *err,
                                  size_t errlen)
{
    struct psa_sender *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->psa = psa_open(st, dir, ts, err, errlen);
    if (s->psa)
        s->http = http_new(cfg->psa_timeout, cfg->psa_ca_file, err, errlen);
    if (!s->http) {
        psa_sender_free(s);
        return NULL;
    }
    for (size_t i = 0; i < PSA_SENDER_MAX; i++)
        s->flights[i].s = s;
    return s;
}

void psa_sender_free(struct psa_sender *s)
{
    if (!s)
        return;
    http_free(s->http);
    psa_close(s->psa);
    free(s);
}

/* A fraction in [0, 1) for the back-off jitter. */
static double psa_sender__jitter(void)
{
    uint16_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        return 0.0;
    return r / 65536.0;
}

/* Record the answer (status 0: none, why in what) to e's attempt; log it. */
static void psa_sender__settle(struct psa_sender *s,
                               const struct outbox_event *e, long status,
                               const char *what, const char *body)
{
    enum psa_outcome out = PSA_RETRY;
    const char *type = outbox_type_name(e->type);
    if (psa_settle(s->psa, e, status, what, body, s->cfg->psa_retry_max,
                   psa_sender__jitter(), &out) != 0) {
        log_error("psa", "event %s: %s", e->event_id, psa_error(s->psa));
        return;
    }
    if (out != PSA_SENT)
        metrics_outbox_failure();
    if (out == PSA_SENT)
        log_info("psa", "%s %s of ticket #%lld delivered (HTTP %ld)", type,
                 e->event_id, (long long)e->ticket_id, status);
    else if (out == PSA_RETRY && status)
        log_warn("psa", "%s %s of ticket #%lld: HTTP %ld; will retry", type,
                 e->event_id, (long long)e->ticket_id, status);
    else if (out == PSA_RETRY)
        log_warn("psa", "%s %s of ticket #%lld: no answer (%s); will retry",
                 type, e->event_id, (long long)e->ticket_id, what);
    else
        log_error("psa",
                  "%s %s of ticket #%lld is a dead letter: HTTP %ld "
                  "%s (chatdeskctl outbox retry %s re-sends it)",
                  type, e->event_id, (long long)e->ticket_id, status,
                  body ? body : "", e->event_id);
}

static void psa_sender__done(void *ud, const struct http_response *r)
{
    struct psa__flight *f = ud;
    psa_sender__settle(f->s, &f->e, r->status, r->error, r->body);
    f->used = 0;
    f->s->rescan = 1;
}

/* POST e from flight slot f. 0, or -1 (e settled as a failed attempt). */
static int psa_sender__start(struct psa_sender *s, struct psa__flight *f,
                             const struct outbox_event *e)
{
    char *body = NULL, sig[PSA_SIG_HEX], h_key[64], h_event[64], h_sig[96];
    if (psa_render(s->psa, e, &body) != 0) {
        psa_sender__settle(s, e, 0, psa_error(s->psa), NULL);
        return -1;
    }
    psa_sign(s->cfg->psa_secret, body, strlen(body), sig);
    snprintf(h_key, sizeof h_key, "Idempotency-Key: %s", e->event_id);
    snprintf(h_event, sizeof h_event, "X-Chatdesk-Event: %s",
             outbox_type_name(e->type));
    snprintf(h_sig, sizeof h_sig, "X-Chatdesk-Signature: sha256=%s", sig);
    const char *headers[] = {"Content-Type: application/json", h_key, h_event,
                             h_sig, NULL};
    f->e = *e;
    f->used = 1;
    int rc = http_post(s->http, s->cfg->psa_url, headers, body, strlen(body),
                       psa_sender__done, f);
    free(body);
    if (rc != 0) {
        f->used = 0;
        psa_sender__settle(s, e, 0, "cannot start the HTTP request", NULL);
    }
    return rc;
}

/* The slot for ticket's next event: NULL when the ticket has one in flight
 * or every slot is taken. */
static struct psa__flight *psa_sender__slot(struct psa_sender *s,
                                            int64_t ticket)
{
    struct psa__flight *free_slot = NULL;
    for (size_t i = 0; i < PSA_SENDER_MAX; i++) {
        struct psa__flight *f = &s->flights[i];
        if (f->used && f->e.ticket_id == ticket)
            return NULL;
        if (!f->used && !free_slot)
            free_slot = f;
    }
    return free_slot;
}

void psa_sender_tick(struct psa_sender *s)
{
    struct outbox_list due;
    s->rescan = 0;
    long depth = psa_pending(s->psa);
    if (depth >= 0)
        metrics_set_outbox_depth(depth);
    if (http_in_flight(s->http) >= PSA_SENDER_MAX)
        return;
    if (psa_due(s->psa, PSA_SENDER_SCAN, &due) != 0) {
        log_warn("psa", "cannot read the outbox: %s", psa_error(s->psa));
        return;
    }
    for (size_t i = 0; i < due.n; i++) {
        struct psa__flight *f = psa_sender__slot(s, due.items[i].ticket_id);
        if (f)
            psa_sender__start(s, f, &due.items[i]);
    }
    outbox_list_free(&due);
}

void psa_sender_pass(struct psa_sender *s)
{
    http_poll(s->http);
    if (s->rescan)
        psa_sender_tick(s);
}
