/* office_hours.c - see office_hours.h */
#include "domain/office_hours.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <unicode/ucal.h>

#define OH_DAY_MINUTES 1440

/* Monday-first order for parsing and formatting; values are tm_wday. */
static const int office_hours__order[7] = {1, 2, 3, 4, 5, 6, 0};
static const char *const office_hours__short[7] = {"sun", "mon", "tue", "wed",
                                                   "thu", "fri", "sat"};
static const char *const office_hours__long[7] = {
    "sunday",   "monday", "tuesday", "wednesday",
    "thursday", "friday", "saturday"};

__attribute__((format(printf, 3, 4))) static int
office_hours__fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

void office_hours_init(struct office_hours *oh)
{
    memset(oh, 0, sizeof *oh);
    snprintf(oh->timezone, sizeof oh->timezone, "UTC");
    for (int d = 0; d < 7; d++) {
        oh->ranges[d][0].start = 0;
        oh->ranges[d][0].end = OH_DAY_MINUTES;
        oh->n_ranges[d] = 1;
    }
}

/* ---- timezone --------------------------------------------------------- */

static bool office_hours__tz_chars_ok(const char *name)
{
    if (!*name || name[0] == '/' || strstr(name, ".."))
        return false;
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
            return false;
    }
    return true;
}

/* Does TZDIR/name hold a compiled zone (magic "TZif")? */
static bool office_hours__tz_file_ok(const char *name)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    char magic[4];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s",
             dir && *dir ? dir : "/usr/share/zoneinfo", name);
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(magic, 1, sizeof magic, f);
    fclose(f);
    return n == sizeof magic && !memcmp(magic, "TZif", 4);
}

/* name as UTF-16 in out[OH_TZ_MAX]; its length, or -1 if too long. The
 * name is ASCII after office_hours__tz_chars_ok(). */
static int32_t office_hours__uzone(const char *name, UChar *out)
{
    int32_t n = 0;
    for (; name[n]; n++) {
        if (n == OH_TZ_MAX - 1)
            return -1;
        out[n] = (UChar)(unsigned char)name[n];
    }
    out[n] = 0;
    return n;
}

/* Is name a zone in ICU's tz data? ucal_open() does not refuse an unknown
 * name: it quietly uses "Etc/Unknown" (GMT). Custom ids like "GMT+5" are
 * not system ids either. */
static bool office_hours__icu_knows(const char *name)
{
    UChar id[OH_TZ_MAX], canon[OH_TZ_MAX];
    UBool system = false;
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = office_hours__uzone(name, id);
    if (n < 0)
        return false;
    ucal_getCanonicalTimeZoneID(id, n, canon, OH_TZ_MAX, &system, &st);
    return U_SUCCESS(st) && system;
}

int office_hours_check_timezone(const char *name, char *err, size_t errlen)
{
    if (!name || strlen(name) >= OH_TZ_MAX || !office_hours__tz_chars_ok(name))
        return office_hours__fail(err, errlen,
                                  "bad timezone \"%s\" (use an IANA name "
                                  "like Europe/London)",
                                  name ? name : "");
    if (!strcmp(name, "UTC") || office_hours__tz_file_ok(name)) {
        if (office_hours__icu_knows(name))
            return 0;
        UErrorCode st = U_ZERO_ERROR;
        const char *ver = ucal_getTZDataVersion(&st);
        return office_hours__fail(err, errlen,
                                  "unknown timezone \"%s\" (ICU's tz data "
                                  "%s does not have it; use an IANA name "
                                  "like Europe/London)",
                                  name, U_SUCCESS(st) ? ver : "?");
    }
    return office_hours__fail(err, errlen,
                              "unknown timezone \"%s\" (use an IANA name "
                              "like Europe/London)",
                              name);
}

int office_hours_set_timezone(struct office_hours *oh, const char *name,
                              char *err, size_t errlen)
{
    if (office_hours_check_timezone(name, err, errlen) != 0)
        return -1;
    snprintf(oh->timezone, sizeof oh->timezone, "%s", name);
    return 0;
}

