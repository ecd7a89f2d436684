/* fuzz_office_hours.c - libFuzzer target: the office-hours parsers
 * (component/domain/office_hours.c: the week and the holidays).
 *
 * Input: the week text, a NUL, the holidays text, a NUL, then bytes that
 * pick a timezone from a fixed list and instants to ask about (missing
 * parts are empty). Besides ASan, UBSan and LeakSanitizer, the target
 * aborts when a contract of office_hours.h breaks:
 *  - a refused text leaves the struct unchanged and says why in err;
 *  - an accepted one formats into a canonical text that parses back to the
 *    same ranges or holidays and formats the same (parse(format(x)) == x);
 *  - ranges are in [0, 1440) / (0, 1440], sorted, at most
 *    OH_RANGES_PER_DAY a day; holidays sorted without duplicates;
 *  - office_hours_is_open() answers for any instant without crashing.
 * Seeds: corpus-office-hours/.
 */
#include "domain/office_hours.h"
#include "fuzz_input.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_OH_TEXT (OH_TEXT_MAX * 2) /* bytes of a text tried */

static const char *const fuzz_oh__zones[] = {"UTC",
                                             "Europe/Berlin",
                                             "America/New_York",
                                             "Australia/Lord_Howe",
                                             "Asia/Kathmandu",
                                             "Pacific/Chatham",
                                             "America/St_Johns",
                                             "Etc/GMT+12"};

static void fuzz_oh__fail(const char *what, const char *text)
{
    fprintf(stderr, "fuzz_office_hours: %s: \"%s\"\n", what, text);
    abort();
}

static void fuzz_oh__shape(const struct office_hours *oh, const char *text)
{
    for (int d = 0; d < 7; d++) {
        if (oh->n_ranges[d] > OH_RANGES_PER_DAY)
            fuzz_oh__fail("too many ranges", text);
        for (int i = 0; i < oh->n_ranges[d]; i++) {
            const struct oh_range *r = &oh->ranges[d][i];
            if (r->start < 0 || r->start >= 1440 || r->end <= 0 ||
                r->end > 1440 || (i && r->start < r[-1].start))
                fuzz_oh__fail("a range out of bounds or order", text);
        }
    }
    if (oh->n_holidays > OH_HOLIDAYS_MAX)
        fuzz_oh__fail("too many holidays", text);
    for (size_t i = 1; i < oh->n_holidays; i++)
        if (oh->holidays[i] <= oh->holidays[i - 1])
            fuzz_oh__fail("holidays not sorted or repeated", text);
}

/* parse(text) on oh: refused leaves oh as it was; accepted round-trips
 * through the canonical form. week: 1 the week parser, 0 the holidays. */
static void fuzz_oh__parse(struct office_hours *oh, const char *text, int week)
{
    static char canon[2][OH_TEXT_MAX * 4];
    struct office_hours before = *oh, again;
    char err[256] = "";
    int (*parse)(struct office_hours *, const char *, char *, size_t) =
        week ? office_hours_parse_week : office_hours_parse_holidays;
    int (*format)(const struct office_hours *, char *, size_t) =
        week ? office_hours_format_week : office_hours_format_holidays;
    if (parse(oh, text, err, sizeof err) != 0) {
        if (memcmp(&before, oh, sizeof before) || !err[0])
            fuzz_oh__fail("a refusal changed the hours or gave no reason",
                          text);
        return;
    }
    fuzz_oh__shape(oh, text);
    if (format(oh, canon[0], sizeof canon[0]) != 0)
        return; /* longer than any buffer a caller has: nothing to check */
    again = *oh;
    if (parse(&again, canon[0], err, sizeof err) != 0)
        fuzz_oh__fail("the canonical form does not parse", canon[0]);
    if (format(&again, canon[1], sizeof canon[1]) != 0 ||
        strcmp(canon[0], canon[1]))
        fuzz_oh__fail("the canonical form changes when parsed", canon[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char week[FUZZ_OH_TEXT], holidays[FUZZ_OH_TEXT];
    struct office_hours oh;
    char err[256];
    size_t at = 0;
    office_hours_init(&oh);
    fuzz_input_part(data, size, &at, week, sizeof week);
    fuzz_input_part(data, size, &at, holidays, sizeof holidays);
    fuzz_oh__parse(&oh, week, 1);
    fuzz_oh__parse(&oh, holidays, 0);
    if (at < size) {
        size_t nz = sizeof fuzz_oh__zones / sizeof *fuzz_oh__zones;
        if (office_hours_set_timezone(&oh, fuzz_oh__zones[data[at++] % nz], err,
                                      sizeof err) != 0)
            fuzz_oh__fail("a zone of the list refused", err);
    }
    /* instants: 4 bytes each, seconds from 1970 to 2106 */
    for (int i = 0; i < 4 && at + 4 <= size; i++, at += 4) {
        uint32_t t = (uint32_t)data[at] << 24 | (uint32_t)data[at + 1] << 16 |
                     (uint32_t)data[at + 2] << 8 | data[at + 3];
        (void)office_hours_is_open(&oh, (time_t)t);
    }
    return 0;
}
