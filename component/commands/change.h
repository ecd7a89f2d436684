/* change.h - an admin command's change and its audit entries in one
 * transaction (SPEC §9): no change without its entry. The transaction is
 * domain/audit.h's (chatdeskctl's too); this is the command's side: a
 * failure answered as wait/<internal-server-error/> "Could not WHAT
 * (nothing was changed); try again later".
 *
 *     if (change_begin(req, reply))
 *         return;                     answered
 *     rc = directory_...(...);
 *     if (rc != DIR_OK) {
 *         change_cancel(req);         rolled back; answer why
 *         ...
 *     }
 *     if (change_end(req, reply, change_record(req, ...) + ...))
 *         return;                     answered, nothing changed
 */
#ifndef CHATDESK_COMMANDS_CHANGE_H
#define CHATDESK_COMMANDS_CHANGE_H

struct adhoc_request;
struct adhoc_reply;

/* Begin it: 0, or -1 after answering. */
int change_begin(const struct adhoc_request *req, struct adhoc_reply *reply);

/* The change itself failed: roll back (the caller answers why). */
void change_cancel(const struct adhoc_request *req);

/* Record one change of object by the requester (nothing when old equals
 * new), in the transaction: 0, or 1 when it could not be written (logged;
 * change_end() then rolls the change back). */
int change_record(const struct adhoc_request *req, const char *object,
                  const char *key, const char *old, const char *new);

/* End it: commit when the change and its entries were written (failed:
 * how many change_record() calls failed, 0), else roll back. 0 when
 * committed, or -1 after answering. */
int change_end(const struct adhoc_request *req, struct adhoc_reply *reply,
               int failed);

#endif
