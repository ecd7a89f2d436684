/* places.h - a waiting contact's place in line (SPEC §9) in a queue of any
 * length. A departure moves everybody behind it, so telling each of them at
 * once costs O(queue) stored notices per departure: O(N^2) for a queue that
 * drains. Instead a move only marks the queue; once a tick (a second) one
 * read of the queue (sessions_waiting_ids()) gives every place, and a
 * contact is told when its place differs from the one it was last told and
 * is 10 or less, or has moved by a tenth or more of it (number 237 hears
 * 213, then 191, ...). Each contact hears O(log N) notices while it waits.
 * What each was told last is stored with its session (place_told), so any
 * process that saw the queue move can tell it, relaying to rooms another
 * process serves (chat/relay.h). Depends on rooms.h and relay.h. */
#ifndef CHATDESK_CHAT_PLACES_H
#define CHATDESK_CHAT_PLACES_H

#include <stdbool.h>
#include <stdint.h>

struct app;

/* Whether a contact last told `last` is told `now`. Never told (0): not
 * now; the contact hears its place when it joins (chat_notify_position()). */
bool chat_places_worth(int last, int now);

/* Session id's contact was told (or relayed) place; written only when it
 * is not what the session row holds already (start-chat's position). */
void chat_places_told(struct app *app, int64_t id, int place);

/* The queue changed (a session left it, or came back): the next
 * chat_places_tick() reads it. */
void chat_places_moved(struct app *app);

/* Once a second: when the queue moved, tell whoever chat_places_worth(). */
void chat_places_tick(struct app *app);

#endif
