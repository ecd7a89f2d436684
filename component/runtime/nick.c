/* nick.c - see nick.h. The work is done in UTF-16, ICU's own form. */
#include "runtime/nick.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/usprep.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#define NICK__PREP_MAX (4 * NICK_MAX) /* UTF-16 units resourceprep may make */

/* What becomes of one code point of a name. */
enum nick__class { NICK__KEEP, NICK__SPACE, NICK__DROP };

static enum nick__class nick__classify(UChar32 c)
{
    int8_t t = u_charType(c);

    if (c == 0xFFFD) /* stands for malformed UTF-8 */
        return NICK__DROP;
    if (t == U_CONTROL_CHAR || t == U_SPACE_SEPARATOR ||
        t == U_LINE_SEPARATOR || t == U_PARAGRAPH_SEPARATOR)
        return NICK__SPACE;
    if (t == U_FORMAT_CHAR || t == U_PRIVATE_USE_CHAR || t == U_SURROGATE ||
        t == U_UNASSIGNED ||
        u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
        return NICK__DROP;
    return NICK__KEEP;
}

/* 1 when resourceprep (prep, may be NULL: no check) takes c on its own. */
static int nick__prep_ok(const UStringPrepProfile *prep, UChar32 c)
{
    UChar in[2], dst[NICK__PREP_MAX];
    int32_t n = 0;
    UErrorCode st = U_ZERO_ERROR;

    if (!prep)
        return 1;
    U16_APPEND_UNSAFE(in, n, c);
    usprep_prepare(prep, in, n, dst, NICK__PREP_MAX, USPREP_DEFAULT, NULL, &st);
    return U_SUCCESS(st);
}

/* name as UTF-16 (malformed bytes as U+FFFD) in a new buffer of *n units;
 * NULL when out of memory or too long. */
static UChar *nick__utf16(const char *name, int32_t *n)
{
    size_t len = strlen(name);
    UErrorCode st = U_ZERO_ERROR;
    UChar *u;

    if (len >= INT32_MAX / 2 || !(u = malloc((len + 1) * sizeof *u)))
        return NULL;
    u_strFromUTF8WithSub(u, (int32_t)len + 1, n, name, -1, 0xFFFD, NULL, &st);
    if (U_FAILURE(st)) {
        free(u);
        return NULL;
    }
    return u;
}

/* Clean u[0..n) in place as nick_clean_text() says, dropping what prep
 * (may be NULL) refuses, up to max bytes of UTF-8. Returns the new length.
 * It never writes ahead of what it read: a space is written only for a
 * space read before. */
static int32_t nick__clean16(UChar *u, int32_t n, size_t max,
                             const UStringPrepProfile *prep)
{
    int32_t i = 0, o = 0;
    size_t bytes = 0;
    int space = 0;

    while (i < n) {
        UChar32 c;
        U16_NEXT(u, i, n, c);
        enum nick__class k = nick__classify(c);
        if (k == NICK__SPACE)
            space = o > 0;
        if (k != NICK__KEEP || !nick__prep_ok(prep, c))
            continue;
        size_t need = (size_t)U8_LENGTH(c) + (space ? 1 : 0);
        if (bytes + need > max)
            break;
        if (space)
            u[o++] = 0x20;
        U16_APPEND_UNSAFE(u, o, c);
        bytes += need;
        space = 0;
    }
    return o;
}

/* u[0..n) as UTF-8 into out (it fits: the caller counted the bytes). */
static size_t nick__utf8(const UChar *u, int32_t n, char *out, size_t len)
{
    int32_t got = 0;
    UErrorCode st = U_ZERO_ERROR;

    u_strToUTF8(out, (int32_t)len, &got, u, n, &st);
    if (U_FAILURE(st) || (size_t)got >= len) {
        out[0] = '\0';
        return 0;
    }
    out[got] = '\0';
    return (size_t)got;
}

size_t nick_clean_text(const char *name, char *out, size_t len)
{
    int32_t n = 0;
    UChar *u;
    size_t got;

    if (len == 0)
        return 0;
    out[0] = '\0';
    if (len > INT32_MAX || !(u = nick__utf16(name, &n)))
        return 0;
    n = nick__clean16(u, n, len - 1, NULL);
    got = nick__utf8(u, n, out, len);
    free(u);
    return got;
}

static int nick__rtl(UChar32 c)
{
    UCharDirection d = u_charDirection(c);
    return d == U_RIGHT_TO_LEFT || d == U_RIGHT_TO_LEFT_ARABIC;
}

/* RFC 3454 §6 on u[0..*n): when right-to-left and left-to-right letters
 * mix, the letters of the other direction than the first strong one go;
 * a right-to-left result loses what precedes its first and follows its
 * last right-to-left character. */
static void nick__bidi(UChar *u, int32_t *n)
{
    int32_t i = 0, o = 0, first = -1, end = 0;
    int rtl = -1;

    while (i < *n && rtl < 0) {
        UChar32 c;
        U16_NEXT(u, i, *n, c);
        rtl = nick__rtl(c) ? 1 : u_charDirection(c) == U_LEFT_TO_RIGHT ? 0 : -1;
    }
    for (i = 0; i < *n;) {
        int32_t at = i;
        UChar32 c;
        U16_NEXT(u, i, *n, c);
        if (rtl == 0 && nick__rtl(c))
            continue;
        if (rtl == 1 && u_charDirection(c) == U_LEFT_TO_RIGHT)
            continue;
        if (rtl == 1 && nick__rtl(c) && first < 0)
            first = o;
        memmove(u + o, u + at, (size_t)(i - at) * sizeof *u);
        o += i - at;
        if (rtl == 1 && nick__rtl(c))
            end = o;
    }
    if (rtl == 1) {
        memmove(u, u + first, (size_t)(end - first) * sizeof *u);
        o = end - first;
    }
    *n = o;
}

/* One round: clean, filter and cut u[0..n) (changed in place), then
 * resourceprep it into dst (NICK__PREP_MAX units). Its length, or 0 when
 * nothing usable is left. */
static int32_t nick__round(const UStringPrepProfile *prep, UChar *u, int32_t n,
                           UChar *dst)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t dn;

