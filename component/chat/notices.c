/* notices.c - see notices.h */
#include "chat/notices.h"

#include "chat/places.h"
#include "chat/relay.h"
#include "chat/rooms.h"
#include "domain/domain.h"
#include "domain/presence.h"
#include "runtime/app.h"
#include "runtime/nick.h"
#include "runtime/clock.h"
#include "runtime/stanza.h"
#include "xep0045_muc.h"
#include "xep0249_invite.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "Alice Example (Acme Corp)" for a session's contact. */
static void chat__who(struct app *app, const struct sess_info *s, char *buf,
                      size_t len)
{
    char name[256], company[DIR_NAME_MAX];
    struct company co;
    chat_display_name(app, s->contact_jid, name, sizeof name);
    if (s->company_id &&
        directory_company_get(app->domain->dir, s->company_id, &co) == DIR_OK &&
        nick_clean_text(co.name, company, sizeof company))
        snprintf(buf, len, "%s (%s)", name, company);
    else
        snprintf(buf, len, "%s", name);
}

static void chat__invite_tech(struct app *app, const struct sess_info *s,
                              const char *tech)
{
    char who[600], room[CHAT_JID_MAX], reason[1200], body[2000];
    chat__who(app, s, who, sizeof who);
    chat_room_jid(app, s->id, room, sizeof room);
    snprintf(reason, sizeof reason, "Chat request from %s: %s", who,
             s->description ? s->description : "");
    snprintf(body, sizeof body, "%s\nJoin %s to take it.", reason, room);
    xep0249_send_invite(app, tech, room, reason, body);
}

struct chat__invite_all {
    struct app *app;
    const struct sess_info *s;
};

static int chat__invite_one(const char *tech, void *ud)
{
    struct chat__invite_all *a = ud;
    chat__invite_tech(a->app, a->s, tech);
    return 0;
}

void chat_notify_request(struct app *app, int64_t session_id)
{
    struct sess_info s;
    if (sessions_get(app->domain->sessions, session_id, &s) != SESS_OK)
        return;
    struct chat__invite_all a = {app, &s};
    presence_each_online_tech(app->domain->presence, chat__invite_one, &a);
    char who[600], room[CHAT_JID_MAX], line[2000];
    chat__who(app, &s, who, sizeof who);
    snprintf(line, sizeof line, "New chat request in %s from %s: %s",
             chat_room_jid(app, s.id, room, sizeof room), who,
             s.description ? s.description : "");
    chat_queue_post(app, line);
    sess_info_clear(&s);
}

void chat_notify_tech_online(struct app *app, const char *tech)
{
    struct sess_list l;
    if (sessions_list(app->domain->sessions, SESS_VIEW_WAITING, NULL, 0, &l) !=
        SESS_OK)
        return;
    for (size_t i = 0; i < l.n; i++)
        chat__invite_tech(app, &l.items[i], tech);
    sess_list_free(&l);
}

struct chat__taken {
    struct app *app;
    const char *taker;
    const char *text;
};

static int chat__tell_taken(const char *tech, void *ud)
{
    struct chat__taken *t = ud;
    if (strcmp(tech, t->taker) != 0) {
        xmpp_stanza_t *msg = xmpp_message_new(t->app->ctx, "chat", tech, NULL);
        stanza_add_text_child(msg, "body", NULL, t->text);
        app_send(t->app, msg);
        xmpp_stanza_release(msg);
    }
    return 0;
}

