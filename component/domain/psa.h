/* psa.h - what a PSA event says and what an answer does (SPEC §6), in plain
 * C: no network here (component/psa/sender.c does the HTTP).
 *
 * psa_render() writes the JSON body of an outbox event from the ticket as
 * it is at that moment (so an external_id learnt since is carried), with
 * jansson: {"id", "type", "time", "ticket": {"id", "external_id",
 * "company", "contact", "summary", "status"}, "note"}; ids are JSON
 * numbers, external_id null until known, company {"id", "name"} and contact
 * {"id", "name", "jid"} (null when the ticket has none), times RFC 3339 UTC
 * to the second, "note" {"kind", "author", "time", "text"} only on
 * ticket.note_added. psa_sign() is the X-Chatdesk-Signature (HMAC-SHA256
 * with OpenSSL, lowercase hex).
 *
 * psa_settle() records the answer to one attempt: 2xx is delivery (a
 * ticket.created answer whose JSON body has "external_id" stores it on the
 * ticket, in the same transaction); no answer (connection error, timeout),
 * 408, 429 and 5xx are retried after psa_backoff(); any other answer makes a
 * dead letter.
 *
 * Ownership: struct psa borrows the store, directory and ticket store (they
 * must outlive it) and owns an outbox handle. Errors: -1 with a sentence in
 * psa_error(), borrowed until the next call.
 */
#ifndef CHATDESK_PSA_H
#define CHATDESK_PSA_H

#include <stddef.h>

#include "domain/outbox.h"

struct store;
struct directory;
struct ticket_store;
struct psa;

#define PSA_SIG_HEX 65 /* 64 hex digits and the NUL */

enum psa_outcome { PSA_SENT = 0, PSA_RETRY, PSA_DEAD };

/* Open on st (schema >= 7). NULL with err on failure. */
struct psa *psa_open(struct store *st, struct directory *dir,
                     struct ticket_store *ts, char *err, size_t errlen);
void psa_close(struct psa *p); /* NULL is fine */
const char *psa_error(const struct psa *p);

/* The events to send now (outbox_due()). 0 or -1. */
int psa_due(struct psa *p, size_t limit, struct outbox_list *out);

/* outbox_pending() of the outbox behind p: the metrics' outbox depth. */
long psa_pending(struct psa *p);

/* The JSON body of e into *body (malloc'd, NUL-terminated; the caller
 * frees it). 0, or -1 when the ticket (or its note) cannot be read. */
int psa_render(struct psa *p, const struct outbox_event *e, char **body);

/* The lowercase hex HMAC-SHA256 of body[0..len-1] with secret. */
void psa_sign(const char *secret, const char *body, size_t len,
              char hex[PSA_SIG_HEX]);

/* What an answer means: status 0 = none (connection error or timeout). */
enum psa_outcome psa_classify(long status);

/* Seconds to wait after failed attempt number attempt (1-based): 1 s
 * doubling, capped at retry_max, less up to 20 % jitter (jitter in [0, 1)
 * picks how much), never below 1 s. */
long psa_backoff(int attempt, long retry_max, double jitter);

/* Record the answer to an attempt at e: status (0 = none), what (the
 * connection error, or NULL), body (the answer's body, may be NULL). Sets
 * the event sent, pending again at clock_now() + psa_backoff(), or dead,
 * with the answer ("HTTP 503", "HTTP 400: <body>", the error); stores an
 * external_id for ticket.created. *outcome gets what happened. 0 or -1. */
int psa_settle(struct psa *p, const struct outbox_event *e, long status,
               const char *what, const char *body, long retry_max,
               double jitter, enum psa_outcome *outcome);

/* "2026-12-03T10:00:00Z" for t into out (at least 21 bytes). */
void psa_time(time_t t, char out[21]);

#endif
