/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_metrics.c - libFuzzer target: what a scraper's request and the
 * counted values reach in the metrics code: the HTTP Accept header
 * (metrics_accept_openmetrics()) and label values written out in both
 * exposition formats (metrics_render()).
 *
 * Input lines: 1 the Accept header value; each further line a label
 * value (any bytes). The target aborts if an exposition line is not a
 * comment or a sample of its family, if a sample line holds a raw
 * control byte, or if OpenMetrics does not end in "# EOF".
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "metrics.h"
#include "util.h"

/* fuzz_setup - nothing to prepare */
void fuzz_setup(void)
{
}

/* check_lines - every line a comment or a sample of fz */
static void check_lines(const BUF *out, int om)
{
    const char *p = out->data ? out->data : "", *end = p + out->len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));

        if (nl == NULL)
            abort();                        /* every line ends */
        if (strncmp(p, "# ", 2) != 0 && strncmp(p, "fz", 2) != 0)
            abort();
        for (const char *c = p; c < nl; c++)
            if ((unsigned char) *c < 0x20)
                abort();
        p = nl + 1;
    }
    if (om && (out->len < 6 || strcmp(out->data + out->len - 6, "# EOF\n") != 0))
        abort();
}

/* LLVMFuzzerTestOneInput - one Accept header, some label values */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const double b[] = {0.1, 1};
    char *part[9];
    METRICS *reg;
    METRICS_FAMILY *c, *h;
    BUF out;
    int om;

    if (size > FUZZ_MAX_INPUT)
        return -1;
    (void) fuzz_split(data, size, "\n", part, 9);
    om = metrics_accept_openmetrics(part[0]);
    if (om != 0 && om != 1)
        abort();
    reg = metrics_new();
    c = metrics_family(reg, METRICS_COUNTER, "fz_total", "C \\ \"x\".", "a,b", 4, NULL, 0);
    h = metrics_family(reg, METRICS_HISTOGRAM, "fz_seconds", "H.", "s", 2, b, 2);
    if (c == NULL || h == NULL)
        abort();
    for (int i = 1; i < 8; i++) {
        metrics_inc(c, METRICS_L(part[i], part[i + 1]));
        metrics_observe(h, metrics_series(h, METRICS_L(part[i])), (double) strlen(part[i]) / 10);
    }
    buf_init(&out, 1 << 20);
    if (metrics_render(reg, om, &out) < 0)
        abort();
    check_lines(&out, om);
    buf_reset(&out);
    if (metrics_render(reg, !om, &out) < 0)
        abort();
    check_lines(&out, !om);
    buf_free(&out);
    metrics_free(reg);
    fuzz_free_parts(part, 9);
    return 0;
}
