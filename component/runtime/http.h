/* http.h - HTTP POSTs that never block the caller (libcurl's multi
 * interface, no threads).
 *
 * http_post() starts a request and returns at once; http_poll() moves every
 * request in flight on as far as it can without waiting (curl_multi_perform
 * and curl_multi_info_read) and calls each finished request's done function
 * from inside the poll. The caller polls often (conn.c: after every
 * event-loop pass, at most 100 ms apart) while http_in_flight() is not 0.
 *
 * Only http:// and https:// are spoken. For https the peer and host name are
 * verified against the system CA bundle; a ca_file adds its certificates to
 * that bundle (libcurl's CURLOPT_CAINFO would replace the bundle, so both
 * are read into one CURLOPT_CAINFO_BLOB at http_new()). Every request has a
 * total timeout; no redirect is followed.
 *
 * curl_global_init() must have been called (main.c, before anything else).
 * Ownership: the body and headers are copied by http_post(); the response
 * handed to done is borrowed for the call. http_free() drops the requests
 * still in flight without calling their done functions.
 */
#ifndef CHATDESK_HTTP_H
#define CHATDESK_HTTP_H

#include <stddef.h>

struct http;

#define HTTP_BODY_MAX 65536 /* bytes of a response body kept */

struct http_response {
    long status;       /* the HTTP status, 0 when there was no answer */
    const char *error; /* why there was no answer ("" with an answer) */
    const char *body;  /* the response body (NUL-terminated, cut) */
    size_t body_len;
};

typedef void (*http_done_fn)(void *ud, const struct http_response *r);

/* timeout_s: seconds per request; ca_file NULL or "" for the system CAs
 * only. NULL with a message in err on failure (ca_file unreadable). */
struct http *http_new(long timeout_s, const char *ca_file, char *err,
                      size_t errlen);
void http_free(struct http *h); /* NULL is fine */

/* Start a POST of body[0..len-1] to url with the NULL-terminated header
 * lines ("Name: value"). done(ud, response) runs exactly once, from a later
 * http_poll(). 0, or -1 when the request cannot be started. */
int http_post(struct http *h, const char *url, const char *const *headers,
              const char *body, size_t len, http_done_fn done, void *ud);

/* Move the requests on without waiting; finished ones call done. */
void http_poll(struct http *h);

/* Requests started and not yet finished. */
size_t http_in_flight(const struct http *h);

#endif
