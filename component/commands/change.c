/* change.c - see commands/change.h */
#include "commands/change.h"

#include "domain/audit.h"
#include "domain/domain.h"
#include "runtime/app.h"
#include "runtime/log.h"
#include "xep0050_adhoc.h"

static struct audit *change__audit(const struct adhoc_request *req)
{
    return req->app->domain->audit;
}

int change_begin(const struct adhoc_request *req, struct adhoc_reply *reply)
{
    struct audit *a = change__audit(req);
    enum audit_change r = audit_change_begin(a);
    if (r == AUDIT_CHANGE_DONE)
        return 0;
    log_warn("audit", "%s: %s", audit_change_what(r), audit_error(a));
    adhoc_reply_store_fail(reply, audit_change_what(r),
                           "the database is busy or unreachable");
    return -1;
}

void change_cancel(const struct adhoc_request *req)
{
    audit_change_cancel(change__audit(req));
}

int change_record(const struct adhoc_request *req, const char *object,
                  const char *key, const char *old, const char *new)
{
    struct audit *a = change__audit(req);
    if (audit_record(a, req->bare, object, key, old, new) == AUDIT_OK)
        return 0;
    log_warn("audit", "%s %s by %s: %s", object, key, req->bare,
             audit_error(a));
    return 1;
}

int change_end(const struct adhoc_request *req, struct adhoc_reply *reply,
               int failed)
{
    struct audit *a = change__audit(req);
    enum audit_change r = audit_change_end(a, failed == 0);
    if (r == AUDIT_CHANGE_DONE)
        return 0;
    if (r == AUDIT_CHANGE_COMMIT)
        log_warn("audit", "%s: %s", audit_change_what(r), audit_error(a));
    adhoc_reply_store_fail(reply, audit_change_what(r), "nothing was changed");
    return -1;
}
