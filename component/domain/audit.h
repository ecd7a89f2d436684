/* audit.h - the audit trail of admin changes (SPEC §9): who changed which
 * object's key from what to what, and when. Table audit (migration 13).
 * Plain C.
 *
 * Objects are named "settings", "company:NAME", "contact:JID",
 * "tech:JID", "canned:NAME"; key is the field ("*" for the object as a
 * whole: created or removed); old and new are the values as text ("" for
 * none). who is the admin's bare JID, or "chatdeskctl" for the CLI.
 *
 * audit_record() is one INSERT and opens no transaction: inside a caller's
 * transaction it commits with the change it records. It records nothing
 * (AUDIT_OK) when old equals new. audit_change_begin() / _end() are that
 * transaction, for every caller that changes something and records it
 * (the admin commands through commands/change.h, chatdeskctl).
 *
 * Ownership: struct audit borrows the store and owns its statements; an
 * audit_list owns its strings (audit_list_free()).
 */
#ifndef CHATDESK_AUDIT_H
#define CHATDESK_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;
struct audit;

enum audit_code { AUDIT_OK = 0, AUDIT_ERR_STORE };

struct audit_entry {
    int64_t id;
    time_t at;
    char *who, *object, *key, *old_value, *new_value;
};

struct audit_list {
    struct audit_entry *items;
    size_t n;
};

struct audit *audit_open(struct store *st, char *err, size_t errlen);
void audit_close(struct audit *a); /* NULL is fine */
const char *audit_error(const struct audit *a);

/* Record one change at clock_now() (NULL values count as ""). */
int audit_record(struct audit *a, const char *who, const char *object,
                 const char *key, const char *old_value, const char *new_value);

/* A change and its audit entries are one transaction: no change without
 * its entry. What each step says: */
enum audit_change {
    AUDIT_CHANGE_DONE = 0, /* begun; or committed */
    AUDIT_CHANGE_BEGIN,    /* the transaction could not start */
    AUDIT_CHANGE_RECORD,   /* an entry could not be written: rolled back */
    AUDIT_CHANGE_COMMIT    /* the commit failed: rolled back */
};

/* Begin it on the store a was opened on: DONE, or BEGIN (audit_error():
 * the database's message). */
enum audit_change audit_change_begin(struct audit *a);

/* End it: commit when recorded (the change and every entry of it were
 * written), else roll back. DONE when committed; else nothing was changed:
 * RECORD (not recorded), COMMIT (audit_error(): the database's message). */
enum audit_change audit_change_end(struct audit *a, int recorded);

/* The change itself failed (the caller says why): roll back. */
void audit_change_cancel(struct audit *a);

/* What could not be done, for a person: "start a transaction", "record
 * the change in the audit trail", "commit the change" ("" for DONE). */
const char *audit_change_what(enum audit_change r);

/* Newest first: entries offset..offset+limit-1 into *out. */
int audit_list(struct audit *a, size_t offset, size_t limit,
               struct audit_list *out);
void audit_list_free(struct audit_list *l); /* NULL is fine */

#endif
