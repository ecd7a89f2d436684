/* permissions.h - may this contact chat, start a pre-ticket chat, ask for a
 * callback or end its chat? (SPEC §1, §3)
 *
 * Rules:
 *   chat        tri-state at contact, company and global level; the most
 *               specific level that is defined (not inherit) wins; global is
 *               always defined (on/off).
 *   pre-ticket  chat must be allowed, and the pre-ticket flag (company
 *               override, else global) must be on.
 *   callback    the callback flag (company override, else global) must be
 *               on, and it must be outside office hours or the session must
 *               have waited at least answer_timeout seconds.
 *   end-chat    outside office hours; or the session is waiting and has
 *               waited at least answer_timeout; or it is active and has been
 *               silent for at least idle_timeout.
 * Every action needs the JID to be a contact.
 *
 * The decision (perm_decide) is pure: it takes resolved inputs and returns a
 * verdict plus a sentence for the XMPP error <text/>. perm_gather/perm_check
 * do the store lookups around it. The verdict maps to XMPP conditions:
 *   PERM_DENY_NOT_CONTACT -> <not-authorized/> (<registration-required/>
 *                            for room joins)
 *   PERM_DENY_DISABLED    -> <forbidden/>
 *   PERM_DENY_NOT_YET     -> <not-allowed/>
 */
#ifndef CHATDESK_PERMISSIONS_H
#define CHATDESK_PERMISSIONS_H

#include "domain/directory.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct settings;

enum perm_action { PERM_CHAT, PERM_PRE_TICKET, PERM_CALLBACK, PERM_END_CHAT };

enum perm_verdict {
    PERM_ALLOW = 0,
    PERM_DENY_NOT_CONTACT,
    PERM_DENY_DISABLED,
    PERM_DENY_NOT_YET
};

/* The level that decided a permission or flag. */
enum perm_level { PERM_LEVEL_GLOBAL, PERM_LEVEL_COMPANY, PERM_LEVEL_CONTACT };

struct perm_inputs {
    bool is_contact;
    bool global_chat;
    enum tristate company_chat;
    enum tristate contact_chat;
    bool global_pre_ticket;
    enum tristate company_pre_ticket;
    bool global_callback;
    enum tristate company_callback;
    bool is_open;        /* inside office hours now */
    bool waiting;        /* end-chat: the session waits (else it is active) */
    long waited;         /* seconds the session waited (or has waited) */
    long idle;           /* end-chat, active: seconds since the last message */
    bool nobody_online;  /* callback: no tech is Online now (SPEC §9) */
    long answer_timeout; /* seconds */
    long idle_timeout;   /* seconds */
};

struct perm_decision {
    bool allowed;
    enum perm_verdict verdict;
    enum perm_level level; /* level that decided chat / the flag */
    char reason[256];      /* a sentence for the user, also when allowed */
};

/* What the session code knows about the session (callback, end-chat). */
struct perm_session {
    bool waiting;
    long waited;
    long idle;
    bool nobody_online; /* no tech is Online now */
};

/* Resolve a tri-state chain: contact, else company, else global. level
 * (may be NULL) receives the deciding level. */
bool perm_resolve(bool global, enum tristate company, enum tristate contact,
                  enum perm_level *level);

/* The pure decision. Fills *out completely. */
void perm_decide(enum perm_action action, const struct perm_inputs *in,
                 struct perm_decision *out);

/* Fill *out for jid from the directory, the loaded settings s and the
 * instant now (office hours); sess may be NULL (zeros). A JID that is not a
 * contact gives is_contact = false. Returns 0, or -1 on a store error with
 * the message in err. */
int perm_gather(struct directory *dir, const struct settings *s,
                const char *jid, time_t now, const struct perm_session *sess,
                struct perm_inputs *out, char *err, size_t errlen);

/* perm_gather + perm_decide. Returns 0 with *out filled, or -1 on a store
 * error (then *out denies, with the store message as reason). */
int perm_check(struct directory *dir, const struct settings *s, const char *jid,
               enum perm_action action, time_t now,
               const struct perm_session *sess, struct perm_decision *out);

#endif
