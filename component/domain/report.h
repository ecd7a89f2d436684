/* report.h - the admins' report (SPEC §9): per tech and per company, over
 * the sessions created in a date range, how many there were, the median
 * time to answer, how many were abandoned, how many asked for a callback
 * and the average rating. Plain C; reads only.
 *
 * Which sessions: the past ones (ended, abandoned, callback, closed)
 * created in [since, until). A session's tech is the one who ended or
 * closed it (its closer; "" when none, e.g. abandoned and not closed yet);
 * its company is the session's. Time to answer: answered_at - created, of
 * the answered ones. Abandoned: state abandoned, or closed without an
 * answer and without a callback request. Callbacks: sessions with a
 * callback request. Ratings: table ratings (sessions_rate()).
 *
 * Ownership: struct reports borrows the store and owns its statement;
 * a struct report owns its rows (report_free()).
 */
#ifndef CHATDESK_REPORT_H
#define CHATDESK_REPORT_H

#include <stddef.h>
#include <time.h>

struct store;
struct reports;

enum report_by { REPORT_TECH = 0, REPORT_COMPANY };

struct report_row {
    enum report_by by;
    char key[256];  /* the tech's JID or the company's name; "" = none */
    char name[256]; /* the tech's directory name ("" = none), the company */
    long sessions;
    long median_answer; /* seconds; -1 when none was answered */
    long abandoned;
    long callbacks;
    long ratings;      /* how many were rated */
    double avg_rating; /* 0 when none was rated */
};

/* Techs first (by JID), then companies (by name). */
struct report {
    struct report_row *rows;
    size_t n;
};

struct reports *reports_open(struct store *st, char *err, size_t errlen);
void reports_close(struct reports *r); /* NULL is fine */

/* Build the report of [since, until) into *out. 0, or -1 with err. */
int reports_build(struct reports *r, time_t since, time_t until,
                  struct report *out, char *err, size_t errlen);
void report_free(struct report *rep); /* NULL is fine */

/* "YYYY-MM-DD" as the UTC midnight that starts that day: 0, or -1. */
int report_parse_day(const char *s, time_t *out);

#endif
