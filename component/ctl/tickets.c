/* tickets.c - chatdeskctl ticket list|show|close (SPEC §6): the same ticket
 * store as the ad-hoc commands, so a close writes its PSA events in the
 * same transaction and a running chatdesk sends them. */
#include "ctl/ctl.h"

#include "domain/directory.h"
#include "domain/tickets.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void ctl_ticket__iso(time_t t, char *buf, size_t len)
{
    struct tm tm;
    buf[0] = '\0';
    if (t > 0 && gmtime_r(&t, &tm))
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A ticket id from text (digits only, above 0); 0 when it is none. */
static int64_t ctl_ticket__id(const char *s)
{
    char *end = NULL;
    if (!s || !*s || strspn(s, "0123456789") != strlen(s))
        return 0;
    long long v = strtoll(s, &end, 10);
    return v > 0 ? (int64_t)v : 0;
}

static int ctl_ticket__fail(struct ctl *c, int rc)
{
    ctl_err("%s", ticket_store_error(c->ts));
    return rc == TICKET_ERR_STORE ? CTL_FAIL : CTL_USAGE;
}

/* One line a ticket, newest first: id, status, created, summary. */
static int ctl_ticket__list(struct ctl *c, const char *status)
{
    struct ticket_filter f = {0};
    struct ticket_list l = {NULL, 0};
    char at[32];
    if (status && !strcmp(status, "open"))
        f.status = TICKET_FILTER_OPEN;
    else if (status && !strcmp(status, "closed"))
        f.status = TICKET_FILTER_CLOSED;
    else if (status)
        return ctl_err("ticket list takes open or closed, not '%s'", status),
               CTL_USAGE;
    int rc = ticket_list(c->ts, &f, &l);
    if (rc != TICKET_OK)
        return ctl_ticket__fail(c, rc);
    for (size_t i = 0; i < l.n; i++) {
        ctl_ticket__iso(l.items[i].created, at, sizeof at);
        printf("%" PRId64 "\t%s\t%s\t%s\n", l.items[i].id,
               ticket_status_name(l.items[i].status), at, l.items[i].summary);
    }
    ticket_list_free(&l);
    return CTL_OK;
}

/* The name of a company / the JID of a contact; "" for none. */
static void ctl_ticket__who(struct ctl *c, const struct ticket *t,
                            char *company, char *contact)
{
    struct company co;
    struct contact ct;
    company[0] = contact[0] = '\0';
    if (t->company_id && directory_company_get(c->dir, t->company_id, &co) ==
                             DIR_OK)
        snprintf(company, DIR_NAME_MAX, "%s", co.name);
    if (t->contact_id && directory_contact_get(c->dir, t->contact_id, &ct) ==
                             DIR_OK)
        snprintf(contact, DIR_JID_MAX, "%s", ct.jid);
}

/* The ticket's fields, then every note oldest first: a header line "--- note
 * N: KIND by AUTHOR at TIME" and the whole text. */
static int ctl_ticket__show(struct ctl *c, int64_t id)
{
    struct ticket t;
    char company[DIR_NAME_MAX], contact[DIR_JID_MAX], created[32], closed[32];
    int rc = ticket_get(c->ts, id, &t);
    if (rc != TICKET_OK)
        return ctl_ticket__fail(c, rc);
    ctl_ticket__who(c, &t, company, contact);
    ctl_ticket__iso(t.created, created, sizeof created);
    ctl_ticket__iso(t.closed, closed, sizeof closed);
    printf("ticket: %" PRId64 "\nsummary: %s\nstatus: %s\ncompany: %s\n"
           "contact: %s\nexternal_id: %s\ncreated: %s\nclosed: %s\n",
           t.id, t.summary, ticket_status_name(t.status), company, contact,
           t.external_id ? t.external_id : "", created, closed);
    for (size_t i = 0; i < t.n_notes; i++) {
        ctl_ticket__iso(t.notes[i].created, created, sizeof created);
        printf("--- note %zu: %s by %s at %s\n%s\n", i + 1,
               ticket_note_kind_name(t.notes[i].kind), t.notes[i].author,
               created, t.notes[i].text);
    }
    ticket_clear(&t);
    return CTL_OK;
}

static int ctl_ticket__close(struct ctl *c, int64_t id, const char *note)
{
    int rc = ticket_close(c->ts, id, "chatdeskctl", note);
    if (rc != TICKET_OK)
        return ctl_ticket__fail(c, rc);
    printf("ticket #%" PRId64 " closed\n", id);
    return CTL_OK;
}

int ctl_ticket(struct ctl *c, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    int64_t id = argc > 2 ? ctl_ticket__id(argv[2]) : 0;
    if (!strcmp(sub, "list") && argc <= 3)
        return ctl_ticket__list(c, argc == 3 ? argv[2] : NULL);
    if ((!strcmp(sub, "show") || !strcmp(sub, "close")) && argc > 2 && !id) {
        ctl_err("'%s' is not a ticket number", argv[2]);
        return CTL_USAGE;
    }
    if (!strcmp(sub, "show") && argc == 3)
        return ctl_ticket__show(c, id);
    if (!strcmp(sub, "close") && (argc == 3 || argc == 4))
        return ctl_ticket__close(c, id, argc == 4 ? argv[3] : NULL);
    ctl_err("usage: ticket list [open|closed] | show ID | close ID [NOTE]");
    return CTL_USAGE;
}
