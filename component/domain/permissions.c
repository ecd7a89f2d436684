/* permissions.c - see permissions.h */
#include "domain/permissions.h"

#include "domain/settings.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool perm_resolve(bool global, enum tristate company, enum tristate contact,
                  enum perm_level *level)
{
    enum perm_level lv = PERM_LEVEL_GLOBAL;
    bool on = global;
    if (contact != TRI_INHERIT) {
        lv = PERM_LEVEL_CONTACT;
        on = contact == TRI_ON;
    } else if (company != TRI_INHERIT) {
        lv = PERM_LEVEL_COMPANY;
        on = company == TRI_ON;
    }
    if (level)
        *level = lv;
    return on;
}

__attribute__((format(printf, 4, 5))) static void
permissions__set(struct perm_decision *out, enum perm_verdict verdict,
                 enum perm_level level, const char *fmt, ...)
{
    va_list ap;
    out->allowed = verdict == PERM_ALLOW;
    out->verdict = verdict;
    out->level = level;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

/* Chat permission; returns whether allowed and fills out either way. */
static bool permissions__chat(const struct perm_inputs *in,
                              struct perm_decision *out)
{
    static const char *const denied[] = {
        [PERM_LEVEL_GLOBAL] = "Chat is not enabled by your provider.",
        [PERM_LEVEL_COMPANY] =
            "Chat is disabled for your company by your provider.",
        [PERM_LEVEL_CONTACT] =
            "Chat is disabled for your account by your provider.",
    };
    static const char *const allowed[] = {
        [PERM_LEVEL_GLOBAL] = "Chat is enabled by your provider.",
        [PERM_LEVEL_COMPANY] = "Chat is enabled for your company.",
        [PERM_LEVEL_CONTACT] = "Chat is enabled for your account.",
    };
    enum perm_level lv;
    bool on =
        perm_resolve(in->global_chat, in->company_chat, in->contact_chat, &lv);
    permissions__set(out, on ? PERM_ALLOW : PERM_DENY_DISABLED, lv, "%s",
                     on ? allowed[lv] : denied[lv]);
    return on;
}

/* A global flag with a company override. what is e.g. "Callbacks are". */
static bool permissions__flag(bool global, enum tristate company,
                              const char *what, struct perm_decision *out)
{
    enum perm_level lv;
    bool on = perm_resolve(global, company, TRI_INHERIT, &lv);
    if (on)
        return true;
    if (lv == PERM_LEVEL_COMPANY)
        permissions__set(out, PERM_DENY_DISABLED, lv,
                         "%s disabled for your company by your provider.",
                         what);
    else
        permissions__set(out, PERM_DENY_DISABLED, lv,
                         "%s not enabled by your provider.", what);
    return false;
}

static void permissions__pre_ticket(const struct perm_inputs *in,
                                    struct perm_decision *out)
{
    if (!permissions__chat(in, out))
        return;
    if (!permissions__flag(in->global_pre_ticket, in->company_pre_ticket,
                           "Starting a chat without a ticket is", out))
        return;
    permissions__set(out, PERM_ALLOW, out->level, "You may start a new chat.");
}

static void permissions__callback(const struct perm_inputs *in,
                                  struct perm_decision *out)
{
    if (!permissions__flag(in->global_callback, in->company_callback,
                           "Callbacks are", out))
        return;
    enum perm_level lv = in->company_callback != TRI_INHERIT
                             ? PERM_LEVEL_COMPANY
                             : PERM_LEVEL_GLOBAL;
    if (!in->is_open)
        permissions__set(out, PERM_ALLOW, lv,
                         "It is outside office hours: you may ask for a "
                         "callback.");
    else if (in->waited >= in->answer_timeout)
        permissions__set(out, PERM_ALLOW, lv,
                         "Nobody answered within %ld seconds: you may ask "
                         "for a callback.",
                         in->answer_timeout);
    else
        permissions__set(out, PERM_DENY_NOT_YET, lv,
                         "You can ask for a callback outside office hours or "
                         "after waiting %ld seconds for an answer (you have "
                         "waited %ld).",
                         in->answer_timeout, in->waited);
}

static void permissions__end_chat(const struct perm_inputs *in,
                                  struct perm_decision *out)
{
    if (!in->is_open) {
        permissions__set(out, PERM_ALLOW, PERM_LEVEL_GLOBAL,
                         "It is outside office hours: you may end the "
                         "chat.");
    } else if (in->waiting && in->waited >= in->answer_timeout) {
        permissions__set(out, PERM_ALLOW, PERM_LEVEL_GLOBAL,
                         "Nobody answered within %ld seconds: you may end "
                         "the chat.",
                         in->answer_timeout);
    } else if (in->waiting) {
        permissions__set(out, PERM_DENY_NOT_YET, PERM_LEVEL_GLOBAL,
                         "A technician will answer soon; you can end the "
                         "request once nobody has answered for %ld seconds "
                         "(you have waited %ld).",
                         in->answer_timeout, in->waited);
    } else if (in->idle >= in->idle_timeout) {
        permissions__set(out, PERM_ALLOW, PERM_LEVEL_GLOBAL,
                         "Nobody wrote for %ld seconds: you may end the "
                         "chat.",
                         in->idle_timeout);
    } else {
        permissions__set(out, PERM_DENY_NOT_YET, PERM_LEVEL_GLOBAL,
                         "A technician is handling this chat and will end "
                         "it; you can end it yourself after %ld seconds "
                         "without messages (the last was %ld seconds ago).",
                         in->idle_timeout, in->idle);
    }
}

void perm_decide(enum perm_action action, const struct perm_inputs *in,
                 struct perm_decision *out)
{
    memset(out, 0, sizeof *out);
    if (!in->is_contact) {
        permissions__set(out, PERM_DENY_NOT_CONTACT, PERM_LEVEL_GLOBAL,
                         "You are not registered as a contact of this "
                         "helpdesk; ask your provider to add you.");
        return;
    }
    switch (action) {
    case PERM_CHAT:
        permissions__chat(in, out);
        break;
    case PERM_PRE_TICKET:
        permissions__pre_ticket(in, out);
        break;
    case PERM_CALLBACK:
        permissions__callback(in, out);
        break;
    case PERM_END_CHAT:
        permissions__end_chat(in, out);
        break;
    default:
        permissions__set(out, PERM_DENY_DISABLED, PERM_LEVEL_GLOBAL,
                         "Unknown action.");
        break;
    }
}

/* ---- store side ------------------------------------------------------- */

int perm_gather(struct directory *dir, const struct settings *s,
                const char *jid, time_t now, const struct perm_session *sess,
                struct perm_inputs *out, char *err, size_t errlen)
{
    struct contact c;
    struct company co;
    memset(out, 0, sizeof *out);
    out->global_chat = s->chat;
    out->global_pre_ticket = s->pre_ticket;
    out->global_callback = s->callback;
    out->answer_timeout = s->answer_timeout;
    out->idle_timeout = s->idle_timeout;
    out->is_open = office_hours_is_open(&s->hours, now);
    if (sess) {
        out->waiting = sess->waiting;
        out->waited = sess->waited;
        out->idle = sess->idle;
    }
    int rc = directory_contact_find(dir, jid, &c);
    if (rc == DIR_ERR_NOT_FOUND)
        return 0;
    if (rc == DIR_OK)
        rc = directory_company_get(dir, c.company_id, &co);
    if (rc != DIR_OK) {
        snprintf(err, errlen, "%s", directory_error(dir));
        return -1;
    }
    out->is_contact = true;
    out->contact_chat = c.chat;
    out->company_chat = co.chat;
    out->company_pre_ticket = co.pre_ticket;
    out->company_callback = co.callback;
    return 0;
}

int perm_check(struct directory *dir, const struct settings *s, const char *jid,
               enum perm_action action, time_t now,
               const struct perm_session *sess, struct perm_decision *out)
{
    struct perm_inputs in;
    char err[256];
    if (perm_gather(dir, s, jid, now, sess, &in, err, sizeof err) != 0) {
        memset(out, 0, sizeof *out);
        permissions__set(out, PERM_DENY_DISABLED, PERM_LEVEL_GLOBAL,
                         "The helpdesk could not check your permissions "
                         "(%s); try again later.",
                         err);
        return -1;
    }
    perm_decide(action, &in, out);
    return 0;
}
