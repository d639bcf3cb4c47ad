/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_migrate.c - OpenDKIM directives txmilter has no row for
 *
 * SYNOPSIS
 *	#include "conf_migrate.h"
 *
 *	enum conf_migrate conf_migrate_check(const char *name,
 *			const char *value, BUF *msg)
 *
 * DESCRIPTION
 *	An opendkim.conf copied over should either work or say, line by
 *	line, what to write instead. conf_migrate_check() looks name up (any
 *	case) in one table of every opendkim.conf(5) directive that
 *	conf.c's directive table does not hold:
 *
 *	CONF_MIGRATE_SAME: txmilter always does what this value asks
 *	(SyslogSuccess yes, AutoRestart no, SignatureAlgorithm rsa-sha256,
 *	ExternalIgnoreList, which only quiets a log line txmilter never
 *	writes, ...), so the line is accepted and changes nothing.
 *
 *	CONF_MIGRATE_IGNORED: the directive only concerns verifying (and
 *	its reports), which txmilter does not do; accepted, with a warning
 *	appended to msg.
 *
 *	CONF_MIGRATE_REFUSED: any other value, or a directive with no
 *	equivalent; "Name [value] is not supported: hint" is appended to
 *	msg.
 *
 *	CONF_MIGRATE_UNKNOWN: not an OpenDKIM directive either.
 *
 *	Boolean values are compared in OpenDKIM's spellings (yes, true, 1;
 *	no, false, 0), other values ignoring case.
 *
 * DIAGNOSTICS
 *	None of its own: the outcome and msg (cut at its bound) tell
 *	conf.c what to report at the line's file:line.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf_migrate.h"

/* What txmilter does instead, for the hints. */
#define M_VERIFY	"it concerns verifying, and txmilter only signs " \
			"(keep OpenDKIM or OpenDMARC for inbound mail)"
#define M_RESTART	"systemd restarts txmilter: set Restart=on-failure (and " \
			"StartLimitBurst=, StartLimitIntervalSec=) in txmilter.service"
#define M_LDAP		"txmilter has no LDAP or SQL datasets: export the table to a " \
			"file (or refile:) and name that"
#define M_LUA		"txmilter runs no Lua: choose keys with KeyTable and SigningTable, " \
			"limits with RateLimitPolicy"
#define M_LENGTH	"txmilter signs the whole body and never sets l= (it would let " \
			"anyone append text to a signed message)"
#define M_SENDER	"txmilter picks keys by the domain of the From field, which is " \
			"what DMARC aligns to"
#define M_OUTBOUND	"txmilter signs mail from InternalHosts, SMTP-authenticated " \
			"clients and the MTA names listed in MTA ({daemon_name}); list " \
			"the relaying hosts there"
#define M_STATS		"use \"txmilterctl stats\" and the one log line per message"
#define M_VBR		"txmilter adds no VBR-Info field (RFC 5518)"
#define M_REWRITE	"txmilter does not rewrite header fields"
#define M_IDENTITY	"the i= tag comes from the SigningTable's third column " \
			"(e.g. \"*@example.com mykey @example.com\")"
#define M_DEBUG		"set LogWhy yes: it logs why each message was or was not signed"
#define M_HEADERS	"txmilter checks the From field itself (On-MultipleFrom); " \
			"Postfix checks the rest"

typedef struct conf_migrate_row {
    const char *name;
    const char *same;           /* the value txmilter always honours; "*": any; NULL: none */
    int     ignored;            /* verifying only: accepted with a warning */
    const char *hint;
} CONF_MIGRATE_ROW;