void chat_notify_taken(struct app *app, int64_t session_id, const char *tech)
{
    struct sess_info s;
    if (sessions_get(app->domain->sessions, session_id, &s) != SESS_OK)
        return;
    char name[256], who[600], room[CHAT_JID_MAX], line[1600];
    chat_display_name(app, tech, name, sizeof name);
    chat__who(app, &s, who, sizeof who);
    snprintf(line, sizeof line, "%s took the chat with %s (%s).", name, who,
             chat_room_jid(app, s.id, room, sizeof room));
    chat_queue_post(app, line);
    char room_local[64], notice[400];
    sessions_room_localpart(s.id, room_local, sizeof room_local);
    snprintf(notice, sizeof notice, "%s has joined and will help you.", name);
    muc_send_notice(app->chat->muc, room_local, notice, NULL);
    struct chat__taken t = {app, tech, line};
    presence_each_online_tech(app->domain->presence, chat__tell_taken, &t);
    sess_info_clear(&s);
}

/* Abandon the waiting sessions ids[0..n) in one transaction, then tell. */
static void chat__abandon_many(struct app *app, const int64_t *ids, size_t n)
{
    struct sess_result *r = calloc(n, sizeof *r);
    if (!r)
        return;
    if (sessions_contact_gone_many(app->domain->sessions, ids, n, r) ==
        SESS_OK)
        for (size_t i = 0; i < n; i++)
            if (r[i].session_id && r[i].before != r[i].after)
                chat_after_transition(app, &r[i]);
    free(r);
}

void chat_abandon_later(struct app *app, int64_t session_id)
{
    struct chat *c = app->chat;
    if (c->n_abandon == c->cap_abandon) {
        size_t cap = c->cap_abandon ? 2 * c->cap_abandon : 256;
        int64_t *more = realloc(c->abandon, cap * sizeof *more);
        if (!more) { /* no room to wait: at once */
            chat__abandon_many(app, &session_id, 1);
            return;
        }
        c->abandon = more;
        c->cap_abandon = cap;
    }
    c->abandon[c->n_abandon++] = session_id;
}

/* 1 unless the contact of session id came back while it waited its turn
 * in the queue of chat_abandon_later(). */
static int chat__still_offline(struct app *app, int64_t id)
{
    struct sess_info s;
    if (sessions_get(app->domain->sessions, id, &s) != SESS_OK)
        return 0;
    int off = presence_of(app->domain->presence, s.contact_jid, false) ==
              CD_OFFLINE;
    sess_info_clear(&s);
    return off;
}

void chat_abandon_pass(struct app *app)
{
    struct chat *c = app->chat;
    if (!c || !c->n_abandon || c->stopping)
        return;
    size_t n = c->n_abandon < CHAT_ABANDON_BATCH ? c->n_abandon
                                                 : CHAT_ABANDON_BATCH;
    int64_t ids[CHAT_ABANDON_BATCH];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (chat__still_offline(app, c->abandon[i]))
            ids[k++] = c->abandon[i];
    c->n_abandon -= n;
    memmove(c->abandon, c->abandon + n, c->n_abandon * sizeof *c->abandon);
    if (k)
        chat__abandon_many(app, ids, k);
}

void chat_notify_contact_offline(struct app *app, const char *contact)
{
    struct sess_list l;
    if (app->chat->stopping ||
        sessions_list(app->domain->sessions, SESS_VIEW_CONTACT_LIVE, contact,
                      0, &l) != SESS_OK)
        return;
    for (size_t i = 0; i < l.n; i++)
        if (l.items[i].state == SESS_WAITING)
            chat_abandon_later(app, l.items[i].id);
    sess_list_free(&l);
}

void chat_notify_position(struct app *app, int64_t session_id)
{
    int pos = 0;
    if (sessions_queue_position(app->domain->sessions, session_id, &pos) !=
        SESS_OK)
        return; /* not waiting: no place to tell */
    if (!chat_tell_place(app, session_id, pos))
        chat_relay_room(app, session_id, CHAT_RELAY_POSITION);
    chat_places_told(app, session_id, pos);
}

static void chat__abandon(struct app *app, int64_t id)
{
    struct sess_result r;
    if (sessions_contact_gone(app->domain->sessions, id, &r) == SESS_OK)
        chat_after_transition(app, &r);
}