    n = nick__clean16(u, n, SIZE_MAX, prep);
    nick__bidi(u, &n);
    n = nick__clean16(u, n, NICK_MAX, NULL);
    nick__bidi(u, &n); /* the cut may leave a neutral last */
    if (n == 0)
        return 0;
    dn = usprep_prepare(prep, u, n, dst, NICK__PREP_MAX, USPREP_DEFAULT, NULL,
                        &st);
    return U_FAILURE(st) ? 0 : dn;
}

/* Clean, filter and resourceprep u[0..n) into out; 0 or -1. Resourceprep's
 * NFKC can make what cleaning takes away (U+00A8 DIAERESIS becomes a space
 * and a combining mark, next to another space): the result goes round
 * again until a round leaves it as it is (a few rounds at most), so a nick
 * made from a nick is the same nick. */
static int nick__make(const UStringPrepProfile *prep, UChar *u, int32_t n,
                      char *out, size_t len)
{
    UChar cur[NICK__PREP_MAX], next[NICK__PREP_MAX], work[NICK__PREP_MAX];
    int32_t dn = nick__round(prep, u, n, cur);

    for (int round = 0; dn > 0 && round < 4; round++) {
        memcpy(work, cur, (size_t)dn * sizeof *cur);
        int32_t again = nick__round(prep, work, dn, next);
        if (again == dn && !memcmp(next, cur, (size_t)dn * sizeof *cur))
            break;
        memcpy(cur, next, (size_t)again * sizeof *cur);
        dn = again;
    }
    if (dn == 0)
        return -1;
    return nick__utf8(cur, dn, out, len) > 0 && strlen(out) <= NICK_MAX ? 0
                                                                        : -1;
}

int nick_from_name(const char *name, char *out, size_t len)
{
    UErrorCode st = U_ZERO_ERROR;
    UStringPrepProfile *prep;
    int32_t n = 0;
    UChar *u;
    int rc = -1;

    if (len < NICK_MAX + 1)
        return -1;
    out[0] = '\0';
    prep = usprep_openByType(USPREP_RFC3920_RESOURCEPREP, &st);
    if (U_FAILURE(st))
        return -1;
    if ((u = nick__utf16(name, &n))) {
        rc = nick__make(prep, u, n, out, len);
        free(u);
    }
    usprep_close(prep);
    if (rc != 0)
        out[0] = '\0';
    return rc;
}
