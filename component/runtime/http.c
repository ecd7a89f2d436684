/* http.c - see http.h */
#include "runtime/http.h"

#include <curl/curl.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http__req;

struct http {
    CURLM *multi;
    long timeout_s;
    char *cas; /* the system bundle and ca_file, NULL: the default bundle */
    size_t cas_len;
    size_t in_flight;
    struct http__req *reqs; /* the requests in flight */
};

/* One request: owned by the easy handle (CURLOPT_PRIVATE). */
struct http__req {
    struct http *h;
    CURL *easy;
    struct curl_slist *headers;
    char *body; /* the response so far */
    size_t len;
    char errbuf[CURL_ERROR_SIZE];
    http_done_fn done;
    void *ud;
    struct http__req *prev, *next; /* in h->reqs */
};

/* Append the file at path to *buf. 0, or -1 with errno. */
static int http__append_file(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        char *nb = realloc(*buf, *len + n + 2);
        if (!nb) {
            rc = -1;
            break;
        }
        memcpy(nb + *len, chunk, n);
        *len += n;
        *buf = nb;
    }
    if (ferror(f))
        rc = -1;
    fclose(f);
    if (rc == 0 && *buf)
        (*buf)[(*len)++] = '\n'; /* a bundle without a final newline */
    return rc;
}

/* The CA bundle for a ca_file: libcurl's default bundle (when it has one)
 * followed by ca_file. */
static int http__bundle(struct http *h, const char *ca_file, char *err,
                        size_t errlen)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (v->cainfo && http__append_file(v->cainfo, &h->cas, &h->cas_len))
        h->cas_len = 0; /* no readable system bundle: ca_file alone */
    if (http__append_file(ca_file, &h->cas, &h->cas_len) != 0 || !h->cas) {
        snprintf(err, errlen, "cannot read the CA file %s: %s", ca_file,
                 errno ? strerror(errno) : "empty");
        return -1;
    }
    return 0;
}

struct http *http_new(long timeout_s, const char *ca_file, char *err,
                      size_t errlen)
{
    struct http *h = calloc(1, sizeof *h);
    if (!h || !(h->multi = curl_multi_init())) {
        snprintf(err, errlen, "cannot set up HTTP");
        free(h);
        return NULL;
    }
    h->timeout_s = timeout_s;
    errno = 0;
    if (ca_file && *ca_file && http__bundle(h, ca_file, err, errlen) != 0) {
        http_free(h);
        return NULL;
    }
    return h;
}

/* Take r out of the multi handle and the list, and free it. */
static void http__req_free(struct http__req *r)
{
    struct http *h = r->h;
    curl_multi_remove_handle(h->multi, r->easy);
    if (r->prev)
        r->prev->next = r->next;
    else
        h->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    h->in_flight--;
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    free(r->body);
    free(r);
}

void http_free(struct http *h)
{
    if (!h)
        return;
    while (h->reqs)
        http__req_free(h->reqs);
    curl_multi_cleanup(h->multi);
    free(h->cas);
    free(h);
}

static size_t http__write(char *data, size_t size, size_t n, void *ud)
{
    struct http__req *r = ud;
    size_t len = size * n;
    size_t keep = r->len + len > HTTP_BODY_MAX ? HTTP_BODY_MAX - r->len : len;
    if (keep) {
        char *nb = realloc(r->body, r->len + keep + 1);
        if (!nb)
            return 0; /* curl fails the request: retried later */
        memcpy(nb + r->len, data, keep);
        r->len += keep;
        nb[r->len] = '\0';
        r->body = nb;
    }
    return len;
}

/* Every option of a request; 0 or -1. */
static int http__setup(struct http *h, struct http__req *r, const char *url,
                       const char *body, size_t len)
{
    CURL *e = r->easy;
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, url);
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT, h->timeout_s);
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    bad |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http__write);
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    if (h->cas) {
        struct curl_blob blob = {h->cas, h->cas_len, CURL_BLOB_COPY};
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
    }
    return bad ? -1 : 0;
}

int http_post(struct http *h, const char *url, const char *const *headers,
              const char *body, size_t len, http_done_fn done, void *ud)
{
    struct http__req *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->h = h;
    r->done = done;
    r->ud = ud;
    r->easy = curl_easy_init();
    /* no "Expect: 100-continue" wait before a larger body */
    struct curl_slist *l = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; l && headers && headers[i]; i++) {
        struct curl_slist *more = curl_slist_append(l, headers[i]);
        if (!more)
            curl_slist_free_all(l);
        l = more;
    }
    r->headers = l;
    if (!r->easy || !l || http__setup(h, r, url, body, len) != 0 ||
        curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
        curl_easy_cleanup(r->easy);
        curl_slist_free_all(r->headers);
        free(r);
        return -1;
    }
    r->next = h->reqs;
    if (h->reqs)
        h->reqs->prev = r;
    h->reqs = r;
    h->in_flight++;
    return 0;
}

/* A finished request: its answer (or why none) to done, then free it. */
static void http__finish(CURL *easy, CURLcode result)
{
    struct http__req *r = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
    struct http_response resp = {0, "", r->body ? r->body : "", r->len};
    if (result == CURLE_OK)
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp.status);
    if (!resp.status)
        resp.error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(result);
    r->done(r->ud, &resp);
    http__req_free(r);
}

void http_poll(struct http *h)
{
    int running = 0, left = 0;
    if (!h->in_flight)
        return;
    curl_multi_perform(h->multi, &running);
    CURLMsg *m;
    while ((m = curl_multi_info_read(h->multi, &left)))
        if (m->msg == CURLMSG_DONE)
            http__finish(m->easy_handle, m->data.result);
}

size_t http_in_flight(const struct http *h)
{
    return h->in_flight;
}