/* ---- calendar arithmetic ---------------------------------------------- */

static bool office_hours__leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int office_hours__month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    return m == 2 && office_hours__leap(y) ? 29 : days[m - 1];
}

/* The YYYYMMDD of the day before ymd. */
static int32_t office_hours__prev_day(int32_t ymd)
{
    int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
    if (--d == 0) {
        if (--m == 0) {
            m = 12;
            y--;
        }
        d = office_hours__month_days(y, m);
    }
    return y * 10000 + m * 100 + d;
}

/* ---- is_open ---------------------------------------------------------- */

/* Local wall time at an instant, as is_open needs it. */
struct office_hours__when {
    int32_t ymd; /* YYYYMMDD */
    int wday;    /* 0 = Sunday, like tm_wday */
    int minute;  /* after local midnight */
};

/* The local time in zone at now, from ICU's calendar: no process state (TZ,
 * tzset, localtime) is touched, so this is safe on any thread. */
static int office_hours__local(const char *zone, time_t now,
                               struct office_hours__when *w)
{
    UChar id[OH_TZ_MAX];
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = office_hours__uzone(zone, id);
    if (n < 0 || !office_hours__icu_knows(zone))
        return -1;
    UCalendar *cal = ucal_open(id, n, "en_US_POSIX", UCAL_GREGORIAN, &st);
    if (U_FAILURE(st)) {
        if (cal)
            ucal_close(cal);
        return -1;
    }
    ucal_setMillis(cal, (UDate)now * 1000.0, &st);
    int32_t y = ucal_get(cal, UCAL_YEAR, &st);
    int32_t mon = ucal_get(cal, UCAL_MONTH, &st); /* 0 = January */
    int32_t d = ucal_get(cal, UCAL_DATE, &st);
    int32_t dow = ucal_get(cal, UCAL_DAY_OF_WEEK, &st); /* 1 = Sunday */
    int32_t h = ucal_get(cal, UCAL_HOUR_OF_DAY, &st);
    int32_t mi = ucal_get(cal, UCAL_MINUTE, &st);
    ucal_close(cal);
    if (U_FAILURE(st))
        return -1;
    w->ymd = y * 10000 + (mon + 1) * 100 + d;
    w->wday = dow - UCAL_SUNDAY;
    w->minute = h * 60 + mi;
    return 0;
}

