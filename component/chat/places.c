/* places.c - see places.h. */
#include "chat/places.h"

#include "chat/relay.h"
#include "chat/rooms.h"
#include "domain/domain.h"
#include "domain/sessions.h"
#include "runtime/app.h"
#include "runtime/log.h"

#include <stdlib.h>

bool chat_places_worth(int last, int now)
{
    if (last <= 0 || now == last)
        return false;
    int moved = now > last ? now - last : last - now;
    return now <= 10 || moved * 10 >= last;
}

void chat_places_told(struct app *app, int64_t id, int place)
{
    struct sess_place p = {id, place};
    int told;
    if (sessions_place_told(app->domain->sessions, id, &told) == SESS_OK &&
        told == place)
        return; /* start-chat's result said so: no write */
    if (sessions_places_told(app->domain->sessions, &p, 1) != SESS_OK)
        log_warn("chat", "cannot record the place told: %s",
                 sessions_error(app->domain->sessions));
}

void chat_places_moved(struct app *app)
{
    app->chat->queue_moved = 1;
}

/* Tell (or relay) whoever is worth it; q[i] becomes what was told, or
 * id 0. Returns how many. */
static size_t chat_places__tell(struct app *app, struct sess_place *q,
                                size_t n)
{
    size_t told = 0;
    for (size_t i = 0; i < n; i++) {
        int now = (int)(i + 1);
        if (!chat_places_worth(q[i].told, now))
            continue;
        if (!chat_tell_place(app, q[i].id, now))
            chat_relay_room(app, q[i].id, CHAT_RELAY_POSITION);
        q[told].id = q[i].id;
        q[told++].told = now;
    }
    return told;
}

void chat_places_tick(struct app *app)
{
    struct sessions *s = app->domain->sessions;
    struct sess_place *q;
    size_t n;
    if (!app->chat || !app->chat->queue_moved)
        return;
    app->chat->queue_moved = 0;
    if (sessions_waiting_places(s, &q, &n) != SESS_OK) {
        log_warn("chat", "cannot read the queue to tell places: %s",
                 sessions_error(s));
        app->chat->queue_moved = 1; /* the next tick tries again */
        return;
    }
    size_t told = chat_places__tell(app, q, n);
    if (sessions_places_told(s, q, told) != SESS_OK)
        log_warn("chat", "cannot record the places told: %s",
                 sessions_error(s));
    if (told)
        log_debug("chat", "the queue moved: %zu of %zu waiting told", told,
                  n);
    free(q);
}
