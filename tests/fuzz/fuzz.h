/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz.h - what the libFuzzer targets in tests/fuzz share: the entry
 * point's prototype, bounded copies of the input, splitting it into
 * fields, and a private scratch file for parsers that read a file.
 */
#ifndef TX_FUZZ_H
#define TX_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

/* The input bound every target applies (libFuzzer's -max_len is lower). */
#define FUZZ_MAX_INPUT (64 * 1024)

/* libFuzzer's entry points: each target defines LLVMFuzzerTestOneInput();
 * LLVMFuzzerInitialize() (fuzz_util.c) silences the log, for a target
 * that logs every input runs slowly, and calls the target's
 * fuzz_setup() if it has one. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
void fuzz_setup(void);

/* FUZZ_ERR - the BUF *err of a call, over the array arr (emptied), whose
 * reason the target then reads as the string arr */
#define FUZZ_ERR(arr) buf_init_fixed(&(BUF) {0}, (arr), sizeof(arr))

/* fuzz_str - a malloc'd NUL-terminated copy of size bytes of data (a NUL
 * byte inside ends the C string early, as it would in the daemon) */
char *fuzz_str(const void *data, size_t size);

/* fuzz_split - cut data at each of the first max - 1 occurrences of sep
 * into malloc'd NUL-terminated parts (the last holds the rest); the parts
 * not present are "". Returns how many separators were found. */
size_t fuzz_split(const uint8_t *data, size_t size, const char *sep, char **parts, size_t max);

/* fuzz_free_parts - free what fuzz_split() made */
void fuzz_free_parts(char **parts, size_t max);

/* fuzz_file - write size bytes of data to the file name in the process's
 * scratch directory (made on first use under $TMPDIR, removed at exit)
 * and return its path (static storage, until the next call with name) */
const char *fuzz_file(const char *name, const void *data, size_t size);

/* fuzz_dir - the scratch directory itself */
const char *fuzz_dir(void);

/* fuzz_new_key - a new private key of type alg ("RSA" with bits, or
 * "ED25519"), as a malloc'd PEM text */
char *fuzz_new_key(const char *alg, int bits);

/* FUZZ_NOW - the token targets' fixed clock: 2026-01-01 */
#define FUZZ_NOW 1767225600u

/* fuzz_token_keys - the fixed test keys of tests/unit/test_unsub_token.c
 * (ids 1 and 7; 7 seals), written to a scratch file and loaded; abort()
 * if they cannot be */
struct unsub_keys *fuzz_token_keys(void);

/* fuzz_first_record - the first line of a zone text (malloc'd), and in
 * *value the record after its name */
char *fuzz_first_record(const char *zone, char **value);

/* fuzz_zone_lookup - a DNS_LOOKUP_FN over a zone in text (ctx, a C
 * string): one "name value" line per TXT record, names compared ignoring
 * case; "name !" makes the name fail temporarily; a name without a line
 * does not exist. At most DNS_MAX_RR records per answer. */
void fuzz_zone_lookup(void *ctx, const char *name, int rrtype, DNS_ANSWER *ans);

#endif
