/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testsnap.c - the configuration snapshot fixture of testutil.h
 * (th_snapshot(), th_tables_snapshot()), in a file of its own: only the tests that build a
 * snapshot link the pipeline's snapshot.c and what it needs, so a test
 * that replaces a function of the resolver (test_dns_spf) links alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "snapshot.h"
#include "testutil.h"

/* th_snapshot - a snapshot of conf, written as dir/txmilter.conf */
SNAPSHOT *th_snapshot(const char *dir, const char *conf)
{
    char path[512];
    BUF errs;
    SNAPSHOT *s;

    th_write_file(dir, "txmilter.conf", conf, 0644);
    snprintf(path, sizeof(path), "%s/txmilter.conf", dir);
    buf_init(&errs, 8192);
    s = snapshot_build(path, &errs);
    if (s == NULL)
        fail_msg("snapshot: %s", errs.data);
    buf_free(&errs);
    return s;
}

/* th_tables_snapshot - the signing tables in dir, and the blocks given */
SNAPSHOT *th_tables_snapshot(const char *dir, ...)
{
    const char *block;
    SNAPSHOT *s;
    va_list ap;
    BUF conf;

    buf_init(&conf, 8192);
    if (buf_printf(&conf, "Syslog no\nKeyTable %s/KeyTable\nSigningTable refile:%s/SigningTable\n",
                   dir, dir) < 0)
        fail_msg("configuration for %s too long", dir);
    va_start(ap, dir);
    while ((block = va_arg(ap, const char *)) != NULL)
        if (buf_puts(&conf, block) < 0)
            fail_msg("configuration too long at \"%.40s\"", block);
    va_end(ap);
    s = th_snapshot(dir, conf.data);
    buf_free(&conf);
    return s;
}