static bool office_hours__holiday(const struct office_hours *oh, int32_t ymd)
{
    size_t lo = 0, hi = oh->n_holidays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (oh->holidays[mid] == ymd)
            return true;
        if (oh->holidays[mid] < ymd)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

bool office_hours_is_open(const struct office_hours *oh, time_t now)
{
    struct office_hours__when w;
    if (office_hours__local(oh->timezone, now, &w) != 0)
        return false;
    int minute = w.minute;
    int wday = w.wday;
    int yesterday = (wday + 6) % 7;
    int32_t today = w.ymd;
    if (!office_hours__holiday(oh, today)) {
        for (int i = 0; i < oh->n_ranges[wday]; i++) {
            const struct oh_range *r = &oh->ranges[wday][i];
            int end = r->end > r->start ? r->end : OH_DAY_MINUTES;
            if (minute >= r->start && minute < end)
                return true;
        }
    }
    if (office_hours__holiday(oh, office_hours__prev_day(today)))
        return false;
    for (int i = 0; i < oh->n_ranges[yesterday]; i++) {
        const struct oh_range *r = &oh->ranges[yesterday][i];
        if (r->end <= r->start && minute < r->end)
            return true;
    }
    return false;
}

/* ---- parsing the week ------------------------------------------------- */

struct office_hours__week {
    struct oh_range ranges[7][OH_RANGES_PER_DAY];
    uint8_t n_ranges[7];
};

/* Copy s without whitespace into out (outlen > strlen(s)). */
static void office_hours__squeeze(const char *s, char *out)
{
    for (; *s; s++) {
        if (!isspace((unsigned char)*s))
            *out++ = *s;
    }
    *out = '\0';
}

static int office_hours__day(const char *name)
{
    for (int d = 0; d < 7; d++) {
        if (!strcasecmp(name, office_hours__short[d]) ||
            !strcasecmp(name, office_hours__long[d]))
            return d;
    }
    return -1;
}

/* Set mask bit d (tm_wday) for every day in the list "mon-fri,sun". */
static int office_hours__days(char *list, const char *entry, unsigned *mask,
                              char *err, size_t errlen)
{
    char *save = NULL;
    *mask = 0;
    for (char *item = strtok_r(list, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(item, '-');
        if (dash)
            *dash = '\0';
        int a = office_hours__day(item);
        int b = dash ? office_hours__day(dash + 1) : a;
        const char *bad = a < 0 || !dash ? item : dash + 1;
        if (a < 0 || b < 0)
            return office_hours__fail(err, errlen,
                                      "bad day \"%s\" in \"%s\" (use mon "
                                      "tue wed thu fri sat sun)",
                                      bad, entry);
        for (int d = a;; d = (d + 1) % 7) {
            *mask |= 1u << d;
            if (d == b)
                break;
        }
    }
    if (*mask == 0)
        return office_hours__fail(err, errlen, "no day given in \"%s\"", entry);
    return 0;
}

/* "9:00" or "09:00" .. "24:00" to minutes, or -1. */
static int office_hours__time(const char *s)
{
    int h = 0, digits = 0;
    while (isdigit((unsigned char)*s) && digits < 3) {
        h = h * 10 + (*s++ - '0');
        digits++;
    }
    if (digits < 1 || digits > 2 || *s++ != ':')
        return -1;
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2])
        return -1;
    int m = (s[0] - '0') * 10 + (s[1] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    return h * 60 + m;
}

static int office_hours__range(char *text, const char *entry,
                               struct oh_range *out, char *err, size_t errlen)
{
    char *dash = strchr(text, '-');
    if (!dash)
        return office_hours__fail(err, errlen,
                                  "bad range \"%s\" in \"%s\" (use "
                                  "HH:MM-HH:MM)",
                                  text, entry);
    *dash = '\0';
    int start = office_hours__time(text);
    int end = office_hours__time(dash + 1);
    const char *bad = start < 0 ? text : dash + 1;
    if (start < 0 || end < 0 || start == OH_DAY_MINUTES)
        return office_hours__fail(err, errlen,
                                  "bad time \"%s\" in \"%s\" (use HH:MM "
                                  "from 00:00 to 24:00)",
                                  start == OH_DAY_MINUTES ? text : bad, entry);
    if (end == 0)
        end = OH_DAY_MINUTES;
    if (end == start)
        return office_hours__fail(err, errlen,
                                  "empty range \"%s-%s\" in \"%s\" (use "
                                  "00:00-24:00 for a whole day)",
                                  text, dash + 1, entry);
    out->start = (int16_t)start;
    out->end = (int16_t)end;
    return 0;
}

static int office_hours__add(struct office_hours__week *w, unsigned mask,
                             struct oh_range r, const char *entry, char *err,
                             size_t errlen)
{
    for (int d = 0; d < 7; d++) {
        if (!(mask & (1u << d)))
            continue;
        if (w->n_ranges[d] == OH_RANGES_PER_DAY)
            return office_hours__fail(err, errlen,
                                      "too many ranges for %s in \"%s\" "
                                      "(at most %d a day)",
                                      office_hours__short[d], entry,
                                      OH_RANGES_PER_DAY);
        w->ranges[d][w->n_ranges[d]++] = r;
    }
    return 0;
}

/* One entry "mon-fri 09:00-12:00, 13:00-17:00" (trimmed, non-empty). */
static int office_hours__entry(struct office_hours__week *w, const char *entry,
                               char *err, size_t errlen)
{
    char days[OH_TEXT_MAX], ranges[OH_TEXT_MAX];
    size_t split = strcspn(entry, "0123456789");
    if (!entry[split])
        return office_hours__fail(err, errlen,
                                  "no hours in \"%s\" (write e.g. \"%s "
                                  "09:00-17:00\")",
                                  entry, entry);
    memcpy(ranges, entry, split);
    ranges[split] = '\0';
    office_hours__squeeze(ranges, days);
    office_hours__squeeze(entry + split, ranges);
    unsigned mask;
    if (office_hours__days(days, entry, &mask, err, errlen) != 0)
        return -1;
    char *save = NULL;
    for (char *item = strtok_r(ranges, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        struct oh_range r = {0, 0};
        if (office_hours__range(item, entry, &r, err, errlen) != 0 ||
            office_hours__add(w, mask, r, entry, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int office_hours__cmp_range(const void *a, const void *b)
{
    const struct oh_range *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* Copy s into out with leading and trailing whitespace removed. */
static void office_hours__trim(const char *s, size_t len, char *out)
{
    while (len && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    memcpy(out, s, len);
    out[len] = '\0';
}

static int office_hours__week(struct office_hours__week *w, const char *text,
                              char *err, size_t errlen)
{
    char entry[OH_TEXT_MAX];
    bool any = false;
    for (const char *p = text;;) {
        size_t len = strcspn(p, ";");
        office_hours__trim(p, len, entry);
        if (entry[0]) {
            any = true;
            if (office_hours__entry(w, entry, err, errlen) != 0)
                return -1;
        }
        if (!p[len])
            break;
        p += len + 1;
    }
    if (!any)
        return office_hours__fail(err, errlen,
                                  "no office hours given (write e.g. "
                                  "\"mon-fri 09:00-17:00\", or \"none\" "
                                  "for always closed)");
    return 0;
}

int office_hours_parse_week(struct office_hours *oh, const char *text,
                            char *err, size_t errlen)
{
    struct office_hours__week w;
    char word[16];
    memset(&w, 0, sizeof w);
    if (!text || strlen(text) >= OH_TEXT_MAX)
        return office_hours__fail(err, errlen,
                                  "office hours text is missing or too "
                                  "long (max %d bytes)",
                                  OH_TEXT_MAX - 1);
    size_t len = strlen(text);
    office_hours__trim(text, len < sizeof word ? len : 0, word);
    if (!strcasecmp(word, "always")) {
        struct office_hours full;
        office_hours_init(&full);
        memcpy(w.ranges, full.ranges, sizeof w.ranges);
        memcpy(w.n_ranges, full.n_ranges, sizeof w.n_ranges);
    } else if (strcasecmp(word, "none") != 0 &&
               office_hours__week(&w, text, err, errlen) != 0) {
        return -1;
    }
    for (int d = 0; d < 7; d++)
        qsort(w.ranges[d], w.n_ranges[d], sizeof w.ranges[d][0],
              office_hours__cmp_range);
    memcpy(oh->ranges, w.ranges, sizeof oh->ranges);
    memcpy(oh->n_ranges, w.n_ranges, sizeof oh->n_ranges);
    return 0;
}

/* ---- holidays --------------------------------------------------------- */

static int office_hours__date(const char *s, int32_t *ymd)
{
    int y, m, d, n = 0;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return -1;
    }
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
        return -1;
    if (y < 1970 || m < 1 || m > 12 || d < 1 ||
        d > office_hours__month_days(y, m))
        return -1;
    *ymd = y * 10000 + m * 100 + d;
    return 0;
}

static int office_hours__cmp_date(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The whole entry of text around p (between commas, semicolons or line
 * ends, blanks trimmed) into *start and its length: a bad date is quoted
 * whole ("Dec 32 2026", not "Dec"). */
static size_t office_hours__holiday_entry(const char *text, const char *p,
                                          const char **start)
{
    const char *s = p, *end;

    while (s > text && !strchr(",;\r\n", s[-1]))
        s--;
    s += strspn(s, " \t");
    end = s + strcspn(s, ",;\r\n");
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *start = s;
    return (size_t)(end - s);
}

int office_hours_parse_holidays(struct office_hours *oh, const char *text,
                                char *err, size_t errlen)
{
    int32_t dates[OH_HOLIDAYS_MAX];
    size_t n = 0;
    const char *sep = ", \t\r\n;";
    if (!text)
        text = "";
    for (const char *p = text + strspn(text, sep); *p; p += strspn(p, sep)) {
        size_t len = strcspn(p, sep);
        char item[16];
        snprintf(item, sizeof item, "%.*s", (int)(len < 15 ? len : 15), p);
        if (len >= 15 || office_hours__date(item, &dates[n]) != 0) {
            const char *entry;
            size_t elen = office_hours__holiday_entry(text, p, &entry);
            return office_hours__fail(err, errlen,
                                      "bad holiday \"%.*s\" (use real dates "
                                      "as YYYY-MM-DD, e.g. 2026-12-25)",
                                      (int)(elen < 120 ? elen : 120), entry);
        }
        if (++n == OH_HOLIDAYS_MAX && p[len + strspn(p + len, sep)])
            return office_hours__fail(
                err, errlen, "too many holidays (at most %d)", OH_HOLIDAYS_MAX);
        p += len;
    }
    qsort(dates, n, sizeof dates[0], office_hours__cmp_date);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (out == 0 || dates[out - 1] != dates[i])
            dates[out++] = dates[i];
    }
    memcpy(oh->holidays, dates, out * sizeof dates[0]);
    oh->n_holidays = out;
    return 0;
}

/* ---- formatting ------------------------------------------------------- */

struct office_hours__buf {
    char *p;
    size_t len, used;
    bool overflow;
};

__attribute__((format(printf, 2, 3))) static void
office_hours__put(struct office_hours__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->used < b->len ? b->len - b->used : 0;
    int n = vsnprintf(b->p + (room ? b->used : b->len - 1), room ? room : 1,
                      fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        b->overflow = true;
    else
        b->used += (size_t)n;
}

static bool office_hours__same_day(const struct office_hours *oh, int a, int b)
{
    return oh->n_ranges[a] == oh->n_ranges[b] &&
           !memcmp(oh->ranges[a], oh->ranges[b],
                   oh->n_ranges[a] * sizeof oh->ranges[a][0]);
}

static void office_hours__put_ranges(struct office_hours__buf *b,
                                     const struct office_hours *oh, int d)
{
    for (int i = 0; i < oh->n_ranges[d]; i++) {
        const struct oh_range *r = &oh->ranges[d][i];
        office_hours__put(b, "%s%02d:%02d-%02d:%02d", i ? "," : "",
                          r->start / 60, r->start % 60, r->end / 60,
                          r->end % 60);
    }
}

int office_hours_format_week(const struct office_hours *oh, char *buf,
                             size_t buflen)
{
    struct office_hours__buf b = {buf, buflen, 0, buflen == 0};
    if (buflen == 0)
        return -1;
    buf[0] = '\0';
    for (int i = 0; i < 7;) {
        int d = office_hours__order[i];
        int j = i + 1;
        while (j < 7 && office_hours__same_day(oh, d, office_hours__order[j]))
            j++;
        if (oh->n_ranges[d]) {
            office_hours__put(&b, "%s%s", b.used ? "; " : "",
                              office_hours__short[d]);
            if (j - i > 1)
                office_hours__put(
                    &b, "-%s", office_hours__short[office_hours__order[j - 1]]);
            office_hours__put(&b, " ");
            office_hours__put_ranges(&b, oh, d);
        }
        i = j;
    }
    if (!b.used)
        office_hours__put(&b, "none");
    return b.overflow ? -1 : 0;
}

int office_hours_format_holidays(const struct office_hours *oh, char *buf,
                                 size_t buflen)
{
    struct office_hours__buf b = {buf, buflen, 0, buflen == 0};
    if (buflen == 0)
        return -1;
    buf[0] = '\0';
    for (size_t i = 0; i < oh->n_holidays; i++) {
        int32_t v = oh->holidays[i];
        office_hours__put(&b, "%s%04d-%02d-%02d", i ? "," : "",
                          (int)(v / 10000), (int)(v / 100 % 100),
                          (int)(v % 100));
    }
    return b.overflow ? -1 : 0;
}
