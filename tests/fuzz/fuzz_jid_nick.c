/* fuzz_jid_nick.c - libFuzzer target: the JID and nick helpers
 * (component/runtime/jid.c, component/runtime/nick.c).
 *
 * Input: one byte that picks an output size (1..256), then any bytes, used
 * as a JID and (up to its first NUL) as a display name. Besides ASan, UBSan
 * and LeakSanitizer, the target aborts when a contract of jid.h or nick.h
 * breaks:
 *  - jid_lower() / jid_bare_lower(): -1 exactly when the result does not
 *    fit, out then untouched; else the bare part ASCII-lowercased, the
 *    resource as it was, the same in place;
 *  - nick_clean_text(): the bytes it says, within len, valid UTF-8 without
 *    controls, no leading, trailing or double spaces, and cleaning it again
 *    changes nothing;
 *  - nick_from_name(): 0 with a nick of 1..NICK_MAX bytes of valid UTF-8
 *    that RFC 3920 resourceprep (ICU) leaves as it is (so a server takes
 *    it as an occupant JID's resource) and that nick_from_name() keeps, or
 *    -1 with out "".
 * Seeds: corpus-jid-nick/.
 */
#include "runtime/jid.h"
#include "runtime/nick.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/usprep.h>
#include <unicode/ustring.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_JN_MAX 4096 /* bytes of input tried */

static void fuzz_jn__fail(const char *what, const char *text)
{
    fprintf(stderr, "fuzz_jid_nick: %s: \"%s\"\n", what, text);
    abort();
}

static void fuzz_jn__jid(const char *jid, size_t n, size_t len)
{
    char out[FUZZ_JN_MAX + 1], again[FUZZ_JN_MAX + 1];
    memset(out, 'x', sizeof out);
    if (jid_lower(jid, n, out, len) != 0) {
        if (n < len || out[0] != 'x')
            fuzz_jn__fail("jid_lower refused a fit or wrote anyway", jid);
        return;
    }
    if (n >= len || out[n] != '\0')
        fuzz_jn__fail("jid_lower wrote past its room or left no NUL", jid);
    size_t slash = strcspn(jid, "/");
    for (size_t i = 0; i < n; i++)
        if (out[i] !=
            (i < slash ? (char)tolower((unsigned char)jid[i]) : jid[i]))
            fuzz_jn__fail("jid_lower changed the wrong bytes", jid);
    memcpy(again, jid, n);
    if (jid_lower(again, n, again, len) != 0 || memcmp(again, out, n + 1))
        fuzz_jn__fail("jid_lower in place differs", jid);
    if (jid_bare_lower(jid, again, sizeof again) != 0 || strlen(again) != slash)
        fuzz_jn__fail("jid_bare_lower is not the bare part", jid);
}

/* 1 when s is valid UTF-8. */
static int fuzz_jn__utf8(const char *s)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = 0;
    u_strFromUTF8(NULL, 0, &n, s, -1, &st);
    return st == U_BUFFER_OVERFLOW_ERROR || U_SUCCESS(st);
}

static void fuzz_jn__clean(const char *name, size_t len)
{
    char out[257], again[257];
    size_t n = nick_clean_text(name, out, len);
    if (n >= len || strlen(out) != n || !fuzz_jn__utf8(out))
        fuzz_jn__fail("nick_clean_text: bad length or UTF-8", name);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f ||
            (out[i] == ' ' && (i == 0 || i + 1 == n || out[i + 1] == ' ')))
            fuzz_jn__fail("nick_clean_text left a control or extra space", out);
    if (nick_clean_text(out, again, sizeof again) != n || strcmp(out, again))
        fuzz_jn__fail("nick_clean_text is not stable", out);
}

/* 1 when RFC 3920 resourceprep leaves the UTF-8 nick as it is. */
static int fuzz_jn__prepped(const char *nick)
{
    UChar u[4 * NICK_MAX], dst[16 * NICK_MAX];
    int32_t n = 0, dn;
    UErrorCode st = U_ZERO_ERROR;
    UStringPrepProfile *prep =
        usprep_openByType(USPREP_RFC3920_RESOURCEPREP, &st);
    u_strFromUTF8(u, 4 * NICK_MAX, &n, nick, -1, &st);
    dn = usprep_prepare(prep, u, n, dst, 16 * NICK_MAX, USPREP_DEFAULT, NULL,
                        &st);
    usprep_close(prep);
    return U_SUCCESS(st) && dn == n && !memcmp(u, dst, (size_t)n * sizeof *u);
}

static void fuzz_jn__nick(const char *name)
{
    char out[NICK_MAX + 1], again[NICK_MAX + 1];
    if (nick_from_name(name, out, sizeof out) != 0) {
        if (out[0])
            fuzz_jn__fail("nick_from_name refused but wrote a nick", name);
        return;
    }
    size_t n = strlen(out);
    if (n == 0 || n > NICK_MAX || !fuzz_jn__utf8(out))
        fuzz_jn__fail("nick_from_name: bad length or UTF-8", name);
    if (!fuzz_jn__prepped(out))
        fuzz_jn__fail("a nick resourceprep would change or refuse", out);
    if (nick_from_name(out, again, sizeof again) != 0 || strcmp(out, again))
        fuzz_jn__fail("nick_from_name is not stable", out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[FUZZ_JN_MAX + 1];
    if (size < 1 || size - 1 > FUZZ_JN_MAX)
        return 0;
    size_t len = (size_t)data[0] + 1, n = size - 1;
    memcpy(text, data + 1, n);
    text[n] = '\0';
    fuzz_jn__jid(text, strlen(text), len);
    fuzz_jn__jid(text, strlen(text), sizeof text);
    fuzz_jn__clean(text, len);
    fuzz_jn__nick(text);
    return 0;
}
