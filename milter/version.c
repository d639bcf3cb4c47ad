/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * version.c - the version report of txmilter -V.
 *
 * SYNOPSIS
 *	#include "version.h"
 *
 *	void	version_print(FILE *fp)
 *
 * DESCRIPTION
 *	version_print() writes the program's version, then each linked
 *	library's run-time version and the features txmilter relies on
 *	(Ed25519 and oversigning in libopendkim). A missing feature is
 *	reported, not hidden: signing with Ed25519 needs it. Libraries
 *	without a run-time version call show the version compiled against.
 *
 * DIAGNOSTICS
 *	None: a library without a run-time version call shows the version
 *	compiled against, and a missing libopendkim feature is printed as
 *	NO.
 */
#include "config.h"

#include <netinet/in.h>

#include <hiredis/hiredis.h>
#include <idn2.h>
#include <libmilter/mfapi.h>
#include <opendkim/dkim.h>
#include <openssl/crypto.h>
#include <spf2/spf_lib_version.h>
#include <sqlite3.h>
#include <unbound.h>

#include "version.h"

void version_print(FILE *fp)
{
    unsigned int major = 0, minor = 0, pl = 0;
    uint32_t dv = dkim_libversion();
    DKIM_LIB *lib = dkim_init(NULL, NULL);

    fprintf(fp, "txmilter %s\n", PACKAGE_VERSION);
    if (smfi_version(&major, &minor, &pl) == MI_SUCCESS)
        fprintf(fp, "  libmilter API %u.%u.%u (compiled for 0x%08x)\n", major, minor, pl,
                (unsigned) SMFI_VERSION);
    fprintf(fp, "  libopendkim %u.%u.%u", (dv >> 24) & 0xff, (dv >> 16) & 0xff, (dv >> 8) & 0xff);
    if (lib) {
        fprintf(fp, " (ed25519 %s, sha256 %s, oversign %s)",
                dkim_libfeature(lib, DKIM_FEATURE_ED25519) ? "yes" : "NO",
                dkim_libfeature(lib, DKIM_FEATURE_SHA256) ? "yes" : "NO",
                dkim_libfeature(lib, DKIM_FEATURE_OVERSIGN) ? "yes" : "NO");
        dkim_close(lib);
    }
    fputc('\n', fp);
    fprintf(fp, "  %s\n", OpenSSL_version(OPENSSL_VERSION));
    fprintf(fp, "  libunbound %s\n", ub_version());
    fprintf(fp, "  libspf2 %d.%d.%d (compiled against)\n", SPF_LIB_VERSION_MAJOR, SPF_LIB_VERSION_MINOR,
            SPF_LIB_VERSION_PATCH);
    fprintf(fp, "  libopendmarc (no version interface)\n");
    fprintf(fp, "  hiredis %d.%d.%d (compiled against; no TLS)\n", HIREDIS_MAJOR, HIREDIS_MINOR,
            HIREDIS_PATCH);
    fprintf(fp, "  SQLite %s\n", sqlite3_libversion());
    fprintf(fp, "  libidn2 %s\n", idn2_check_version(NULL));
}
