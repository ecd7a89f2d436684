/* policy.c - the room policy: what the MUC engine asks about chatdesk's
 * rooms, answered from the session store. See policy.h. */
#include "chat/policy.h"

#include "chat/errors.h"
#include "chat/notices.h"
#include "chat/presence.h"
#include "chat/relay.h"
#include "chat/rooms.h"
#include "domain/canned.h"
#include "domain/domain.h"
#include "domain/history.h"
#include "domain/tickets.h"
#include "domain/writer.h"
#include "runtime/app.h"
#include "runtime/log.h"
#include "runtime/nick.h"
#include "xep0045_muc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- nicks: the directory's name, made acceptable to the room -------- */

struct chat__nick_taken {
    const char *nick, *bare;
    int taken;
};

static void chat__nick_check(const struct muc_occupant_info *info, void *ud)
{
    struct chat__nick_taken *t = ud;
    if (!strcmp(info->nick, t->nick) && strcmp(info->bare_jid, t->bare))
        t->taken = 1;
}

/* The nick of bare in room: its display name, else its local part, as a
 * valid resourcepart (runtime/nick); with the local part added when another
 * occupant holds it or it is the notice occupant's (any case); "Guest" when
 * nothing else is usable. */
static void chat__nick(struct app *app, const char *room, const char *bare,
                       char *out, size_t len)
{
    char name[DIR_NAME_MAX + CHAT_JID_MAX];
    const char *at = strchr(bare, '@');
    int local = at ? (int)(at - bare) : (int)strlen(bare);
    chat_display_name(app, bare, name, sizeof name);
    if (nick_from_name(name, out, len) != 0) {
        snprintf(name, sizeof name, "%.*s", local, bare);
        if (nick_from_name(name, out, len) != 0)
            snprintf(out, len, "%s", "Guest");
    }
    struct chat__nick_taken t = {out, bare, !strcasecmp(out, CHAT_NOTICE_NICK)};
    muc_occupants(app->chat->muc, room, chat__nick_check, &t);
    if (t.taken) {
        snprintf(name, sizeof name, "%.*s (%.*s)", NICK_MAX / 2, out, local,
                 bare);
        if (nick_from_name(name, out, len) != 0)
            snprintf(out, len, "%s", "Guest");
    }
}

/* The session behind a room local part; 0 and *out filled, or -1. */
static int chat__session(struct app *app, const char *room,
                         struct sess_info *out)
{
    if (strncmp(room, "chat-", 5) != 0)
        return -1;
    return sessions_get_by_room(app->domain->sessions, room, out) == SESS_OK
               ? 0
               : -1;
}

static void chat__ticket_summary(struct app *app, int64_t ticket, char *buf,
                                 size_t len)
{
    struct ticket t;
    buf[0] = '\0';
    if (ticket_get(app->domain->tickets, ticket, &t) != 0)
        return;
    snprintf(buf, len, "%s", t.summary ? t.summary : "");
    ticket_clear(&t);
}

static int chat__room(struct app *app, const char *room,
                      struct muc_room_info *out, void *ud)
{
    (void)ud;
    if (!strcmp(room, CHAT_QUEUE_ROOM)) {
        snprintf(out->name, sizeof out->name, "chatdesk queue");
        snprintf(out->description, sizeof out->description,
                 "Chat requests, take-overs, callbacks and abandonments, as "
                 "they happen. Techs only.");
        snprintf(out->subject, sizeof out->subject, "chatdesk queue");
        return 1;
    }
    struct sess_info s;
    if (chat__session(app, room, &s) != 0)
        return 0;
    char who[256];
    chat_display_name(app, s.contact_jid, who, sizeof who);
    snprintf(out->name, sizeof out->name, "Chat %" PRId64 " with %.200s", s.id,
             who);
    snprintf(out->description, sizeof out->description, "%s",
             s.description ? s.description : "");
    chat__ticket_summary(app, s.ticket_id, out->subject, sizeof out->subject);
    out->subject_when = s.created;
    sess_info_clear(&s);
    return 1;
}

static int chat__admit_queue(struct app *app, const char *bare,
                             struct muc_admit *out, struct muc_err *err)
{
    enum dir_role role = domain_role(app->domain, bare);
    if (role != ROLE_TECH && role != ROLE_ADMIN) {
        muc_err_set(err, "auth", "registration-required",
                    "The queue room is for techs only.");
        return -1;
    }
    out->role = MUC_ROLE_MODERATOR;
    out->affiliation = role == ROLE_ADMIN ? MUC_AFFIL_ADMIN : MUC_AFFIL_MEMBER;
    chat__nick(app, CHAT_QUEUE_ROOM, bare, out->nick, sizeof out->nick);
    return 0;
}

