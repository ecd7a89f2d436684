/* xep0203_delay.h - XEP-0203 Delayed Delivery and the XEP-0082 DateTime
 * profile it uses.
 *
 * Stamps are always written in UTC with a 'Z' ("2024-05-01T09:30:00Z"). The
 * parser accepts what XEP-0082 allows in a DateTime: optional fractional
 * seconds and a 'Z' or "+hh:mm"/"-hh:mm" offset.
 */
#ifndef CHATDESK_XEP0203_DELAY_H
#define CHATDESK_XEP0203_DELAY_H

#include <stddef.h>
#include <strophe.h>
#include <time.h>

#define NS_DELAY "urn:xmpp:delay"

/* Bytes needed for a stamp written by delay_format(), with the NUL. */
#define DELAY_STAMP_LEN 21

/* Write t as "YYYY-MM-DDThh:mm:ssZ" into buf. Returns 0, or -1 when len is
 * too small or t is out of range (buf then holds ""). */
int delay_format(time_t t, char *buf, size_t len);

/* Read a XEP-0082 DateTime into *out (seconds since the epoch; fractions
 * are dropped). Returns 0, or -1 when s is not a valid DateTime. */
int delay_parse(const char *s, time_t *out);

/* Add <delay xmlns='urn:xmpp:delay' from='from' stamp='...'/> to parent
 * (from may be NULL). Returns the new child (borrowed), or NULL. */
xmpp_stanza_t *delay_add(xmpp_stanza_t *parent, const char *from, time_t when);

#endif
