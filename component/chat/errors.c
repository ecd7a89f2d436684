/* errors.c - see errors.h */
#include "chat/errors.h"

#include "domain/canned.h"
#include "domain/history.h"
#include "domain/sessions.h"
#include "domain/tickets.h"

#include <string.h>

/* clang-format off */
#define ERRORS__NOT_FOUND {"cancel", "item-not-found"}
#define ERRORS__NOT_ALLOWED {"cancel", "not-allowed"}
#define ERRORS__FORBIDDEN {"auth", "forbidden"}
#define ERRORS__BAD_REQUEST {"modify", "bad-request"}
#define ERRORS__INTERNAL {"wait", "internal-server-error"}

static const struct xmpp_cond errors__sess[][2] = {
    /*                       ERRORS_COMMAND       ERRORS_ROOM */
    [SESS_ERR_NOT_FOUND] =   {ERRORS__NOT_FOUND,   ERRORS__NOT_FOUND},
    [SESS_ERR_STATE] =       {ERRORS__NOT_ALLOWED, ERRORS__FORBIDDEN},
    [SESS_ERR_FORBIDDEN] =   {ERRORS__FORBIDDEN,   ERRORS__FORBIDDEN},
    [SESS_ERR_DISABLED] =    {ERRORS__FORBIDDEN,   ERRORS__FORBIDDEN},
    [SESS_ERR_NOT_YET] =     {ERRORS__NOT_ALLOWED, ERRORS__NOT_ALLOWED},
    [SESS_ERR_NOT_CONTACT] = {{"auth", "not-authorized"},
                              {"auth", "not-authorized"}},
    [SESS_ERR_INVALID] =     {ERRORS__BAD_REQUEST,
                              {"modify", "not-acceptable"}},
    [SESS_ERR_STORE] =       {ERRORS__INTERNAL,    ERRORS__INTERNAL},
};

static const struct xmpp_cond errors__hist[] = {
    [HIST_ERR_NOT_FOUND] = ERRORS__NOT_FOUND,
    [HIST_ERR_FORBIDDEN] = ERRORS__FORBIDDEN,
    [HIST_ERR_INVALID] =   ERRORS__BAD_REQUEST,
    [HIST_ERR_STORE] =     ERRORS__INTERNAL,
};

static const struct xmpp_cond errors__ticket[] = {
    [TICKET_ERR_NOT_FOUND] = ERRORS__NOT_FOUND,
    [TICKET_ERR_CLOSED] =    {"cancel", "not-acceptable"},
    [TICKET_ERR_INVALID] =   ERRORS__BAD_REQUEST,
    [TICKET_ERR_STORE] =     ERRORS__INTERNAL,
};
static const struct xmpp_cond errors__canned[] = {
    [CANNED_ERR_NOT_FOUND] = ERRORS__NOT_FOUND,
    [CANNED_ERR_EXISTS] =    {"cancel", "conflict"},
    [CANNED_ERR_INVALID] =   ERRORS__BAD_REQUEST,
    [CANNED_ERR_STORE] =     ERRORS__INTERNAL,
};
/* clang-format on */

const struct xmpp_cond *errors_canned(int code)
{
    if (code <= CANNED_OK || code > CANNED_ERR_STORE)
        code = CANNED_ERR_STORE;
    return &errors__canned[code];
}

const struct xmpp_cond *errors_sess(int code, enum errors_where where)
{
    if (code <= SESS_OK || code > SESS_ERR_STORE)
        code = SESS_ERR_STORE;
    return &errors__sess[code][where == ERRORS_ROOM];
}

const struct xmpp_cond *errors_hist(int code)
{
    if (code <= HIST_OK || code > HIST_ERR_STORE)
        code = HIST_ERR_STORE;
    return &errors__hist[code];
}

const struct xmpp_cond *errors_ticket(int code)
{
    if (code <= TICKET_OK || code > TICKET_ERR_STORE)
        code = TICKET_ERR_STORE;
    return &errors__ticket[code];
}

bool errors_internal(const struct xmpp_cond *c)
{
    return !strcmp(c->cond, "internal-server-error");
}
