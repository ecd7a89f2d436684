/* outbox.c - chatdeskctl outbox list | retry EVENT-ID: the PSA events of
 * the outbox (domain/outbox.h) as tab-separated lines; a dead letter put
 * back to pending, due now (a running chatdesk sends it within a second or
 * two: its sender rescans the outbox every second). */
#include "ctl/ctl.h"

#include "domain/outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int ctl_outbox__list(struct outbox *ob)
{
    struct outbox_list l = {NULL, 0};
    int rc = outbox_list(ob, 0, &l);
    if (rc != 0)
        ctl_err("%s", outbox_error(ob));
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        const struct outbox_event *e = &l.items[i];
        printf("%s\t%" PRId64 "\t%s\t%s\t%d\t%s\n", e->event_id, e->ticket_id,
               outbox_type_name(e->type), outbox_status_name(e->status),
               e->attempts, e->answer);
    }
    outbox_list_free(&l);
    return rc == 0 ? CTL_OK : CTL_FAIL;
}

static int ctl_outbox__retry(struct outbox *ob, const char *event_id)
{
    int rc = outbox_requeue(ob, event_id);
    if (rc < 0) {
        ctl_err("%s", outbox_error(ob));
        return CTL_FAIL;
    }
    if (rc > 0) {
        ctl_err("no dead letter with event id %s (see outbox list)",
                event_id);
        return CTL_USAGE;
    }
    printf("%s\tpending\n", event_id);
    return CTL_OK;
}

int ctl_outbox(struct ctl *c, int argc, char **argv)
{
    char err[256];
    int list = argc == 2 && !strcmp(argv[1], "list");
    int retry = argc == 3 && !strcmp(argv[1], "retry");
    if (!list && !retry) {
        ctl_err("usage: outbox list | outbox retry EVENT-ID");
        return CTL_USAGE;
    }
    struct outbox *ob = outbox_open(c->st, err, sizeof err);
    if (!ob) {
        ctl_err("%s", err);
        return CTL_FAIL;
    }
    int rc = list ? ctl_outbox__list(ob) : ctl_outbox__retry(ob, argv[2]);
    outbox_close(ob);
    return rc;
}
