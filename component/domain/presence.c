/* presence.c - see presence.h
 *
 * Entries live in an array sorted by bare JID (binary search; inserts and
 * removals move pointers only). Each entry holds a small array of its
 * available resources. */
#include "domain/presence.h"

#include "domain/directory.h"

#include <stdlib.h>
#include <string.h>

#define PRESENCE_RESOURCE_MAX 1023 /* RFC 7622 resourcepart, in bytes */

struct presence__res {
    char *resource;
    enum presence_show show;
};

struct presence__entry {
    char *bare;
    bool is_tech;
    struct presence__res *res;
    size_t n_res;
    size_t cap_res;
};

struct presence_tracker {
    struct presence__entry **items; /* sorted by bare */
    size_t n;
    size_t cap;
};

struct presence_tracker *presence_new(void)
{
    return calloc(1, sizeof(struct presence_tracker));
}

static void presence__entry_free(struct presence__entry *e)
{
    for (size_t i = 0; i < e->n_res; i++)
        free(e->res[i].resource);
    free(e->res);
    free(e->bare);
    free(e);
}

void presence_clear(struct presence_tracker *tr)
{
    for (size_t i = 0; i < tr->n; i++)
        presence__entry_free(tr->items[i]);
    tr->n = 0;
}

void presence_free(struct presence_tracker *tr)
{
    if (!tr)
        return;
    presence_clear(tr);
    free(tr->items);
    free(tr);
}

int presence_show_parse(const char *text, enum presence_show *out)
{
    static const char *const names[] = {
        [PRESENCE_SHOW_CHAT] = "chat",
        [PRESENCE_SHOW_AWAY] = "away",
        [PRESENCE_SHOW_XA] = "xa",
        [PRESENCE_SHOW_DND] = "dnd",
    };
    *out = PRESENCE_SHOW_NONE;
    if (!text || !*text)
        return 0;
    for (size_t i = PRESENCE_SHOW_CHAT; i < sizeof names / sizeof names[0];
         i++) {
        if (!strcmp(text, names[i])) {
            *out = (enum presence_show)i;
            return 0;
        }
    }
    return -1;
}

enum cd_presence presence_map(enum presence_show show, bool is_tech)
{
    switch (show) {
    case PRESENCE_SHOW_NONE:
    case PRESENCE_SHOW_CHAT:
        return CD_ONLINE;
    case PRESENCE_SHOW_DND:
        return is_tech ? CD_BUSY : CD_AWAY;
    case PRESENCE_SHOW_AWAY:
    case PRESENCE_SHOW_XA:
    default:
        return CD_AWAY;
    }
}

const char *presence_name(enum cd_presence p)
{
    switch (p) {
    case CD_ONLINE:
        return "Online";
    case CD_AWAY:
        return "Away";
    case CD_BUSY:
        return "Busy";
    case CD_OFFLINE:
    default:
        return "Offline";
    }
}

