/* archive.h - the session rooms' XEP-0313 archive: the struct mam_archive
 * (xep0313_mam.h) that answers the MAM handlers from the history (SPEC §4).
 *
 * The archive of chat-<id>@<component> is the session's stored messages
 * (history.h): chat messages and system notices, with their stanza ids as
 * archive ids. Who may read it:
 *   - a JID that is neither a contact nor a tech (nor admin) of the
 *     helpdesk (domain_role()): auth/<not-authorized/>, before anything is
 *     said about the room;
 *   - the queue room (it advertises MAM like every room, and Converse.js
 *     queries it on join): its live posts are not kept, so a tech (or
 *     admin) gets an empty, complete archive and anyone else
 *     auth/<forbidden/>;
 *   - a room that is not a session room: cancel/<item-not-found/>;
 *   - anyone but a tech (or admin) or the session's contact:
 *     auth/<forbidden/> (the rooms are members-only).
 * JIDs (the requester, a query's 'with') are read by directory_jid_bare().
 *
 * Ownership: the callbacks read app->domain and app->history (the app's
 * shared history handle, modules.c) at request time.
 */
#ifndef CHATDESK_CHAT_ARCHIVE_H
#define CHATDESK_CHAT_ARCHIVE_H

struct app;

/* Register the XEP-0313 handlers (xep0313_register()) on the session
 * rooms' archive. Needs app->domain and app->store. Returns 0 or -1. */
int chat_archive_register(struct app *app);

#endif
