/* modules.c - see modules.h */
#include "modules.h"

#include "app.h"
#include "xep0030_disco.h"
#include "xep0092_version.h"
#include "xep0199_ping.h"

int modules_register(struct app *app)
{
    if (xep0030_register(app) || xep0092_register(app) ||
        xep0199_register(app))
        return -1;
    return 0;
}

void modules_free(struct app *app)
{
    (void)app;
}

void modules_tick(struct app *app)
{
    (void)app;
}