static const CONF_MIGRATE_ROW conf_migrate_rows[] = {
    {"AlwaysAddARHeader", NULL, 1, M_VERIFY},
    {"AuthservID", NULL, 1, M_VERIFY},
    {"AuthservIDWithJobID", NULL, 1, M_VERIFY},
    {"AutoRestart", "no", 0, M_RESTART},
    {"AutoRestartCount", NULL, 0, M_RESTART},
    {"AutoRestartRate", NULL, 0, M_RESTART},
    {"Background", "yes", 0, "txmilter detaches unless started with -f "
     "(txmilter.service runs it with -f)"},
    {"BaseDirectory", NULL, 0, "txmilter does not change directory: give absolute paths"},
    {"BodyLengthDB", NULL, 0, M_LENGTH},
    {"BogusKey", NULL, 1, M_VERIFY},
    {"CaptureUnknownErrors", "no", 0, "internal errors defer the message (4xx) "
     "and are logged; nothing is quarantined"},
    {"ChangeRootDirectory", NULL, 0, "confine txmilter with systemd instead "
     "(RootDirectory=, ProtectSystem=strict in txmilter.service)"},
    {"ClockDrift", NULL, 1, M_VERIFY},
    {"DiagnosticDirectory", NULL, 0, M_DEBUG},
    {"Diagnostics", "no", 0, "txmilter adds no z= tag (copied header fields)"},
    {"DisableCryptoInit", "no", 0, "txmilter initialises OpenSSL itself"},
    {"DNSConnect", "no", 0, "the resolver (libunbound) switches to TCP by itself "
     "when an answer needs it"},
    {"DomainKeysCompat", NULL, 1, M_VERIFY},
    {"DontSignMailTo", NULL, 0, "txmilter has no per-recipient exception: it signs "
     "every outbound message the SigningTable covers"},
    {"EnableCoredumps", "no", 0, "core dumps are systemd's: LimitCORE= in "
     "txmilter.service"},
    {"ExemptDomains", NULL, 0, "list in the SigningTable only the domains to sign; "
     "mail from the others follows On-NoKey"},
    {"ExternalIgnoreList", "*", 0, NULL},  /* it only quiets a log line txmilter never writes */
    {"FinalPolicyScript", NULL, 0, M_LUA},
    {"FixCRLF", "no", 0, "Postfix hands over CRLF line ends; txmilter signs the "
     "message as received"},
    {"IdentityHeader", NULL, 0, M_IDENTITY},
    {"IdentityHeaderRemove", NULL, 0, M_IDENTITY},
    {"IgnoreMalformedMail", "no", 0, M_HEADERS},
    {"Include", NULL, 0, "txmilter reads one file: copy the included directives into it"},
    {"KeepAuthResults", NULL, 1, M_VERIFY},
    {"KeepTemporaryFiles", "no", 0, "txmilter writes no temporary files (it hashes "
     "the body as it arrives)"},
    {"LDAPAuthMechanism", NULL, 0, M_LDAP},
    {"LDAPAuthName", NULL, 0, M_LDAP},
    {"LDAPAuthRealm", NULL, 0, M_LDAP},
    {"LDAPAuthUser", NULL, 0, M_LDAP},
    {"LDAPBindPassword", NULL, 0, M_LDAP},
    {"LDAPBindUser", NULL, 0, M_LDAP},
    {"LDAPDisableCache", NULL, 0, M_LDAP},
    {"LDAPKeepaliveIdle", NULL, 0, M_LDAP},
    {"LDAPKeepaliveInterval", NULL, 0, M_LDAP},
    {"LDAPKeepaliveProbes", NULL, 0, M_LDAP},
    {"LDAPTimeout", NULL, 0, M_LDAP},
    {"LDAPUseTLS", NULL, 0, M_LDAP},
    {"LogResults", NULL, 1, M_VERIFY},
    {"MacroList", NULL, 0, M_OUTBOUND},
    {"MaximumSignaturesToVerify", NULL, 1, M_VERIFY},
    {"MaximumSignedBytes", NULL, 0, M_LENGTH},
    {"MilterDebug", "0", 0, M_DEBUG},
    {"Minimum", NULL, 1, M_VERIFY},
    {"MinimumKeyBits", NULL, 1, M_VERIFY},
    {"MTACommand", NULL, 1, M_VERIFY},
    {"MustBeSigned", NULL, 1, M_VERIFY},
    {"NoHeaderB", NULL, 1, M_VERIFY},
    {"OmitHeaders", NULL, 0, "txmilter signs only the fields named in SignHeaders: "
     "leave the ones to omit out of that list"},
    {"On-BadSignature", NULL, 1, M_VERIFY},
    {"On-Default", NULL, 0, "set each case that applies to signing: On-NoKey, "
     "On-SignatureError, On-DNSError, On-MultipleFrom"},
    {"On-InternalError", "tempfail", 0, "an internal error always defers the message (4xx)"},
    {"On-KeyNotFound", NULL, 1, M_VERIFY},
    {"On-NoSignature", NULL, 1, M_VERIFY},
    {"On-Security", NULL, 1, M_VERIFY},
    {"PeerList", NULL, 0, "mail from clients that are neither InternalHosts nor "
     "authenticated already passes untouched: remove it"},
    {"POPDBFile", NULL, 0, "txmilter has no POP-before-SMTP: use SMTP AUTH "
     "(authenticated clients count as outbound)"},
    {"Quarantine", NULL, 1, M_VERIFY},
    {"QueryCache", "yes", 0, "the resolver (libunbound) always caches answers"},
    {"RedirectFailuresTo", NULL, 1, M_VERIFY},
    {"RemoveARAll", NULL, 1, M_VERIFY},
    {"RemoveARFrom", NULL, 1, M_VERIFY},
    {"RemoveOldSignatures", "no", 0, "txmilter keeps the signatures a message "
     "already carries"},
    {"ReplaceHeaders", NULL, 0, M_REWRITE},
    {"ReplaceRules", NULL, 0, M_REWRITE},
    {"ReportAddress", NULL, 1, M_VERIFY},
    {"ReportBccAddress", NULL, 1, M_VERIFY},
    {"RequestReports", "no", 0, "txmilter adds no r=y tag"},
    {"RequiredHeaders", "no", 0, M_HEADERS},
    {"ResignAll", NULL, 0, M_OUTBOUND},
    {"ResignMailTo", NULL, 0, M_OUTBOUND},
    {"ResolverConfiguration", NULL, 0, "set Nameservers, TrustAnchorFile and "
     "DNSTimeout instead"},
    {"ResolverTracing", "no", 0, M_DEBUG},
    {"ScreenPolicyScript", NULL, 0, M_LUA},
    {"SelectCanonicalizationHeader", NULL, 0, "one Canonicalization applies to all mail"},
    {"SenderHeaders", NULL, 0, M_SENDER},
    {"SenderMacro", NULL, 0, M_SENDER},
    {"SendReports", NULL, 1, M_VERIFY},
    {"SetupPolicyScript", NULL, 0, M_LUA},
    {"SignatureAlgorithm", "rsa-sha256", 0, "the key decides: an RSA key signs "
     "rsa-sha256, an Ed25519 key ed25519-sha256 (list both in the KeyTable with "
     "MultipleSignatures yes to sign twice); rsa-sha1 is not offered (RFC 8301)"},
    {"SignatureTTL", NULL, 0, "txmilter sets no x= expiry: remove it"},
    {"SMTPURI", NULL, 1, M_VERIFY},
    {"SoftStart", "no", 0, "txmilter has no LDAP or SQL datasets to wait for"},
    {"SoftwareHeader", "no", 0, "txmilter adds no DKIM-Filter field"},
    {"Statistics", NULL, 0, M_STATS},
    {"StatisticsName", NULL, 0, M_STATS},
    {"StatisticsPolicyScript", NULL, 0, M_LUA},
    {"StatisticsPrefix", NULL, 0, M_STATS},
    {"StrictHeaders", NULL, 1, M_VERIFY},
    {"StrictTestMode", "no", 0, "test a message offline with txmilter -t"},
    {"SyslogName", "txmilter", 0, "txmilter always logs under the name txmilter"},
    {"SyslogSuccess", "yes", 0, "txmilter always logs one line for each message it "
     "signs"},
    {"TemporaryDirectory", "*", 0, NULL},  /* txmilter writes no temporary files */
    {"TestDNSData", NULL, 0, "point Nameservers at a test resolver (127.0.0.1@PORT)"},
    {"TestPublicKeys", NULL, 1, M_VERIFY},
    {"TrustSignaturesFrom", NULL, 1, M_VERIFY},
    {"UnprotectedKey", NULL, 1, M_VERIFY},
    {"VBR-Certifiers", NULL, 0, M_VBR},
    {"VBR-PurgeFields", NULL, 0, M_VBR},
    {"VBR-TrustedCertifiers", NULL, 1, M_VERIFY},
    {"VBR-TrustedCertifiersOnly", NULL, 1, M_VERIFY},
    {"VBR-Type", NULL, 0, M_VBR},
    {"WeakSyntaxChecks", NULL, 1, M_VERIFY},
};

