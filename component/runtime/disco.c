/* disco.c - see disco.h */
#include "runtime/disco.h"

#include "runtime/stanza.h"

#include <stdlib.h>
#include <string.h>

#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"

struct disco_identity {
    char *category, *type, *name;
};

struct disco_node {
    char *node;
    disco_items_fn fn;
    void *ud;
};

struct disco {
    char **features;
    size_t n_features;
    struct disco_identity *ids;
    size_t n_ids;
    struct disco_node *nodes;
    size_t n_nodes;
    disco_entity_fn entity_fn;
    void *entity_ud;
    disco_info_ext_fn ext_fn;
    void *ext_ud;
};

struct disco *disco_new(void)
{
    return calloc(1, sizeof(struct disco));
}

void disco_free(struct disco *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_features; i++)
        free(d->features[i]);
    for (size_t i = 0; i < d->n_ids; i++) {
        free(d->ids[i].category);
        free(d->ids[i].type);
        free(d->ids[i].name);
    }
    for (size_t i = 0; i < d->n_nodes; i++)
        free(d->nodes[i].node);
    free(d->features);
    free(d->ids);
    free(d->nodes);
    free(d);
}

int disco_has_feature(struct disco *d, const char *var)
{
    for (size_t i = 0; i < d->n_features; i++)
        if (!strcmp(d->features[i], var))
            return 1;
    return 0;
}

static int disco__cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int disco_add_feature(struct disco *d, const char *var)
{
    if (disco_has_feature(d, var))
        return 0;
    char **grown =
        realloc(d->features, (d->n_features + 1) * sizeof *grown);
    if (!grown)
        return -1;
    d->features = grown;
    if (!(d->features[d->n_features] = strdup(var)))
        return -1;
    d->n_features++;
    qsort(d->features, d->n_features, sizeof *d->features, disco__cmp);
    return 0;
}

int disco_add_identity(struct disco *d, const char *category,
                       const char *type, const char *name)
{
    struct disco_identity *grown =
        realloc(d->ids, (d->n_ids + 1) * sizeof *grown);
    if (!grown)
        return -1;
    d->ids = grown;
    struct disco_identity *id = &d->ids[d->n_ids];
    id->category = strdup(category);
    id->type = strdup(type);
    id->name = strdup(name ? name : "");
    if (!id->category || !id->type || !id->name) {
        free(id->category);
        free(id->type);
        free(id->name);
        return -1;
    }
    d->n_ids++;
    return 0;
}

int disco_add_items_node(struct disco *d, const char *node, disco_items_fn fn,
                         void *ud)
{
    struct disco_node *grown =
        realloc(d->nodes, (d->n_nodes + 1) * sizeof *grown);
    if (!grown)
        return -1;
    d->nodes = grown;
    if (!(d->nodes[d->n_nodes].node = strdup(node)))
        return -1;
    d->nodes[d->n_nodes].fn = fn;
    d->nodes[d->n_nodes].ud = ud;
    d->n_nodes++;
    return 0;
}

void disco_fill_info(struct disco *d, xmpp_stanza_t *query)
{
    for (size_t i = 0; i < d->n_ids; i++) {
        xmpp_stanza_t *id = stanza_add_child_ns(query, "identity", NULL);
        xmpp_stanza_set_attribute(id, "category", d->ids[i].category);
        xmpp_stanza_set_attribute(id, "type", d->ids[i].type);
        if (*d->ids[i].name)
            xmpp_stanza_set_attribute(id, "name", d->ids[i].name);
    }
    for (size_t i = 0; i < d->n_features; i++) {
        xmpp_stanza_t *f = stanza_add_child_ns(query, "feature", NULL);
        xmpp_stanza_set_attribute(f, "var", d->features[i]);
    }
}

void disco_set_info_ext(struct disco *d, disco_info_ext_fn fn, void *ud)
{
    d->ext_fn = fn;
    d->ext_ud = ud;
}

void disco_fill_info_ext(struct disco *d, struct app *app,
                         xmpp_stanza_t *query)
{
    if (d->ext_fn)
        d->ext_fn(app, query, d->ext_ud);
}

int disco_fill_items(struct disco *d, struct app *app, const char *node,
                     const char *from, xmpp_stanza_t *query)
{
    const char *want = node ? node : "";
    for (size_t i = 0; i < d->n_nodes; i++) {
        if (!strcmp(d->nodes[i].node, want)) {
            d->nodes[i].fn(app, from, query, d->nodes[i].ud);
            return 0;
        }
    }
    return -1;
}

void disco_set_entity_info(struct disco *d, disco_entity_fn fn, void *ud)
{
    d->entity_fn = fn;
    d->entity_ud = ud;
}

int disco_answer_entity(struct disco *d, struct app *app, xmpp_stanza_t *iq,
                        xmpp_stanza_t *payload)
{
    if (!d->entity_fn)
        return 0;
    return d->entity_fn(app, iq, payload, d->entity_ud) ? 1 : 0;
}
