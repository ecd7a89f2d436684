/* nick.h - the names people give themselves (a directory's display name),
 * made safe to show in a notice and to use as a room nick (plain C on ICU;
 * no process state, safe from any thread).
 *
 * A name may hold anything an admin or an import typed: bidi overrides
 * (U+202E turns "Alice" into "ecilA" and can make a notice lie), zero-width
 * and other format characters, control characters, odd white space, or
 * nothing but spaces. A room nick is the resourcepart of an occupant JID,
 * and Prosody and ejabberd refuse a JID whose resource fails RFC 3920
 * resourceprep (prohibited characters, the bidi rule, characters unknown to
 * Unicode 3.2): such a nick would leave a join unanswered.
 */
#ifndef CHATDESK_NICK_H
#define CHATDESK_NICK_H

#include <stddef.h>

#define NICK_MAX 48 /* bytes of a nick made by nick_from_name() */

/* name for display, into out (len bytes, len >= 1): malformed UTF-8 goes;
 * control characters and every kind of white space become one space; format
 * characters (bidi controls U+200E/F, U+202A-202E, U+2066-2069, zero-width
 * characters, soft hyphen, tags), other default-ignorable code points,
 * private-use, unassigned and surrogate code points go; runs of spaces fold
 * into one; leading and trailing spaces go; cut on a character boundary to
 * fit. Returns the bytes written (0: nothing showable was left). */
size_t nick_clean_text(const char *name, char *out, size_t len);

/* name as a room nick, into out (len bytes, at least NICK_MAX + 1):
 * nick_clean_text(), then every character resourceprep would refuse goes,
 * a name mixing right-to-left and left-to-right letters keeps those of its
 * first strong direction (RFC 3454 §6: a right-to-left nick then starts and
 * ends with a right-to-left character), cut to NICK_MAX bytes, and the
 * result is what resourceprep makes of it (cleaned again when resourceprep
 * made spaces or marks cleaning removes, so a nick made from a nick is the
 * same nick). 0 with out filled, or -1 with out "" when nothing usable is
 * left (the caller picks a fallback). */
int nick_from_name(const char *name, char *out, size_t len);

#endif
