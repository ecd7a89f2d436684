/* directory.h - companies, contacts and techs (SPEC §1), kept in the store.
 *
 * A company has a unique name (compared case-insensitively) and three
 * tri-state overrides (chat, pre-ticket chat, callbacks). A contact belongs
 * to one company and has a unique bare JID, a display name, a phone and a
 * chat override. A tech has a unique bare JID, a display name and an admin
 * flag. A JID is either a contact or a tech, never both.
 *
 * JIDs are stored bare and lowercased (ASCII case folding of node and
 * domain; full stringprep is not applied). Lookups normalise the same way,
 * so "Alice@Example.COM" finds "alice@example.com".
 *
 * Ownership: struct directory is owned by the caller of directory_open and
 * borrows the store, which must outlive it. Records are plain structs with
 * fixed buffers, copied out; nothing returned needs freeing. Functions do not
 * open transactions: a caller that wants several writes to be atomic wraps
 * them in store_begin()/store_commit().
 */
#ifndef CHATDESK_DIRECTORY_H
#define CHATDESK_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct directory;

#define DIR_JID_MAX 2048 /* bare JID incl. NUL: node 1023 + @ + domain */
#define DIR_NAME_MAX 256 /* display / company name incl. NUL */
#define DIR_PHONE_MAX 64 /* phone incl. NUL */

/* An override at company or contact level. */
enum tristate { TRI_INHERIT = 0, TRI_ON = 1, TRI_OFF = 2 };

/* Result codes. On anything but DIR_OK, directory_error() says why in a
 * sentence a person can act on. */
enum dir_result {
    DIR_OK = 0,
    DIR_ERR_NOT_FOUND = 1, /* no such record (or referenced company) */
    DIR_ERR_EXISTS = 2,    /* unique name/JID taken, or JID in other role */
    DIR_ERR_INVALID = 3,   /* bad input: empty, too long, malformed JID */
    DIR_ERR_STORE = 4      /* sqlite failed */
};

enum dir_role { ROLE_NONE = 0, ROLE_CONTACT, ROLE_TECH, ROLE_ADMIN };

struct company {
    int64_t id;
    char name[DIR_NAME_MAX];
    enum tristate chat;
    enum tristate pre_ticket;
    enum tristate callback;
};

struct contact {
    int64_t id;
    int64_t company_id;
    char jid[DIR_JID_MAX];
    char name[DIR_NAME_MAX];
    char phone[DIR_PHONE_MAX];
    enum tristate chat;
};

struct tech {
    int64_t id;
    char jid[DIR_JID_MAX];
    char name[DIR_NAME_MAX];
    bool admin;
};

/* "inherit", "on" or "off". */
const char *tristate_name(enum tristate t);

/* Parse "inherit"/"on"/"off" (also "" = inherit, yes/no, true/false, 1/0),
 * case-insensitive. Returns 0 or -1. */
int tristate_parse(const char *s, enum tristate *out);

/* Normalise a JID to its bare, lowercased form in out (outlen bytes); a
 * "/resource" is dropped. Requires a non-empty node and domain, no spaces.
 * Returns 0, or -1 when malformed or too long. */
int directory_jid_bare(const char *jid, char *out, size_t outlen);

/* Prepare the statements on st (schema version >= 2). Returns NULL on
 * failure with a message in err. */
struct directory *directory_open(struct store *st, char *err, size_t errlen);

/* Finalize the statements and free dir. NULL is fine. */
void directory_close(struct directory *dir);

/* The message for the last failed call, borrowed until the next call. */
const char *directory_error(const struct directory *dir);

/* Companies. create ignores c->id and writes the new id to *id_out (may be
 * NULL). update writes every field of the record with id c->id. */
int directory_company_create(struct directory *dir, const struct company *c,
                             int64_t *id_out);
int directory_company_update(struct directory *dir, const struct company *c);
int directory_company_get(struct directory *dir, int64_t id,
                          struct company *out);
int directory_company_find(struct directory *dir, const char *name,
                           struct company *out);

/* Contacts. The company must exist; the JID is normalised and must be bare
 * (no resource) and not a tech's. */
int directory_contact_create(struct directory *dir, const struct contact *c,
                             int64_t *id_out);
int directory_contact_update(struct directory *dir, const struct contact *c);
int directory_contact_get(struct directory *dir, int64_t id,
                          struct contact *out);
int directory_contact_find(struct directory *dir, const char *jid,
                           struct contact *out);

/* Techs. The JID is normalised and must be bare and not a contact's. */
int directory_tech_create(struct directory *dir, const struct tech *t,
                          int64_t *id_out);
int directory_tech_update(struct directory *dir, const struct tech *t);
int directory_tech_get(struct directory *dir, int64_t id, struct tech *out);
int directory_tech_find(struct directory *dir, const char *jid,
                        struct tech *out);
int directory_tech_remove(struct directory *dir, const char *jid);
/* The one-time presence hint of a tech (chat/presence.c): marks it sent.
 * 1 when this call marked it (send the hint now), 0 when it was sent
 * before or jid is no tech, -1 on a store error (directory_error()). */
int directory_tech_hint_once(struct directory *dir, const char *jid);

/* Listing: cb is called once per record, in name (companies) or JID order,
 * with a borrowed record valid during the call. A non-zero return from cb
 * stops the walk. cb may call the get/find functions but not another list
 * of the same kind. Return DIR_OK or DIR_ERR_STORE. */
typedef int (*directory_company_cb)(const struct company *c, void *ud);
typedef int (*directory_contact_cb)(const struct contact *c, void *ud);
typedef int (*directory_tech_cb)(const struct tech *t, void *ud);

int directory_company_list(struct directory *dir, directory_company_cb cb,
                           void *ud);
/* company_id 0 lists every contact. */
int directory_contact_list(struct directory *dir, int64_t company_id,
                           directory_contact_cb cb, void *ud);
int directory_tech_list(struct directory *dir, directory_tech_cb cb, void *ud);

/* Who is bare_jid? ROLE_ADMIN when it is one of the n_admins JIDs in admins
 * (from the config; may be NULL when n_admins is 0) or a tech with the admin
 * flag; ROLE_TECH for other techs; ROLE_CONTACT for contacts; ROLE_NONE
 * otherwise, also for a malformed JID or a store error. A resource on
 * bare_jid is ignored. */
enum dir_role directory_role(struct directory *dir, const char *bare_jid,
                             const char *const *admins, size_t n_admins);

/* "none", "contact", "tech", "admin". */
const char *directory_role_name(enum dir_role role);

#endif