static int chat__admit(struct app *app, const char *room, const char *bare,
                       struct muc_admit *out, struct muc_err *err, void *ud)
{
    (void)ud;
    if (!strcmp(room, CHAT_QUEUE_ROOM))
        return chat__admit_queue(app, bare, out, err);
    struct sess_info s;
    if (chat__session(app, room, &s) != 0) {
        muc_err_set(err, "cancel", "item-not-found",
                    "There is no such chat session.");
        return -1;
    }
    enum dir_role role = domain_role(app->domain, bare);
    int rc = 0;
    if (role == ROLE_TECH || role == ROLE_ADMIN) {
        out->role = MUC_ROLE_MODERATOR;
        out->affiliation = MUC_AFFIL_ADMIN;
    } else if (!strcmp(bare, s.contact_jid)) {
        int live = s.state == SESS_WAITING || s.state == SESS_ACTIVE;
        out->role = live ? MUC_ROLE_PARTICIPANT : MUC_ROLE_VISITOR;
        out->affiliation = MUC_AFFIL_MEMBER;
    } else {
        muc_err_set(err, "auth", "registration-required",
                    "This chat is members-only: its contact and the techs.");
        rc = -1;
    }
    if (rc == 0)
        chat__nick(app, room, bare, out->nick, sizeof out->nick);
    sess_info_clear(&s);
    return rc;
}

static void chat__store_error(struct app *app, int code, struct muc_err *err)
{
    const char *text = sessions_error(app->domain->sessions);
    const struct xmpp_cond *c = errors_sess(code, ERRORS_ROOM);
    if (errors_internal(c)) {
        log_error("chat", "cannot store a message: %s", text);
        text = "The message could not be stored; it was not sent. Try again.";
    }
    muc_err_set(err, c->type, c->cond, text);
}

/* A tech's message whose whole body is "!name" (SPEC §9): the canned
 * reply's text with {contact} and {tech} filled in (display names) into
 * *out (heap) and 0. Any other message: 0 with *out NULL. An unknown name:
 * -1 with *err, which the engine answers to the tech alone. */
static int chat__canned(struct app *app, const struct muc_msg *msg,
                        const struct sess_info *s, char **out,
                        struct muc_err *err)
{
    char name[CANNED_NAME_MAX + 2], contact[256], tech[256];
    char *text = NULL;
    *out = NULL;
    if (!canned_call(msg->body, name, sizeof name))
        return 0; /* most messages: no directory look-up on the hot path */
    enum dir_role role = domain_role(app->domain, msg->from_bare);
    if (role != ROLE_TECH && role != ROLE_ADMIN)
        return 0;
    int rc = canned_get(app->domain->canned, name, &text);
    if (rc != CANNED_OK) {
        const struct xmpp_cond *c = errors_canned(rc);
        muc_err_set(err, c->type, c->cond, canned_error(app->domain->canned));
        return -1;
    }
    chat_display_name(app, s->contact_jid, contact, sizeof contact);
    chat_display_name(app, msg->from_bare, tech, sizeof tech);
    *out = canned_expand(text, contact, tech);
    free(text);
    if (*out)
        return 0;
    muc_err_set(err, "wait", "resource-constraint",
                "Out of memory; send the message again.");
    return -1;
}

/* A person's message with a commit writer: checked and stamped here, on
 * the loop; stored by the writer's thread once chat__submit() hands its
 * batch over. body: what to store (the canned reply, owned, or the
 * message's). A resend of a message still in flight (its origin-id is
 * pending in the writer) asks the engine to settle first and ask again:
 * then it is either committed (a duplicate) or lost (stored anew). */
