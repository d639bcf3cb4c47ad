/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_dns_mx.c - libFuzzer target: MX rdata from DNS (base/dns.c
 * dns_rdata_mx()), as dns_lookup() turns it into text for dns-check's
 * return-path check and the RFC 9989 walk's np= test.
 *
 * Input: the rdata (preference, exchange). On an exact-size copy; the
 * result is NULL or "PREF NAME." with PREF at most 65535, NAME "." or
 * labels of 1 to 63 bytes of letters, digits, '-', '_' and '?', each
 * ending in '.', at most 254 bytes in all; never a read past the input.
 */
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "fuzz.h"

/* fuzz_setup - nothing to prepare */
void fuzz_setup(void)
{
}

/* check - the form of a result */
static void check(const char *s)
{
    const char *sp = strchr(s, ' '), *p;
    char *end;
    unsigned long pref = strtoul(s, &end, 10);
    size_t label = 0;

    if (sp == NULL || end != sp || sp == s || pref > 65535 || strlen(sp + 1) > DNS_NAME_MAX + 1
        || sp[strlen(sp) - 1] != '.')
        abort();
    if (strcmp(sp + 1, ".") == 0)
        return;
    for (p = sp + 1; *p; p++) {
        if (*p == '.') {
            if (label == 0)
                abort();
            label = 0;
        } else if (++label > DNS_LABEL_MAX
                   || strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_?", *p)
                   == NULL) {
            abort();
        }
    }
}

/* LLVMFuzzerTestOneInput - one MX rdata */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *copy;
    char *s;

    if (size > FUZZ_MAX_INPUT)
        return -1;
    /* an exact-size copy, so that ASan sees any read past the end */
    if ((copy = malloc(size ? size : 1)) == NULL)
        abort();
    memcpy(copy, data, size);
    if ((s = dns_rdata_mx(copy, size)) != NULL) {
        check(s);
        free(s);
    }
    free(copy);
    return 0;
}
