/* xep0203_delay.c - see xep0203_delay.h */
#include "xep0203_delay.h"

#include "runtime/stanza.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int delay_format(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (!buf || len == 0)
        return -1;
    buf[0] = '\0';
    if (len < DELAY_STAMP_LEN || !gmtime_r(&t, &tm) || tm.tm_year < -1899 ||
        tm.tm_year > 8099)
        return -1;
    if (strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        buf[0] = '\0';
        return -1;
    }
    return 0;
}

/* Read exactly n digits at *s into *v and move *s past them. */
static int delay__digits(const char **s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*s)[i]))
            return -1;
        *v = *v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    return 0;
}

/* Expect the character c at *s and move past it. */
static int delay__expect(const char **s, char c)
{
    if (**s != c)
        return -1;
    (*s)++;
    return 0;
}

/* The zone designator at s: 'Z' or +hh:mm / -hh:mm, nothing after it.
 * Writes the offset east of UTC in seconds. */
static int delay__zone(const char *s, long *offset)
{
    int sign, hh, mm;

    *offset = 0;
    if (s[0] == 'Z')
        return s[1] == '\0' ? 0 : -1;
    if (s[0] != '+' && s[0] != '-')
        return -1;
    sign = s[0] == '-' ? -1 : 1;
    s++;
    if (delay__digits(&s, 2, &hh) || delay__expect(&s, ':') ||
        delay__digits(&s, 2, &mm) || *s || hh > 23 || mm > 59)
        return -1;
    *offset = sign * (hh * 3600L + mm * 60L);
    return 0;
}

int delay_parse(const char *s, time_t *out)
{
    struct tm tm;
    int y, mo, d, h, mi, sec;
    long offset;

    if (!s || !out)
        return -1;
    if (delay__digits(&s, 4, &y) || delay__expect(&s, '-') ||
        delay__digits(&s, 2, &mo) || delay__expect(&s, '-') ||
        delay__digits(&s, 2, &d) || delay__expect(&s, 'T') ||
        delay__digits(&s, 2, &h) || delay__expect(&s, ':') ||
        delay__digits(&s, 2, &mi) || delay__expect(&s, ':') ||
        delay__digits(&s, 2, &sec))
        return -1;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return -1;
        while (isdigit((unsigned char)*s))
            s++;
    }
    if (delay__zone(s, &offset) || mo < 1 || mo > 12 || d < 1 || d > 31 ||
        h > 23 || mi > 59 || sec > 60)
        return -1;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = timegm(&tm) - offset;
    return 0;
}

xmpp_stanza_t *delay_add(xmpp_stanza_t *parent, const char *from, time_t when)
{
    char stamp[DELAY_STAMP_LEN];
    xmpp_stanza_t *d;

    if (delay_format(when, stamp, sizeof stamp))
        return NULL;
    d = stanza_add_child_ns(parent, "delay", NS_DELAY);
    if (from)
        xmpp_stanza_set_attribute(d, "from", from);
    xmpp_stanza_set_attribute(d, "stamp", stamp);
    return d;
}