static int chat__store_pending(struct app *app, int64_t session,
                               const struct muc_msg *msg, char *canned,
                               struct muc_stored *out, struct muc_err *err)
{
    struct sess_pending p;
    int rc = sessions_prepare_message(app->domain->sessions, session,
                                      msg->from_bare, msg->nick,
                                      canned ? canned : msg->body,
                                      msg->origin_id, &p);
    if (rc == SESS_ERR_NOT_FOUND) /* as chat__store() says it */
        muc_err_set(err, "cancel", "item-not-found",
                    "There is no such chat session.");
    else if (rc != SESS_OK)
        chat__store_error(app, rc, err);
    if (rc != SESS_OK) {
        free(canned);
        return -1;
    }
    if (!p.duplicate && writer_pending_origin(app->writer, &p)) {
        sess_pending_clear(&p);
        free(canned);
        out->settle_first = 1;
        return 0;
    }
    snprintf(out->id, sizeof out->id, "%s", p.stanza_id);
    out->when = p.at;
    out->duplicate = p.duplicate;
    if (!p.duplicate && writer_add(app->writer, &p) != 0) {
        sess_pending_clear(&p);
        free(canned);
        muc_err_set(err, "wait", "internal-server-error",
                    "The message could not be stored; it was not sent. Try "
                    "again.");
        return -1;
    }
    out->held = !p.duplicate;
    out->body = canned;
    return 0;
}

/* What needs no store: the queue room's lines (live only: ids unique per
 * run) and a notice the store committed already. 1 when out is filled. */
static int chat__store_nothing(struct app *app, const struct muc_msg *msg,
                               struct muc_stored *out)
{
    struct chat *chat = app->chat;
    if (!strcmp(msg->room, CHAT_QUEUE_ROOM)) {
        snprintf(out->id, sizeof out->id, "queue-%lx-%lu",
                 (unsigned long)time(NULL), ++chat->queue_seq);
        out->when = time(NULL);
        return 1;
    }
    if (!msg->from_bare && chat->prestored) {
        snprintf(out->id, sizeof out->id, "%s", chat->prestored->stanza_id);
        out->when = chat->prestored->at;
        return 1;
    }
    return 0;
}

static int chat__store(struct app *app, const struct muc_msg *msg,
                       struct muc_stored *out, struct muc_err *err, void *ud)
{
    (void)ud;
    if (chat__store_nothing(app, msg, out))
        return 0;
    /* Group commit: a person's message joins the held transaction (if it
     * cannot be opened, the message commits on its own below). Notices
     * never do: they are sent from commands and events, between batches. */
    if (msg->from_bare && !app->writer)
        sessions_hold(app->domain->sessions);
    int64_t id;
    if (msg->from_bare && app->writer && msg->body && msg->body[0] != '!' &&
        !strncmp(msg->room, "chat-", 5) &&
        sessions_room_id(msg->room, &id) == 0)
        /* the per-message path (not a canned reply's "!name"):
         * sessions_prepare_message() reads the session, no read here */
        return chat__store_pending(app, id, msg, NULL, out, err);
    struct sess_info s;
    if (chat__session(app, msg->room, &s) != 0) {
        muc_err_set(err, "cancel", "item-not-found",
                    "There is no such chat session.");
        return -1;
    }
    struct sess_stored st;
    char *canned = NULL;
    if (msg->from_bare && chat__canned(app, msg, &s, &canned, err) != 0) {
        sess_info_clear(&s);
        return -1;
    }
    if (msg->from_bare && app->writer) {
        id = s.id;
        sess_info_clear(&s);
        return chat__store_pending(app, id, msg, canned, out, err);
    }
    int rc = sessions_add_message_once(
        app->domain->sessions, s.id, msg->from_bare, msg->nick,
        canned ? canned : msg->body,
        msg->from_bare ? SESS_MSG_CHAT : SESS_MSG_SYSTEM, msg->origin_id, &st);
    sess_info_clear(&s);
    if (rc != SESS_OK) {
        free(canned);
        chat__store_error(app, rc, err);
        return -1;
    }
    out->body = canned;
    snprintf(out->id, sizeof out->id, "%s", st.stanza_id);
    out->when = st.at;
    out->held = st.held;
    out->duplicate = st.duplicate;
    return 0;
}

static int chat__commit(struct app *app, struct muc_err *err, void *ud)
{
    (void)ud;
    if (!sessions_held(app->domain->sessions))
        return 0;
    /* index the batch for search in the same transaction: no extra fsync;
     * a failure only leaves them to the next search or tick */
    if (app->history &&
        history_index_pending(app->history, 2000, NULL) != HIST_OK)
        log_warn("chat", "search index: %s", history_error(app->history));
    int rc = sessions_commit_held(app->domain->sessions);
    if (rc == SESS_OK)
        return 0;
    log_error("chat", "group commit failed: %s",
              sessions_error(app->domain->sessions));
    muc_err_set(err, "wait", "internal-server-error",
                "The message could not be stored; it was not sent. Try "
                "again.");
    return -1;
}

static uint64_t chat__submit(struct app *app, void *ud)
{
    (void)ud;
    return writer_submit(app->writer);
}