void chat_contact_gone_later(struct app *app, int64_t session_id)
{
    struct chat *c = app->chat;
    for (size_t i = 0; i < c->n_gone; i++)
        if (c->gone[i].session == session_id)
            return; /* already counting */
    if (c->rejoin_grace <= 0 || c->n_gone == CHAT_GONE_MAX) {
        chat__abandon(app, session_id);
        return;
    }
    c->gone[c->n_gone].session = session_id;
    c->gone[c->n_gone].due = clock_now() + c->rejoin_grace;
    c->n_gone++;
}

void chat_contact_offline_later(struct app *app, const char *contact)
{
    struct sess_list l;
    if (sessions_list(app->domain->sessions, SESS_VIEW_CONTACT_LIVE, contact, 0,
                      &l) != SESS_OK)
        return;
    for (size_t i = 0; i < l.n; i++)
        if (l.items[i].state == SESS_WAITING)
            chat_contact_gone_later(app, l.items[i].id);
    sess_list_free(&l);
}

/* 1 when the contact of waiting session id is in its room again. */
static int chat__came_back(struct app *app, int64_t id)
{
    struct sess_info s;
    char local[64];
    if (sessions_get(app->domain->sessions, id, &s) != SESS_OK)
        return 1; /* gone: nothing to abandon */
    int back = s.state != SESS_WAITING ||
               muc_role_of(app->chat->muc,
                           sessions_room_localpart(id, local, sizeof local),
                           s.contact_jid) != MUC_ROLE_NONE;
    sess_info_clear(&s);
    return back;
}

void chat_gone_tick(struct app *app)
{
    struct chat *c = app->chat;
    time_t now = clock_now();
    size_t kept = 0;
    for (size_t i = 0; i < c->n_gone; i++) {
        struct chat_gone g = c->gone[i];
        if (g.due > now) {
            c->gone[kept++] = g;
            continue;
        }
        if (!chat__came_back(app, g.session))
            chat__abandon(app, g.session);
    }
    c->n_gone = kept;
}

/* The queue line for a transition, or NULL when the queue need not know. */
static const char *chat__queue_line(struct app *app,
                                    const struct sess_result *r,
                                    const struct sess_info *s, char *buf,
                                    size_t len)
{
    char who[600], room[CHAT_JID_MAX];
    if (r->before == r->after)
        return NULL;
    chat__who(app, s, who, sizeof who);
    chat_room_jid(app, s->id, room, sizeof room);
    if (r->after == SESS_ABANDONED)
        snprintf(buf, len, "%s abandoned the chat request in %s.", who, room);
    else if (r->after == SESS_CALLBACK)
        snprintf(buf, len, "%s asks for a callback at %s%s%s (%s).", who,
                 s->callback_phone ? s->callback_phone : "",
                 s->callback_note && *s->callback_note ? ": " : "",
                 s->callback_note ? s->callback_note : "", room);
    else
        return NULL;
    return buf;
}

void chat_after_transition(struct app *app, const struct sess_result *r)
{
    struct sess_info s;
    chat_broadcast_stored(app, r->session_id, &r->notice);
    if (sessions_get(app->domain->sessions, r->session_id, &s) != SESS_OK)
        return;
    char line[2000];
    const char *q = chat__queue_line(app, r, &s, line, sizeof line);
    if (q)
        chat_queue_post(app, q);
    bool live_before = r->before == SESS_WAITING || r->before == SESS_ACTIVE;
    bool live_after = r->after == SESS_WAITING || r->after == SESS_ACTIVE;
    if (r->before != r->after && live_before && !live_after &&
        !chat_revoke_contact_voice(app, &s))
        chat_relay_room(app, s.id, CHAT_RELAY_VOICE);
    /* left the queue, or came back to it (a transfer) */
    if (r->before != r->after &&
        (r->before == SESS_WAITING || r->after == SESS_WAITING))
        chat_places_moved(app);
    sess_info_clear(&s);
}
