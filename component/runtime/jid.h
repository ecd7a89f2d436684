/* jid.h - the one JID normalisation of chatdesk (plain C, no libstrophe):
 * a JID's bare part (local@domain) compares ASCII-case-insensitively, so it
 * is stored and compared lowercased; a resource keeps its case.
 */
#ifndef CHATDESK_JID_H
#define CHATDESK_JID_H

#include <stddef.h>

/* The first n bytes of jid into out (len bytes), ASCII-lowercasing the bare
 * part (before the first '/') and keeping the resource as it is. out may be
 * jid itself. 0, or -1 when n bytes and the terminator do not fit (out is
 * then untouched). */
int jid_lower(const char *jid, size_t n, char *out, size_t len);

/* The bare part of jid (up to its first '/'), ASCII-lowercased, into out
 * (len bytes); out may be jid itself. 0, or -1 when it does not fit (out is
 * then untouched). It checks nothing else: callers that need a local part or
 * valid characters check those themselves. */
int jid_bare_lower(const char *jid, char *out, size_t len);

#endif
