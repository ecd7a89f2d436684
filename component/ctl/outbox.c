/* outbox.c - chatdeskctl outbox list: the PSA events of the outbox
 * (domain/outbox.h) as tab-separated lines. */
#include "ctl/ctl.h"

#include "domain/outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int ctl_outbox__list(struct ctl *c)
{
    char err[256];
    struct outbox_list l = {NULL, 0};
    struct outbox *ob = outbox_open(c->st, err, sizeof err);
    if (!ob) {
        ctl_err("%s", err);
        return CTL_FAIL;
    }
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
    outbox_close(ob);
    return rc == 0 ? CTL_OK : CTL_FAIL;
}

int ctl_outbox(struct ctl *c, int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "list"))
        return ctl_outbox__list(c);
    ctl_err("usage: outbox list");
    return CTL_USAGE;
}