/* Binary search: the index of bare, or where it would be inserted. */
static size_t presence__find(const struct presence_tracker *tr,
                             const char *bare, bool *found)
{
    size_t lo = 0, hi = tr->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(tr->items[mid]->bare, bare);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static enum cd_presence presence__entry_level(const struct presence__entry *e,
                                              bool is_tech)
{
    enum cd_presence best = CD_OFFLINE;
    for (size_t i = 0; e && i < e->n_res; i++) {
        enum cd_presence p = presence_map(e->res[i].show, is_tech);
        if (p > best)
            best = p;
    }
    return best;
}

/* Split full_jid into its normalised bare part and its resource. */
static int presence__split(const char *full_jid, char *bare, size_t barelen,
                           const char **resource)
{
    if (directory_jid_bare(full_jid, bare, barelen) != 0)
        return -1;
    const char *slash = strchr(full_jid, '/');
    *resource = slash ? slash + 1 : "";
    return strlen(*resource) <= PRESENCE_RESOURCE_MAX ? 0 : -1;
}

/* Insert a new empty entry for bare at index at. NULL when out of memory. */
static struct presence__entry *presence__insert(struct presence_tracker *tr,
                                                size_t at, const char *bare)
{
    if (tr->n == tr->cap) {
        size_t ncap = tr->cap ? tr->cap * 2 : 16;
        struct presence__entry **items =
            realloc(tr->items, ncap * sizeof *items);
        if (!items)
            return NULL;
        tr->items = items;
        tr->cap = ncap;
    }
    struct presence__entry *e = calloc(1, sizeof *e);
    if (!e || !(e->bare = strdup(bare))) {
        free(e);
        return NULL;
    }
    memmove(&tr->items[at + 1], &tr->items[at],
            (tr->n - at) * sizeof tr->items[0]);
    tr->items[at] = e;
    tr->n++;
    return e;
}

static void presence__remove(struct presence_tracker *tr, size_t at)
{
    presence__entry_free(tr->items[at]);
    memmove(&tr->items[at], &tr->items[at + 1],
            (tr->n - at - 1) * sizeof tr->items[0]);
    tr->n--;
}

/* Set resource's show in e, adding the resource if new. 0 or -1 (OOM). */
static int presence__set_res(struct presence__entry *e, const char *resource,
                             enum presence_show show)
{
    for (size_t i = 0; i < e->n_res; i++) {
        if (!strcmp(e->res[i].resource, resource)) {
            e->res[i].show = show;
            return 0;
        }
    }
    if (e->n_res == e->cap_res) {
        size_t ncap = e->cap_res ? e->cap_res * 2 : 2;
        struct presence__res *res = realloc(e->res, ncap * sizeof *res);
        if (!res)
            return -1;
        e->res = res;
        e->cap_res = ncap;
    }
    char *copy = strdup(resource);
    if (!copy)
        return -1;
    e->res[e->n_res].resource = copy;
    e->res[e->n_res].show = show;
    e->n_res++;
    return 0;
}

static void presence__drop_res(struct presence__entry *e, const char *resource)
{
    for (size_t i = 0; i < e->n_res; i++) {
        if (!strcmp(e->res[i].resource, resource)) {
            free(e->res[i].resource);
            e->res[i] = e->res[--e->n_res];
            return;
        }
    }
}

static void presence__report(struct presence_change *out,
                             enum cd_presence before, enum cd_presence after)
{
    if (!out)
        return;
    out->before = before;
    out->after = after;
    out->changed = before != after;
}

/* The available half of presence_update: find or make the entry, set. */
static int presence__available(struct presence_tracker *tr, const char *bare,
                               const char *resource, enum presence_show show,
                               bool is_tech)
{
    bool found;
    size_t at = presence__find(tr, bare, &found);
    struct presence__entry *e =
        found ? tr->items[at] : presence__insert(tr, at, bare);
    if (!e)
        return -1;
    e->is_tech = is_tech;
    if (presence__set_res(e, resource, show) != 0) {
        if (e->n_res == 0)
            presence__remove(tr, at);
        return -1;
    }
    return 0;
}

int presence_update(struct presence_tracker *tr, const char *full_jid,
                    bool available, enum presence_show show, bool is_tech,
                    struct presence_change *out)
{
    char bare[DIR_JID_MAX];
    const char *resource;
    presence__report(out, CD_OFFLINE, CD_OFFLINE);
    if (!full_jid || presence__split(full_jid, bare, sizeof bare, &resource))
        return -1;
    enum cd_presence before = presence_of(tr, bare, is_tech);
    if (available) {
        if (presence__available(tr, bare, resource, show, is_tech) != 0) {
            presence__report(out, before, before);
            return -1;
        }
    } else {
        bool found;
        size_t at = presence__find(tr, bare, &found);
        if (found) {
            presence__drop_res(tr->items[at], resource);
            if (tr->items[at]->n_res == 0)
                presence__remove(tr, at);
        }
    }
    presence__report(out, before, presence_of(tr, bare, is_tech));
    return 0;
}

enum cd_presence presence_of(const struct presence_tracker *tr,
                             const char *bare_jid, bool is_tech)
{
    char bare[DIR_JID_MAX];
    bool found;
    if (!bare_jid || directory_jid_bare(bare_jid, bare, sizeof bare) != 0)
        return CD_OFFLINE;
    size_t at = presence__find(tr, bare, &found);
    return found ? presence__entry_level(tr->items[at], is_tech) : CD_OFFLINE;
}

int presence_forget(struct presence_tracker *tr, const char *bare_jid,
                    struct presence_change *out)
{
    char bare[DIR_JID_MAX];
    bool found;
    presence__report(out, CD_OFFLINE, CD_OFFLINE);
    if (!bare_jid || directory_jid_bare(bare_jid, bare, sizeof bare) != 0)
        return -1;
    size_t at = presence__find(tr, bare, &found);
    if (!found)
        return 0;
    struct presence__entry *e = tr->items[at];
    presence__report(out, presence__entry_level(e, e->is_tech), CD_OFFLINE);
    presence__remove(tr, at);
    return 0;
}

size_t presence_each_online_tech(const struct presence_tracker *tr,
                                 presence_jid_cb cb, void *ud)
{
    size_t calls = 0;
    for (size_t i = 0; i < tr->n; i++) {
        const struct presence__entry *e = tr->items[i];
        if (!e->is_tech || presence__entry_level(e, true) != CD_ONLINE)
            continue;
        calls++;
        if (cb(e->bare, ud) != 0)
            break;
    }
    return calls;
}

size_t presence_count(const struct presence_tracker *tr)
{
    return tr->n;
}