static int chat__settle(struct app *app, int wait, uint64_t *batch,
                        struct muc_err *err, void *ud)
{
    (void)ud;
    char text[256];
    int rc = writer_settle(app->writer, wait, batch, text, sizeof text);
    if (rc < 0) {
        log_error("chat", "group commit failed: %s", text);
        muc_err_set(err, "wait", "internal-server-error",
                    "The message could not be stored; it was not sent. Try "
                    "again.");
    }
    return rc;
}

static int chat__history(struct app *app, const char *room, time_t since,
                         muc_history_fn fn, void *fn_ud, void *ud)
{
    (void)ud;
    struct sess_info s;
    if (chat__session(app, room, &s) != 0)
        return 0;
    struct sess_message_list l;
    int rc = sessions_history(app->domain->sessions, s.id, MUC_HISTORY_MAX,
                              &l);
    sess_info_clear(&s);
    if (rc != SESS_OK)
        return -1;
    for (size_t i = 0; i < l.n; i++) {
        const struct sess_message *m = &l.items[i];
        if (m->created < since)
            continue;
        int system = m->kind == SESS_MSG_SYSTEM;
        struct muc_history_item item = {
            .nick = system ? NULL : m->nick,
            .from_bare = system ? NULL : m->from_jid,
            .body = m->body,
            .when = m->created,
            .stanza_id = m->stanza_id,
        };
        fn(&item, fn_ud);
    }
    sess_message_list_free(&l);
    return 0;
}

/* An occupant entered or left a session room. */
static void chat__session_event(struct app *app, const struct muc_event *ev)
{
    struct sess_info s;
    if (chat__session(app, ev->room, &s) != 0)
        return;
    struct sess_result r;
    enum dir_role role = domain_role(app->domain, ev->bare_jid);
    int is_tech = role == ROLE_TECH || role == ROLE_ADMIN;
    if (ev->kind == MUC_EVENT_JOINED && ev->first && is_tech) {
        int rc = sessions_tech_join(app->domain->sessions, s.id,
                                    ev->bare_jid, &r);
        if (rc == SESS_OK) {
            chat_after_transition(app, &r);
            if (r.took)
                chat_notify_taken(app, s.id, ev->bare_jid);
        } else if (rc == SESS_ERR_STORE) {
            /* not recorded as a member: it could not write; let it retry */
            muc_set_role(app->chat->muc, ev->room, ev->bare_jid,
                         MUC_ROLE_NONE,
                         "chatdesk could not record your join (storage "
                         "error); join again in a moment.");
        }
    } else if (ev->kind == MUC_EVENT_JOINED && ev->first &&
               !strcmp(ev->bare_jid, s.contact_jid)) {
        chat_notify_position(app, s.id);
    } else if (ev->kind == MUC_EVENT_LEFT && ev->last && !is_tech &&
               ev->reason == MUC_LEAVE_SELF &&
               !strcmp(ev->bare_jid, s.contact_jid)) {
        chat_contact_gone_later(app, s.id);
    }
    sess_info_clear(&s);
}

static void chat__event(struct app *app, const struct muc_event *ev, void *ud)
{
    (void)ud;
    if (!strcmp(ev->room, CHAT_QUEUE_ROOM)) {
        if (ev->kind == MUC_EVENT_LEFT)
            chat_presence_from_queue(app, ev->full_jid, false, NULL);
        else
            chat_presence_from_queue(app, ev->full_jid, true, ev->show);
        return;
    }
    chat__session_event(app, ev);
}

static int chat__invite(struct app *app, const char *room,
                        const char *from_bare, const char *to_jid,
                        struct muc_err *err, void *ud)
{
    (void)room, (void)to_jid, (void)ud;
    enum dir_role role = domain_role(app->domain, from_bare);
    if (role != ROLE_TECH && role != ROLE_ADMIN) {
        muc_err_set(err, "auth", "forbidden",
                    "Only techs may invite others to a chat.");
        return -1;
    }
    return 0;
}

const struct muc_policy *chat_policy(void)
{
    static const struct muc_policy policy = {
        .notice_nick = CHAT_NOTICE_NICK,
        .room = chat__room,
        .admit = chat__admit,
        .store = chat__store,
        .commit = chat__commit,
        .submit = chat__submit, /* chat_register() drops these two */
        .settle = chat__settle, /* without a commit writer */
        .history = chat__history,
        .event = chat__event,
        .invite = chat__invite,
        .mam = 1,
        .notice_unheard = chat_relay_notice,
    };
    return &policy;
}
