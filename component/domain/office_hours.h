/* office_hours.h - when the helpdesk is staffed (SPEC §3, office hours).
 *
 * Office hours are an IANA timezone, opening ranges per weekday and holiday
 * dates, all in the zone's local wall time. Rules:
 *   - A range "22:00-02:00" (end before start) crosses midnight and belongs
 *     to the day it starts: "fri 22:00-02:00" is open Friday 22:00 until
 *     Saturday 02:00. "24:00" (or "00:00") as an end means midnight.
 *   - A holiday closes every range that starts on that local date, including
 *     the part after midnight; a range that started the evening before a
 *     holiday runs to its end.
 *   - Local time comes from the zone's rules for the instant asked about, so
 *     DST changes need no special case: a skipped hour never happens and a
 *     repeated hour is open (or closed) both times.
 *   - No ranges at all ("none") means always closed.
 *
 * Text forms (ad-hoc form fields, CLI arguments):
 *   week:     "mon-fri 09:00-17:00; sat 10:00-12:00"
 *             entries separated by ';'; days are mon..sun (or full names),
 *             lists "mon,wed" and ranges "mon-fri" (may wrap: "fri-mon");
 *             several ranges per day "mon 09:00-12:00,13:00-17:00";
 *             "none" = always closed, "always" = mon-sun 00:00-24:00.
 *   holidays: "2026-12-25,2026-12-26" (commas or spaces; "" = none).
 * Parse errors name the bad part, e.g.
 *   bad day "mnn" in "mnn-fri 09:00-17:00" (use mon tue wed thu fri sat sun)
 *
 * The struct is plain data (no pointers): copy it freely. All functions are
 * thread-safe: is_open computes local time with ICU's calendar (ucal_*) for
 * the zone asked about and touches no process state (no TZ, tzset or
 * localtime). Its zone rules are ICU's own tz data (libicu's version, which
 * can lag the system's tzdata package), not /usr/share/zoneinfo.
 */
#ifndef CHATDESK_OFFICE_HOURS_H
#define CHATDESK_OFFICE_HOURS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define OH_TZ_MAX 64
#define OH_RANGES_PER_DAY 8
#define OH_HOLIDAYS_MAX 512
#define OH_TEXT_MAX 4096 /* longest week text accepted */

/* Minutes after local midnight: start in [0, 1440), end in (0, 1440];
 * end <= start means the range crosses midnight. */
struct oh_range {
    int16_t start;
    int16_t end;
};

struct office_hours {
    char timezone[OH_TZ_MAX];
    /* Indexed like struct tm's tm_wday: 0 = Sunday. Sorted by start. */
    struct oh_range ranges[7][OH_RANGES_PER_DAY];
    uint8_t n_ranges[7];
    /* Local dates as YYYYMMDD, sorted, no duplicates. */
    int32_t holidays[OH_HOLIDAYS_MAX];
    size_t n_holidays;
};

/* The default: UTC, open all week 00:00-24:00, no holidays. */
void office_hours_init(struct office_hours *oh);

/* 0 if name is an IANA zone present in the tz database (TZDIR or
 * /usr/share/zoneinfo) that ICU's tz data also has (so is_open computes in
 * that zone, never in ICU's "Etc/Unknown" fallback), else -1 with the reason
 * in err. */
int office_hours_check_timezone(const char *name, char *err, size_t errlen);

/* Set the zone after office_hours_check_timezone(). Returns 0 or -1 (oh
 * unchanged, reason in err). */
int office_hours_set_timezone(struct office_hours *oh, const char *name,
                              char *err, size_t errlen);

/* Replace the weekly ranges with those in text. Returns 0, or -1 with oh
 * unchanged and a message naming the bad part in err. */
int office_hours_parse_week(struct office_hours *oh, const char *text,
                            char *err, size_t errlen);

/* Replace the holidays with those in text. Returns 0, or -1 with oh
 * unchanged and a message naming the bad date in err. */
int office_hours_parse_holidays(struct office_hours *oh, const char *text,
                                char *err, size_t errlen);

/* Canonical text forms (parse(format(x)) == x). Return 0, or -1 when buf is
 * too small (buf then holds a truncated string). */
int office_hours_format_week(const struct office_hours *oh, char *buf,
                             size_t buflen);
int office_hours_format_holidays(const struct office_hours *oh, char *buf,
                                 size_t buflen);

/* Is the helpdesk open at the instant now? */
bool office_hours_is_open(const struct office_hours *oh, time_t now);

#endif