#define CONF_MIGRATE_NROWS (sizeof(conf_migrate_rows) / sizeof(conf_migrate_rows[0]))

/* conf_migrate_bool - OpenDKIM's boolean spellings as "yes"/"no", else value */
static const char *conf_migrate_bool(const char *value)
{
    static const char *const yes[] = {"yes", "true", "1", "t", "y"};
    static const char *const no[] = {"no", "false", "0", "f", "n"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(value, yes[i]) == 0)
            return "yes";
        if (strcasecmp(value, no[i]) == 0)
            return "no";
    }
    return value;
}

/* conf_migrate_check - accepted, ignored or refused, with the hint */
enum conf_migrate conf_migrate_check(const char *name, const char *value, BUF *msg)
{
    const CONF_MIGRATE_ROW *r = NULL;

    for (size_t i = 0; i < CONF_MIGRATE_NROWS; i++)
        if (strcasecmp(conf_migrate_rows[i].name, name) == 0) {
            r = &conf_migrate_rows[i];
            break;
        }
    if (r == NULL)
        return CONF_MIGRATE_UNKNOWN;
    if (value == NULL)
        value = "";
    if (r->same && (strcmp(r->same, "*") == 0 || strcasecmp(value, r->same) == 0
                    || strcasecmp(conf_migrate_bool(value), r->same) == 0))
        return CONF_MIGRATE_SAME;
    if (r->ignored) {
        (void) util_err(msg, "%s is ignored: %s", r->name, r->hint);
        return CONF_MIGRATE_IGNORED;
    }
    if (r->same)
        (void) util_err(msg, "%s %s is not supported: %s", r->name, value, r->hint);
    else
        (void) util_err(msg, "%s is not supported: %s", r->name, r->hint);
    return CONF_MIGRATE_REFUSED;
}
