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

/* A duration for a contact: "45 seconds", "1 minute", "1 hour"; whole
 * units, rounded down, plurals right. */
static const char *permissions__span(long secs, char *buf, size_t len)
{
    long n = secs < 0 ? 0 : secs;
    const char *unit = "second";
    if (n >= 3600 && n % 3600 == 0) {
        n /= 3600;
        unit = "hour";
    } else if (n >= 60) {
        n /= 60;
        unit = "minute";
    }
    snprintf(buf, len, "%ld %s%s", n, unit, n == 1 ? "" : "s");
    return buf;
}

static void permissions__callback(const struct perm_inputs *in,
                                  struct perm_decision *out)
{
    char limit[32], waited[32];
    if (!permissions__flag(in->global_callback, in->company_callback,
                           "Callbacks are", out))
        return;
    enum perm_level lv = in->company_callback != TRI_INHERIT
                             ? PERM_LEVEL_COMPANY
                             : PERM_LEVEL_GLOBAL;
    permissions__span(in->answer_timeout, limit, sizeof limit);
    permissions__span(in->waited, waited, sizeof waited);
    if (!in->is_open)
        permissions__set(out, PERM_ALLOW, lv,
                         "It is outside office hours: you may ask for a "
                         "callback.");
    else if (in->nobody_online)
        permissions__set(out, PERM_ALLOW, lv,
                         "No technician is available right now: you may "
                         "ask for a callback.");
    else if (in->waited >= in->answer_timeout)
        permissions__set(out, PERM_ALLOW, lv,
                         "Nobody answered within %s: you may ask for a "
                         "callback.",
                         limit);
    else
        permissions__set(out, PERM_DENY_NOT_YET, lv,
                         "You can ask us to call you back once you have "
                         "waited %s for a technician (you have waited %s so "
                         "far), or at any time outside office hours.",
                         limit, waited);
}

static void permissions__end_chat(const struct perm_inputs *in,
                                  struct perm_decision *out)
{
    char answer[32], idle_limit[32], waited[32], idle[32];
    permissions__span(in->answer_timeout, answer, sizeof answer);
    permissions__span(in->idle_timeout, idle_limit, sizeof idle_limit);
    permissions__span(in->waited, waited, sizeof waited);
    permissions__span(in->idle, idle, sizeof idle);
    if (!in->is_open) {
        permissions__set(out, PERM_ALLOW, PERM_LEVEL_GLOBAL,
                         "It is outside office hours: you may end the "
                         "chat.");
    } else if (in->waiting && in->waited >= in->answer_timeout) {
        permissions__set(out, PERM_ALLOW, PERM_LEVEL_GLOBAL,
                         "Nobody answered within %s: you may end the chat.",
                         answer);
    } else if (in->waiting) {
        permissions__set(out, PERM_DENY_NOT_YET, PERM_LEVEL_GLOBAL,
                         "A technician will answer soon. You can cancel "
                         "your request once you have waited %s (you have "
                         "waited %s so far).",
                         answer, waited);
    } else if (in->idle >= in->idle_timeout) {
        permissions__set(out, PERM_ALLOW, PERM_LEVEL_GLOBAL,
                         "Nobody wrote for %s: you may end the chat.",
                         idle_limit);
    } else {
        permissions__set(out, PERM_DENY_NOT_YET, PERM_LEVEL_GLOBAL,
                         "A technician is helping you and will end this "
                         "chat. You can end it yourself once nobody has "
                         "written for %s (the last message was %s ago).",
                         idle_limit, idle);
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
        out->nobody_online = sess->nobody_online;
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
