/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_dataset.c - libFuzzer target: OpenDKIM datasets (dataset.c) as a
 * flat file, as a "refile:" and as an inline "csl:" list, and
 * dataset_wildmatch().
 *
 * The whole input is the dataset; its first line is also a wildcard
 * pattern matched against the second line and every key loaded.
 */
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "fuzz.h"
#include "util.h"

/* check - a loaded dataset must be well formed */
static void check(const DATASET *ds, const char *pattern)
{
    for (size_t i = 0; i < ds->n; i++) {
        if (ds->ent[i].key == NULL || ds->ent[i].key[0] == 0 || ds->ent[i].file == NULL)
            abort();
        (void) dataset_wildmatch(pattern, ds->ent[i].key);
    }
}

/* LLVMFuzzerTestOneInput - one dataset, three ways */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line[3], *spec, *list;
    const char *path;
    DATASET *ds;
    BUF errs;

    if (size > FUZZ_MAX_INPUT)
        return -1;
    (void) fuzz_split(data, size, "\n", line, 3);
    (void) dataset_wildmatch(line[0], line[1]);
    buf_init(&errs, 16 * 1024);
    path = fuzz_file("dataset", data, size);
    for (int re = 0; re < 2; re++) {
        spec = xasprintf("%s%s", re ? "refile:" : "file:", path);
        if ((ds = dataset_load(spec, "fuzz.conf:1", &errs)) != NULL) {
            check(ds, line[0]);
            dataset_free(ds);
        }
        free(spec);
        buf_reset(&errs);
    }
    /* inline: never a path, so the fuzzer cannot make it open files */
    list = fuzz_str(data, size);
    spec = xasprintf("csl:%s", list);
    if ((ds = dataset_load(spec, NULL, &errs)) != NULL) {
        check(ds, line[0]);
        dataset_free(ds);
    }
    free(spec);
    free(list);
    buf_free(&errs);
    fuzz_free_parts(line, 3);
    return 0;
}
