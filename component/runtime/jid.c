/* jid.c - see jid.h */
#include "runtime/jid.h"

#include <ctype.h>
#include <string.h>

int jid_lower(const char *jid, size_t n, char *out, size_t len)
{
    int in_bare = 1;

    if (n >= len)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (jid[i] == '/')
            in_bare = 0;
        out[i] = in_bare ? (char)tolower((unsigned char)jid[i]) : jid[i];
    }
    out[n] = '\0';
    return 0;
}

int jid_bare_lower(const char *jid, char *out, size_t len)
{
    return jid_lower(jid, strcspn(jid, "/"), out, len);
}
