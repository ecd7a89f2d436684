/* sender.h - delivers the PSA events of the outbox to [psa] webhook_url
 * (SPEC §6), without ever making the chat loop wait.
 *
 * psa_sender_tick() (about once a second, between event-loop passes, so
 * after the group commit: an event is never sent before its ticket change
 * is durable) takes each ticket's oldest pending due event (psa_due()) and
 * starts its POST, at most PSA_SENDER_MAX at once and one per ticket, so a
 * ticket's events go in order. psa_sender_pass() (after every pass) moves
 * the requests on without waiting and settles each answer (psa_settle():
 * sent, retried with back-off, or a dead letter, which is logged with the
 * answer); when one finishes it looks for more at once. What chatdeskctl
 * writes (a closed ticket, a retried dead letter) is in the next tick's
 * scan.
 *
 * Headers: Content-Type: application/json, Idempotency-Key: <event id>,
 * X-Chatdesk-Event: <type>, X-Chatdesk-Signature: sha256=<psa_sign()>.
 *
 * Ownership: the sender borrows the store, directory, ticket store and
 * config (they must outlive it). psa_sender_free() drops requests in
 * flight; their events stay pending and are sent again (at least once: the
 * Idempotency-Key lets the PSA see the repeat).
 */
#ifndef CHATDESK_PSA_SENDER_H
#define CHATDESK_PSA_SENDER_H

#include <stddef.h>

struct store;
struct directory;
struct ticket_store;
struct config;
struct psa_sender;

#define PSA_SENDER_MAX 8 /* requests in flight at once */

/* A sender to cfg->psa_url (which must be set). NULL with err. */
struct psa_sender *psa_sender_new(struct store *st, struct directory *dir,
                                  struct ticket_store *ts,
                                  const struct config *cfg, char *err,
                                  size_t errlen);
void psa_sender_free(struct psa_sender *s); /* NULL is fine */

/* Start what is due. */
void psa_sender_tick(struct psa_sender *s);

/* Move the requests on; settle the finished ones. Never waits. */
void psa_sender_pass(struct psa_sender *s);

#endif
