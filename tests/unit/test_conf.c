/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_conf.c - unit tests for conf.c: every directive, its default, its
 * accepted spellings and every error message with its file:line; the
 * default header lists; conf_line() and conf_where().
 *
 * Every table row is one named cmocka test, so a failure names its case.
 * A row's configuration text is written to a file in /tmp ("%F" in the
 * expected errors); after a successful load every field the row does not
 * name must still hold its default, so a row that sets the wrong field
 * fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"
#include "conf.h"
#include "util.h"

static const char *const conf_fields[] = {
    "socket", "user", "pidfile", "umask", "syslog", "facility", "logwhy",
    "shutdown_timeout", "max_headers", "internal_hosts", "mta", "keytable",
    "signingtable", "domain", "selector", "keyfile", "subdomains",
    "multiple_signatures", "canon", "sign_headers", "oversign_headers",
    "on_nokey", "on_sigerr", "on_multifrom", "ratelimit_policy", "store", "store_failure", "store_timeout",
    "store_connect_timeout", "store_retry", "ratelimit_max_keys", "recipient_delimiter",
    "control_socket", "unsub_keyfile", "unsub_url", "unsub_mailto", "unsub_exempt", "unsub_table",
    "unsub_listen", "unsub_replace", "unsub_scope_domain", "unsub_max_age", "unsub_trusted_proxy",
    "data_directory", "egress", "alignment_action", "psl", "nameservers", "trust_anchor",
    "dns_timeout", "on_dnserror",
    "control_socket_group", "control_socket_mode", "signing", "unsub_pidfile", "unsub_rate",
    "unsub_template_dir", "metrics_listen", "unsub_metrics_listen",
    "bounce_suppress_for", "bounce_soft_limit", "feedback_id", "return_path", "return_path_exempt", "dmarc_mode",
    "complaint_addrs", NULL,
};

#define DEF_SIGN "from,sender,reply-to,subject,date,message-id,to,cc,mime-version," \
    "content-type,content-transfer-encoding,content-id,content-description," \
    "resent-date,resent-from,resent-sender,resent-to,resent-cc,resent-message-id," \
    "in-reply-to,references,list-id,list-help,list-unsubscribe,list-subscribe," \
    "list-post,list-owner,list-archive,list-unsubscribe-post,feedback-id"
#define DEF_OVERSIGN "from,to,cc,subject,reply-to,date,message-id,content-type," \
    "list-unsubscribe,list-unsubscribe-post,feedback-id"

/* The expected defaults, in conf_fields order. */
static const char *const conf_field_defaults[] = {
    "unix:/run/txmilter/txmilter.sock", "(null)", "(null)", "007", "1", "mail", "0",
    "60", "1048576", "127.0.0.1, ::1", "(null)", "(null)",
    "(null)", "(null)", "(null)", "(null)", "0",
    "0", "relaxed/relaxed", DEF_SIGN, DEF_OVERSIGN,
    "accept", "tempfail", "reject", "(null)", "embedded", "local", "50",
    "100", "1000", "1000000", "+",
    "/run/txmilter/control.sock", "(null)", "(null)", "(null)", "(null)", "(null)",
    "127.0.0.1:8025", "0", "0", "0", "127.0.0.1, ::1",
    "/var/lib/txmilter", "", "unset", "/usr/share/publicsuffix/public_suffix_list.dat",
    "(null)", "(null)", "5", "tempfail",
    "(null)", "0600", "1", "(null)", "120/60000ms",
    "(null)", "(null)", "(null)",
    "0", "0/0ms", "(null)", "(null)", "(null)", "both",
    "",
};

/* render_facility - a syslog facility code back to its name */
static const char *render_facility(int code)
{
    static const struct { int code; const char *name; } f[] = {
        {LOG_MAIL, "mail"}, {LOG_DAEMON, "daemon"}, {LOG_USER, "user"},
        {LOG_LOCAL0, "local0"}, {LOG_LOCAL3, "local3"}, {LOG_LOCAL7, "local7"},
    };
    size_t i;

    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if (f[i].code == code)
            return f[i].name;
    return "other";
}

/* render_strv - items joined with ',' */
static void render_strv(const STRV *sv, char *buf, size_t size)
{
    size_t i;

    buf[0] = 0;
    for (i = 0; i < sv->n; i++) {
        assert_true(strlen(buf) + strlen(sv->v[i]) + 2 < size);
        if (i)
            strcat(buf, ",");
        strcat(buf, sv->v[i]);
    }
    assert_null(sv->v[sv->n]);
}

/* render_str_field - a string field of TXCONF as text; 0 if field is none */
static int render_str_field(const TXCONF *cf, const char *field, char *buf, size_t size)
{
    const char *s = NULL;
    int has_s = 1;

#define STRF(name, member) else if (strcmp(field, name) == 0) s = cf->member
    if (0) {
    }
    STRF("socket", daemon.socket);
    STRF("feedback_id", bounce.feedback_id);
    STRF("return_path", bounce.return_path);
    STRF("return_path_exempt", bounce.return_path_exempt);
    STRF("user", daemon.user);
    STRF("pidfile", daemon.pidfile);
    STRF("internal_hosts", outbound.internal_hosts);
    STRF("mta", outbound.mta);
    STRF("keytable", sign.keytable);
    STRF("signingtable", sign.signingtable);
    STRF("domain", sign.domain);
    STRF("selector", sign.selector);
    STRF("keyfile", sign.keyfile);
    STRF("ratelimit_policy", rate.policy);
    STRF("store", rate.store);
    STRF("recipient_delimiter", rate.recipient_delimiter);
    STRF("control_socket", daemon.control_socket);
    STRF("control_socket_group", daemon.control_socket_group);
    STRF("unsub_keyfile", unsub.keyfile);
    STRF("unsub_url", unsub.url);
    STRF("unsub_mailto", unsub.mailto);
    STRF("unsub_exempt", unsub.exempt);
    STRF("unsub_table", unsub.table);
    STRF("unsub_listen", unsubd.listen);
    STRF("unsub_trusted_proxy", unsubd.trusted_proxy);
    STRF("data_directory", unsub.data_directory);
    STRF("psl", align.public_suffix_list);
    STRF("nameservers", align.nameservers);
    STRF("trust_anchor", align.trust_anchor_file);
    STRF("unsub_pidfile", unsubd.pidfile);
    STRF("unsub_template_dir", unsubd.template_dir);
    STRF("metrics_listen", daemon.metrics_listen);
    STRF("unsub_metrics_listen", unsubd.metrics_listen);
    else
        has_s = 0;
#undef STRF
    if (has_s)
        snprintf(buf, size, "%s", s ? s : "(null)");
    return has_s;
}

/* render_field - one TXCONF field as text */
static const char *render_field(const TXCONF *cf, const char *field, char *buf, size_t size)
{
    static const char *const canon[] = {"relaxed", "simple"};
    static const char *const act[] = {"accept", "tempfail", "reject"};
    static const char *const storefail[] = {"local", "accept", "tempfail"};

    if (render_str_field(cf, field, buf, size))
        return buf;
    if (strcmp(field, "umask") == 0)
        snprintf(buf, size, "%03o", (unsigned) cf->daemon.umask);
    else if (strcmp(field, "syslog") == 0)
        snprintf(buf, size, "%d", cf->daemon.syslog);
    else if (strcmp(field, "facility") == 0)
        snprintf(buf, size, "%s", render_facility(cf->daemon.syslog_facility));
    else if (strcmp(field, "signing") == 0)
        snprintf(buf, size, "%d", cf->sign.signing);
    else if (strcmp(field, "logwhy") == 0)
        snprintf(buf, size, "%d", cf->daemon.logwhy);
    else if (strcmp(field, "shutdown_timeout") == 0)
        snprintf(buf, size, "%d", cf->daemon.shutdown_timeout);
    else if (strcmp(field, "max_headers") == 0)
        snprintf(buf, size, "%zu", cf->daemon.max_headers);
    else if (strcmp(field, "subdomains") == 0)
        snprintf(buf, size, "%d", cf->sign.subdomains);
    else if (strcmp(field, "multiple_signatures") == 0)
        snprintf(buf, size, "%d", cf->sign.multiple_signatures);
    else if (strcmp(field, "canon") == 0)
        snprintf(buf, size, "%s/%s", canon[cf->sign.hdr_canon], canon[cf->sign.body_canon]);
    else if (strcmp(field, "sign_headers") == 0)
        render_strv(&cf->sign.sign_headers, buf, size);
    else if (strcmp(field, "oversign_headers") == 0)
        render_strv(&cf->sign.oversign_headers, buf, size);
    else if (strcmp(field, "on_nokey") == 0)
        snprintf(buf, size, "%s", act[cf->sign.on_nokey]);
    else if (strcmp(field, "on_sigerr") == 0)
        snprintf(buf, size, "%s", act[cf->sign.on_sigerr]);
    else if (strcmp(field, "on_multifrom") == 0)
        snprintf(buf, size, "%s", act[cf->sign.on_multifrom]);
    else if (strcmp(field, "store_failure") == 0)
        snprintf(buf, size, "%s", storefail[cf->rate.store_failure]);
    else if (strcmp(field, "store_timeout") == 0)
        snprintf(buf, size, "%d", cf->rate.store_timeout_ms);
    else if (strcmp(field, "store_connect_timeout") == 0)
        snprintf(buf, size, "%d", cf->rate.store_connect_timeout_ms);
    else if (strcmp(field, "store_retry") == 0)
        snprintf(buf, size, "%d", cf->rate.store_retry_ms);
    else if (strcmp(field, "egress") == 0)
        render_strv(&cf->align.egress, buf, size);
    else if (strcmp(field, "complaint_addrs") == 0)
        render_strv(&cf->bounce.complaint_addrs, buf, size);
    else if (strcmp(field, "alignment_action") == 0) {
        static const char *const al[] = {"unset", "reject", "tempfail", "quarantine", "log"};

        snprintf(buf, size, "%s", al[cf->align.action]);
    } else if (strcmp(field, "dmarc_mode") == 0) {
        static const char *const dm[] = {"both", "7489", "9989"};

        snprintf(buf, size, "%s", dm[cf->align.dmarc_mode]);
    } else if (strcmp(field, "dns_timeout") == 0)
        snprintf(buf, size, "%d", cf->align.dns_timeout);
    else if (strcmp(field, "on_dnserror") == 0)
        snprintf(buf, size, "%s", act[cf->align.on_dnserror]);
    else if (strcmp(field, "ratelimit_max_keys") == 0)
        snprintf(buf, size, "%d", cf->rate.max_keys);
    else if (strcmp(field, "unsub_replace") == 0)
        snprintf(buf, size, "%d", cf->unsub.replace);
    else if (strcmp(field, "unsub_scope_domain") == 0)
        snprintf(buf, size, "%d", cf->unsub.scope_domain);
    else if (strcmp(field, "unsub_max_age") == 0)
        snprintf(buf, size, "%d", cf->unsub.max_age);
    else if (strcmp(field, "unsub_rate") == 0)
        snprintf(buf, size, "%u/%llums", (unsigned) cf->unsubd.rate.limit,
                 (unsigned long long) cf->unsubd.rate.period_ms);
    else if (strcmp(field, "bounce_suppress_for") == 0)
        snprintf(buf, size, "%ld", cf->bounce.suppress_for);
    else if (strcmp(field, "bounce_soft_limit") == 0)
        snprintf(buf, size, "%u/%llums", (unsigned) cf->bounce.soft_limit.limit,
                 (unsigned long long) cf->bounce.soft_limit.period_ms);
    else if (strcmp(field, "control_socket_mode") == 0)
        snprintf(buf, size, "%04o", (unsigned) cf->daemon.control_socket_mode);
    else
        fail_msg("unknown field %s", field);
    return buf;
}

/* check_fields - want ("field=value" strings) set, every other field default */
static void check_fields(const TXCONF *cf, const char *const *want, size_t nwant)
{
    char buf[2048];
    size_t i, j;

    for (i = 0; conf_fields[i]; i++) {
        const char *expect = conf_field_defaults[i];
        size_t flen = strlen(conf_fields[i]);

        for (j = 0; j < nwant && want[j]; j++)
            if (strncmp(want[j], conf_fields[i], flen) == 0 && want[j][flen] == '=')
                expect = want[j] + flen + 1;
        render_field(cf, conf_fields[i], buf, sizeof(buf));
        if (strcmp(buf, expect) != 0)
            fail_msg("field %s: got \"%s\", want \"%s\"", conf_fields[i], buf, expect);
    }
    for (j = 0; j < nwant && want[j]; j++) {
        for (i = 0; conf_fields[i]; i++)
            if (strncmp(want[j], conf_fields[i], strlen(conf_fields[i])) == 0
                && want[j][strlen(conf_fields[i])] == '=')
                break;
        if (conf_fields[i] == NULL)
            fail_msg("bad test row: no field in \"%s\"", want[j]);
    }
}

/* Directives that load */

typedef struct {
    const char *name;
    const char *text;
    const char *want[4];        /* "field=value"; other fields keep defaults */
} OK_CASE;

static const OK_CASE ok_cases[] = {
    {"empty file gives defaults", "", {NULL}},
    {"comments and blank lines only", "# txmilter.conf\n\n   \n\t# indented comment\n", {NULL}},
    {"Socket unix:", "Socket unix:/var/spool/postfix/txmilter/sock\n",
     {"socket=unix:/var/spool/postfix/txmilter/sock"}},
    {"Socket local:", "Socket local:/run/t.sock\n", {"socket=local:/run/t.sock"}},
    {"Socket plain path becomes unix:", "Socket /run/t.sock\n", {"socket=unix:/run/t.sock"}},
    {"Socket inet:port@host", "Socket inet:8891@localhost\n", {"socket=inet:8891@localhost"}},
    {"Socket inet:port", "Socket inet:8891\n", {"socket=inet:8891"}},
    {"Socket type lowercased", "Socket INET6:25@mx.Example.com\n",
     {"socket=inet6:25@mx.Example.com"}},
    {"Socket inet:port@address", "Socket inet:1@127.0.0.1\n", {"socket=inet:1@127.0.0.1"}},
    {"Socket inet6:port@host", "Socket inet6:65535@[::1]\n", {"socket=inet6:65535@[::1]"}},
    {"Socket unix path of 107 bytes", "Socket unix:/{X106}\n", {"socket=unix:/{X106}"}},
    {"UserID user", "UserID txmilter\n", {"user=txmilter"}},
    {"UserID user:group", "UserID txmilter:mail\n", {"user=txmilter:mail"}},
    {"PidFile", "PidFile /run/txmilter/txmilter.pid\n", {"pidfile=/run/txmilter/txmilter.pid"}},
    {"PidFile keeps # inside a word", "PidFile /run/a#b\n", {"pidfile=/run/a#b"}},
    {"UMask octal", "UMask 0027\n", {"umask=027"}},
    {"UMask zero", "UMask 0\n", {"umask=000"}},
    {"UMask 777", "UMask 777\n", {"umask=777"}},
    {"Syslog no", "Syslog no\n", {"syslog=0"}},
    {"Syslog FALSE", "Syslog FALSE\n", {"syslog=0"}},
    {"Syslog 0", "Syslog 0\n", {"syslog=0"}},
    {"Syslog Yes", "Syslog Yes\n", {NULL}},
    {"LogWhy true", "LogWhy true\n", {"logwhy=1"}},
    {"LogWhy 1", "LogWhy 1\n", {"logwhy=1"}},
    {"SyslogFacility local3", "SyslogFacility local3\n", {"facility=local3"}},
    {"SyslogFacility DAEMON", "SyslogFacility DAEMON\n", {"facility=daemon"}},
    {"ShutdownTimeout 0", "ShutdownTimeout 0\n", {"shutdown_timeout=0"}},
    {"rate limit directives", "RateLimitPolicy /etc/txmilter/ratelimit.policy\n"
     "Store redis://:pw@127.0.0.1:6379/2\nStoreFailure tempfail\nStoreTimeout 20\n",
     {"ratelimit_policy=/etc/txmilter/ratelimit.policy", "store=redis://:pw@127.0.0.1:6379/2",
      "store_failure=tempfail", "store_timeout=20"}},
    {"store tuning", "StoreConnectTimeout 250\nStoreRetryInterval 2000\nRateLimitMaxKeys 5000\n"
     "RecipientDelimiter +-\n", {"store_connect_timeout=250", "store_retry=2000",
      "ratelimit_max_keys=5000", "recipient_delimiter=+-"}},
    {"Store sentinel, StoreFailure accept", "Store redis-sentinel://h1:26379,h2:26379/mymaster\n"
     "StoreFailure accept\n", {"store=redis-sentinel://h1:26379,h2:26379/mymaster",
      "store_failure=accept"}},
    {"alignment preflight", "EgressAddress 192.0.2.10, 2001:DB8::25 192.0.2.10\nAlignmentAction Reject\n"
     "Nameservers 127.0.0.1@5353, ::1\n", {"egress=192.0.2.10,2001:db8::25", "alignment_action=reject",
      "nameservers=127.0.0.1@5353, ::1@53"}},
    {"AlignmentAction values", "AlignmentAction quarantine\n", {"alignment_action=quarantine"}},
    {"AlignmentAction log", "AlignmentAction LOG\n", {"alignment_action=log"}},
    {"DMARCMode 7489", "DMARCMode 7489\n", {"dmarc_mode=7489"}},
    {"DMARCMode 9989", "DMARCMode 9989\n", {"dmarc_mode=9989"}},
    {"DMARCMode both", "DMARCMode Both\n", {"dmarc_mode=both"}},
    {"DNS settings", "PublicSuffixList /etc/psl.dat\nTrustAnchorFile /usr/share/dns/root.key\n"
     "DNSTimeout 2\nOn-DNSError accept\n", {"psl=/etc/psl.dat", "trust_anchor=/usr/share/dns/root.key",
      "dns_timeout=2", "on_dnserror=accept"}},
    {"ControlSocket none", "ControlSocket none\n", {"control_socket=(null)"}},
    {"On-MultipleFrom accept", "On-MultipleFrom accept\n", {"on_multifrom=accept"}},
    {"On-MultipleFrom tempfail", "On-MultipleFrom tempfail\n", {"on_multifrom=tempfail"}},
    {"List-Unsubscribe directives", "UnsubscribeKeyFile /etc/txmilter/unsub.keys\n"
     "UnsubscribeURL https://unsub.%{domain}/u/%{token}\nUnsubscribeMailto unsub+%{token}@example.com\n"
     "UnsubscribeExempt *@auth.example.com, reset@example.com\n",
     {"unsub_keyfile=/etc/txmilter/unsub.keys", "unsub_url=https://unsub.%{domain}/u/%{token}",
      "unsub_mailto=unsub+%{token}@example.com", "unsub_exempt=*@auth.example.com, reset@example.com"}},
    {"List-Unsubscribe choices", "UnsubscribeExisting replace\nUnsubscribeScope domain\n"
     "UnsubscribeMaxAge 31536000\nUnsubscribeListen [::1]:8443\n",
     {"unsub_replace=1", "unsub_scope_domain=1", "unsub_max_age=31536000", "unsub_listen=[::1]:8443"}},
    {"metrics off by default", "", {"metrics_listen=(null)", "unsub_metrics_listen=(null)"}},
    {"MetricsListen and UnsubscribeMetricsListen", "MetricsListen 127.0.0.1:9140\n"
     "UnsubscribeMetricsListen [::1]:9141\n",
     {"metrics_listen=127.0.0.1:9140", "unsub_metrics_listen=[::1]:9141"}},
    {"BounceSuppressFor days", "BounceSuppressFor 30d\n", {"bounce_suppress_for=2592000"}},
    {"BounceSuppressFor seconds", "BounceSuppressFor 90\n", {"bounce_suppress_for=90"}},
    {"BounceSuppressFor weeks", "BounceSuppressFor 2w\n", {"bounce_suppress_for=1209600"}},
    {"BounceSuppressFor forever", "BounceSuppressFor Forever\n", {NULL}},
    {"BounceSoftLimit per week", "BounceSoftLimit 5/7d\n", {"bounce_soft_limit=5/604800000ms"}},
    {"BounceSoftLimit per day", "BounceSoftLimit 3/1d\n", {"bounce_soft_limit=3/86400000ms"}},
    {"ReturnPath and ReturnPathExempt", "UnsubscribeKeyFile /etc/txmilter/unsub.keys\n"
     "ReturnPath bounces+%{token}@bounce.%{domain}\nReturnPathExempt reset@example.com\n",
     {"unsub_keyfile=/etc/txmilter/unsub.keys", "return_path=bounces+%{token}@bounce.%{domain}",
      "return_path_exempt=reset@example.com"}},
    {"ComplaintAddress", "UnsubscribeKeyFile /etc/txmilter/unsub.keys\n"
     "ComplaintAddress fbl@Bounce.EXAMPLE.com, Jmrp+x@bounce.example.com fbl@bounce.example.com\n",
     {"unsub_keyfile=/etc/txmilter/unsub.keys",
      "complaint_addrs=fbl@bounce.example.com,Jmrp+x@bounce.example.com"}},
    {"FeedbackID", "FeedbackID %{stream}:%{domain}:txmilter\n",
     {"feedback_id=%{stream}:%{domain}:txmilter"}},
    {"UnsubscribeTable", "UnsubscribeTable /etc/txmilter/unsubscribe.table\n",
     {"unsub_table=/etc/txmilter/unsubscribe.table"}},
    {"DataDirectory and proxy", "DataDirectory /srv/txmilter\nUnsubscribeTrustedProxy 10.0.0.1\n",
     {"data_directory=/srv/txmilter", "unsub_trusted_proxy=10.0.0.1"}},
    {"UnsubscribeRateLimit per hour", "UnsubscribeRateLimit 5000/1h\n", {"unsub_rate=5000/3600000ms"}},
    {"UnsubscribeRateLimit per second", "UnsubscribeRateLimit 1/1s\n", {"unsub_rate=1/1000ms"}},
    {"ControlSocket path", "ControlSocket /tmp/c.sock\n", {"control_socket=/tmp/c.sock"}},
    {"ControlSocket group and mode", "ControlSocketGroup txmon\nControlSocketMode 660\n",
     {"control_socket_group=txmon", "control_socket_mode=0660"}},
    {"ControlSocketMode owner only", "ControlSocketMode 0000\n", {"control_socket_mode=0000"}},
    {"ShutdownTimeout 3600", "ShutdownTimeout 3600\n", {"shutdown_timeout=3600"}},
    {"MaximumHeaders lowest", "MaximumHeaders 1024\n", {"max_headers=1024"}},
    {"MaximumHeaders highest", "MaximumHeaders 67108864\n", {"max_headers=67108864"}},
    {"InternalHosts kept as written", "InternalHosts 10.0.0.0/8, localhost\n",
     {"internal_hosts=10.0.0.0/8, localhost"}},
    {"MTA", "MTA submission, smtps\n", {"mta=submission, smtps"}},
    {"KeyTable and SigningTable", "KeyTable /etc/txmilter/keytable\n"
     "SigningTable refile:/etc/txmilter/signingtable\n",
     {"keytable=/etc/txmilter/keytable", "signingtable=refile:/etc/txmilter/signingtable"}},
    {"Domain Selector KeyFile", "Domain example.com, example.org\nSelector mail2024\n"
     "KeyFile /etc/txmilter/keys/mail.private\n",
     {"domain=example.com, example.org", "selector=mail2024",
      "keyfile=/etc/txmilter/keys/mail.private"}},
    {"SubDomains and MultipleSignatures", "SubDomains yes\nMultipleSignatures true\n",
     {"subdomains=1", "multiple_signatures=1"}},
    {"Canonicalization simple/simple", "Canonicalization simple/simple\n",
     {"canon=simple/simple"}},
    {"Canonicalization simple/relaxed", "Canonicalization simple/relaxed\n",
     {"canon=simple/relaxed"}},
    {"Canonicalization relaxed/simple mixed case", "Canonicalization Relaxed/SIMPLE\n",
     {"canon=relaxed/simple"}},
    {"Canonicalization relaxed/relaxed", "Canonicalization relaxed/relaxed\n", {NULL}},
    {"Canonicalization one word: header, body simple", "Canonicalization relaxed\n",
     {"canon=relaxed/simple"}},
    {"Canonicalization simple alone", "Canonicalization simple\n", {"canon=simple/simple"}},
    {"SignHeaders lowercased, commas and spaces", "SignHeaders From, To,Subject  date\n",
     {"sign_headers=from,to,subject,date"}},
    {"SignHeaders duplicates dropped", "SignHeaders from,From,to,FROM\n",
     {"sign_headers=from,to"}},
    {"SignHeaders odd but valid names", "SignHeaders from,X-Weird_!#$%&'*+.^`|~\n",
     {"sign_headers=from,x-weird_!#$%&'*+.^`|~"}},
    {"OversignHeaders without from", "OversignHeaders To, X-Tenant\n",
     {"oversign_headers=to,x-tenant"}},
    {"On-NoKey tempfail", "On-NoKey tempfail\n", {"on_nokey=tempfail"}},
    {"On-NoKey accept", "On-NoKey Accept\n", {NULL}},
    {"On-SignatureError reject", "On-SignatureError reject\n", {"on_sigerr=reject"}},
    {"On-SignatureError accept", "On-SignatureError accept\n", {"on_sigerr=accept"}},
    {"Mode s accepted", "Mode s\n", {NULL}},
    {"RequireSafeKeys yes accepted", "RequireSafeKeys yes\n", {NULL}},
    {"names ignore case", "socket inet:25\nSIGNHEADERS from\nlogwhy YES\n",
     {"socket=inet:25", "sign_headers=from", "logwhy=1"}},
    {"comment after value, white space around", "   Syslog\t no   # quiet\n",
     {"syslog=0"}},
    {"CRLF line ends", "Syslog no\r\nUMask 022\r\n", {"syslog=0", "umask=022"}},
    {"last line without newline", "UMask 022", {"umask=022"}},
    /* one spelling of Store for every module that decides by it */
    {"Store Embedded in any case", "Store Embedded\n", {"store=embedded"}},
    {"Store EMBEDDED", "Store EMBEDDED\n", {"store=embedded"}},
    {"Store scheme lowercased, rest kept", "Store REDIS://:PW@Host:6379/2\n",
     {"store=redis://:PW@Host:6379/2"}},
    {"Store Redis+Unix scheme", "Store Redis+Unix:///run/redis/Redis.sock\n",
     {"store=redis+unix:///run/redis/Redis.sock"}},
    {"Signing no", "Signing no\n", {"signing=0"}},
    {"UnsubscribePidFile", "PidFile /run/txmilter/txmilter.pid\n"
     "UnsubscribePidFile /run/txmilter/unsubd.pid\n",
     {"pidfile=/run/txmilter/txmilter.pid", "unsub_pidfile=/run/txmilter/unsubd.pid"}},
    {"UnsubscribeTemplateDirectory", "UnsubscribeTemplateDirectory /etc/txmilter/unsubscribe-templates\n",
     {"unsub_template_dir=/etc/txmilter/unsubscribe-templates"}},
    {"UnsubscribeTemplateDirectory none", "UnsubscribeTemplateDirectory none\n", {"unsub_template_dir=(null)"}},
    {"UnsubscribeTemplateDirectory default", "", {"unsub_template_dir=(null)"}},
};

/* test_ok - a configuration that loads, with the fields it sets */
static void test_ok(void **state)
{
    const OK_CASE *c = *state;
    char *path = th_tempfile(c->text);
    char *want[4] = {0};
    size_t i;
    TXCONF *cf;
    BUF errs;

    buf_init(&errs, 65536);
    cf = conf_load(path, CONF_PROG_ALL, &errs);
    if (cf == NULL)
        fail_msg("conf_load failed: %s", errs.data ? errs.data : "(no message)");
    assert_int_equal(errs.len, 0);
    assert_string_equal(cf->path, path);
    for (i = 0; i < 4 && c->want[i]; i++)
        want[i] = th_expand(c->want[i], NULL);
    check_fields(cf, (const char *const *) want, 4);
    for (i = 0; i < 4; i++)
        free(want[i]);
    conf_free(cf);
    buf_free(&errs);
    th_unlink(path);
}

/* Configurations that must be refused */

typedef struct {
    const char *name;
    const char *text;
    const char *errs;           /* "%F" is the file */
} BAD_CASE;

#define SOCK_EXPECT ": expected unix:/absolute/path, inet:port@host or inet6:port@host (port 1 to 65535)\n"
#define BAD_SOCKET(v) "%F:1: Socket: bad value \"" v "\"" SOCK_EXPECT
#define BAD_USER(v) "%F:1: UserID: bad value \"" v "\": expected user or user:group\n"
#define BAD_BOOL(n, v) "%F:1: " n ": bad value \"" v "\": expected yes or no\n"
#define BAD_SOCKMODE(v) "%F:1: ControlSocketMode: bad value \"" v "\": expected an octal mode " \
    "within 0770 (no access for others)\n"
#define BAD_UMASK(v) "%F:1: UMask: bad value \"" v "\": expected an octal number from 0 to 0777\n"
#define BAD_TIMEOUT(v) "%F:1: ShutdownTimeout: bad value \"" v \
    "\": expected an integer from 0 to 3600\n"
#define BAD_MAXHDR(v) "%F:1: MaximumHeaders: bad value \"" v \
    "\": expected a number of bytes from 1024 to 67108864\n"
#define BAD_CANON(v) "%F:1: Canonicalization: bad value \"" v \
    "\": expected relaxed or simple, or header/body such as relaxed/relaxed\n"
#define NO_FROM(line) "%F:" #line ": SignHeaders must include \"from\" (RFC 6376 5.4)\n"
#define MODE_TEXT(v) "txmilter signs only; Mode " v " is not supported: write \"Mode s\" " \
    "and keep OpenDKIM or OpenDMARC for inbound verification\n"
#define MODE_MSG(v) "%F:1: " MODE_TEXT(v)

static const BAD_CASE bad_cases[] = {
    {"unknown directive", "Foo bar\n", "%F:1: unknown directive \"Foo\"\n"},
    {"unknown directive without value", "Bogus\n", "%F:1: unknown directive \"Bogus\"\n"},
    {"UnsubscribeURL without token", "UnsubscribeURL https://u.example/unsub\n",
     "%F:1: UnsubscribeURL: \"https://u.example/unsub\" is not an https:// URL holding %{token} "
     "(without spaces, quotes, commas or angle brackets)\n"},
    {"UnsubscribeURL plain http (RFC 8058 wants HTTPS)", "UnsubscribeURL http://u.example/u/%{token}\n",
     "%F:1: UnsubscribeURL: \"http://u.example/u/%{token}\" is not an https:// URL holding %{token} "
     "(without spaces, quotes, commas or angle brackets)\n"},
    {"UnsubscribeURL without host", "UnsubscribeURL https:///u/%{token}\n",
     "%F:1: UnsubscribeURL: \"https:///u/%{token}\" is not an https:// URL holding %{token} "
     "(without spaces, quotes, commas or angle brackets)\n"},
    {"BounceSoftLimit without unit", "\nBounceSoftLimit 3/7\n",
     "%F:2: BounceSoftLimit: bad value \"3/7\": the period has no unit (s, m, h, d or w) "
     "(N from 1 to 10000000, a period from 1s to 366d, e.g. 120/1m)\n"},
    {"BounceSoftLimit zero", "BounceSoftLimit 0/7d\n",
     "%F:1: BounceSoftLimit: bad value \"0/7d\": N must be from 1 to 10000000 "
     "(N from 1 to 10000000, a period from 1s to 366d, e.g. 120/1m)\n"},
    {"BounceSoftLimit over a year", "BounceSoftLimit 3/400d\n",
     "%F:1: BounceSoftLimit: bad value \"3/400d\": the period must be from 1s to 366d "
     "(N from 1 to 10000000, a period from 1s to 366d, e.g. 120/1m)\n"},
    {"UnsubscribeRateLimit without unit", "UnsubscribeRateLimit 120/60\n",
     "%F:1: UnsubscribeRateLimit: bad value \"120/60\": the period has no unit (s, m, h, d or w) "
     "(N from 1 to 10000000, a period from 1s to 366d, e.g. 120/1m)\n"},
    {"UnsubscribeRateLimit zero", "UnsubscribeRateLimit 0/1m\n",
     "%F:1: UnsubscribeRateLimit: bad value \"0/1m\": N must be from 1 to 10000000 "
     "(N from 1 to 10000000, a period from 1s to 366d, e.g. 120/1m)\n"},
    {"UnsubscribeRateLimit a number", "UnsubscribeRateLimit 120\n",
     "%F:1: UnsubscribeRateLimit: bad value \"120\": expected N/period, e.g. 3/10m "
     "(N from 1 to 10000000, a period from 1s to 366d, e.g. 120/1m)\n"},
    {"UnsubscribeURL not http", "UnsubscribeURL ftp://u.example/%{token}\n",
     "%F:1: UnsubscribeURL: \"ftp://u.example/%{token}\" is not an https:// URL holding %{token} "
     "(without spaces, quotes, commas or angle brackets)\n"},
    {"UnsubscribeMailto token in the domain", "UnsubscribeMailto u@%{token}.example\n",
     "%F:1: UnsubscribeMailto: \"u@%{token}.example\" is not an address with %{token} in its "
     "local part, e.g. unsubscribe+%{token}@example.com\n"},
    {"UnsubscribeListen without port", "UnsubscribeListen 127.0.0.1\n",
     "%F:1: UnsubscribeListen: bad value \"127.0.0.1\": expected host:port\n"},
    {"MetricsListen without port", "\nMetricsListen 127.0.0.1\n",
     "%F:2: MetricsListen: bad value \"127.0.0.1\": expected host:port\n"},
    {"MetricsListen IPv6 without brackets", "MetricsListen ::1:9140\n",
     "%F:1: MetricsListen: bad value \"::1:9140\": expected host:port\n"},
    {"UnsubscribeMetricsListen port 0", "UnsubscribeMetricsListen 127.0.0.1:0\n",
     "%F:1: UnsubscribeMetricsListen: bad value \"127.0.0.1:0\": expected host:port\n"},
    {"MetricsListen on UnsubscribeMetricsListen's port", "UnsubscribeMetricsListen 127.0.0.1:9140\n"
     "MetricsListen 127.0.0.1:9140\n",
     "%F:2: MetricsListen 127.0.0.1:9140 is also UnsubscribeMetricsListen (line 1): the two cannot "
     "listen on one address\n"},
    {"ComplaintAddress without keys", "\nComplaintAddress fbl@bounce.example.com\n",
     "%F:2: ComplaintAddress needs UnsubscribeKeyFile: a report is acted on only for a token of "
     "ours that those keys verify\n"},
    {"ComplaintAddress in angle brackets", "UnsubscribeKeyFile /k\nComplaintAddress <fbl@b.example>\n",
     "%F:2: ComplaintAddress: \"<fbl@b.example>\" is not an address such as fbl@bounce.example.com "
     "(local@domain, no angle brackets, no comments)\n"},
    {"ComplaintAddress without a domain", "ComplaintAddress fbl\n",
     "%F:1: ComplaintAddress: \"fbl\" is not an address such as fbl@bounce.example.com "
     "(local@domain, no angle brackets, no comments)\n"},
    {"ComplaintAddress one-label domain", "ComplaintAddress fbl@localhost\n",
     "%F:1: ComplaintAddress: \"fbl@localhost\" is not an address such as fbl@bounce.example.com "
     "(local@domain, no angle brackets, no comments)\n"},
    {"ComplaintAddress two dots", "ComplaintAddress a..b@x.example\n",
     "%F:1: ComplaintAddress: \"a..b@x.example\" is not an address such as fbl@bounce.example.com "
     "(local@domain, no angle brackets, no comments)\n"},
    {"ReturnPath without keys", "\nReturnPath bounces+%{token}@bounce.%{domain}\n",
     "%F:2: ReturnPath needs UnsubscribeKeyFile: its tokens are sealed with those keys\n"},
    {"FeedbackID not signed", "SignHeaders from, to, subject\nFeedbackID x:%{domain}\n",
     "%F:2: FeedbackID is set but SignHeaders does not name feedback-id: Gmail trusts the header "
     "only when the DKIM signature covers it\n"},
    {"BounceSuppressFor unit unknown", "BounceSuppressFor 3y\n",
     "%F:1: BounceSuppressFor: bad value \"3y\": expected \"forever\" or a duration (N with s, m, "
     "h, d or w) from 1s to 3650d\n"},
    {"BounceSuppressFor zero", "BounceSuppressFor 0d\n",
     "%F:1: BounceSuppressFor: bad value \"0d\": expected \"forever\" or a duration (N with s, m, "
     "h, d or w) from 1s to 3650d\n"},
    {"BounceSuppressFor too long", "BounceSuppressFor 3651d\n",
     "%F:1: BounceSuppressFor: bad value \"3651d\": expected \"forever\" or a duration (N with s, m, "
     "h, d or w) from 1s to 3650d\n"},
    {"BounceSuppressFor unit alone", "BounceSuppressFor d\n",
     "%F:1: BounceSuppressFor: bad value \"d\": expected \"forever\" or a duration (N with s, m, "
     "h, d or w) from 1s to 3650d\n"},
    {"UnsubscribeExisting unknown", "UnsubscribeExisting merge\n",
     "%F:1: UnsubscribeExisting: \"merge\" is not one of keep, replace\n"},
    {"UnsubscribeScope unknown", "UnsubscribeScope list\n",
     "%F:1: UnsubscribeScope: \"list\" is not one of address, domain\n"},
    {"DataDirectory relative", "DataDirectory var/lib\n",
     "%F:1: DataDirectory: \"var/lib\" is not an absolute path (or \"none\")\n"},
    {"UnsubscribeTemplateDirectory relative", "\nUnsubscribeTemplateDirectory templates\n",
     "%F:2: UnsubscribeTemplateDirectory: \"templates\" is not an absolute path (or \"none\")\n"},
    {"EgressAddress not an address", "EgressAddress 192.0.2.0/24\n",
     "%F:1: EgressAddress: \"192.0.2.0/24\" is not an IPv4 or IPv6 address (list each address the "
     "relay sends from, no networks)\n"},
    {"EgressAddress host name", "EgressAddress mail.example.com\n",
     "%F:1: EgressAddress: \"mail.example.com\" is not an IPv4 or IPv6 address (list each address the "
     "relay sends from, no networks)\n"},
    {"AlignmentAction unknown", "AlignmentAction discard\n",
     "%F:1: AlignmentAction: bad value \"discard\": expected reject, tempfail, quarantine or log\n"},
    {"Nameservers with # port syntax", "Nameservers 127.0.0.1#5353\n",
     "%F:1: Nameservers: bad value \"127.0.0.1#5353\": expected IP addresses with an optional port, "
     "such as 127.0.0.1@5353 or ::1\n"},
    {"Nameservers port out of range", "Nameservers 127.0.0.1@70000\n",
     "%F:1: Nameservers: bad value \"127.0.0.1@70000\": expected IP addresses with an optional port, "
     "such as 127.0.0.1@5353 or ::1\n"},
    {"PublicSuffixList relative", "PublicSuffixList psl.dat\n",
     "%F:1: PublicSuffixList: \"psl.dat\" is not an absolute path\n"},
    {"DMARCMode unknown", "DMARCMode bis\n",
     "%F:1: DMARCMode: bad value \"bis\": expected 7489, 9989 or both\n"},
    {"DNSTimeout zero", "DNSTimeout 0\n",
     "%F:1: DNSTimeout: bad value \"0\": expected an integer from 1 to 60\n"},
    {"On-DNSError reject not offered", "On-DNSError reject\n",
     "%F:1: On-DNSError: bad value \"reject\": expected accept or tempfail\n"},
    {"directive names in any case", "unsubscribescope list\n",
     "%F:1: UnsubscribeScope: \"list\" is not one of address, domain\n"},
    {"EgressAddress twice", "EgressAddress 192.0.2.1\nEgressAddress 192.0.2.2\n",
     "%F:2: EgressAddress given twice (first at line 1)\n"},
    {"Signing not a boolean", "Signing maybe\n",
     "%F:1: Signing: bad value \"maybe\": expected yes or no\n"},
    {"Store neither embedded nor redis", "Store memcached://x\n",
     "%F:1: Store: \"memcached://x\" is neither \"embedded\" nor a redis://, redis+unix:// "
     "or redis-sentinel:// URL\n"},
    {"StoreFailure unknown", "StoreFailure ignore\n",
     "%F:1: StoreFailure: \"ignore\" is not one of local, accept, tempfail\n"},
    {"StoreTimeout zero", "StoreTimeout 0\n",
     "%F:1: StoreTimeout: bad value \"0\": expected an integer from 1 to 10000\n"},
    {"StoreRetryInterval too small", "StoreRetryInterval 5\n",
     "%F:1: StoreRetryInterval: bad value \"5\": expected an integer from 10 to 600000\n"},
    {"ControlSocket relative", "ControlSocket ctl.sock\n",
     "%F:1: ControlSocket: \"ctl.sock\" is not an absolute path (or \"none\")\n"},
    {"ControlSocketMode for others", "ControlSocketMode 0666\n", BAD_SOCKMODE("0666")},
    {"ControlSocketMode others execute", "ControlSocketMode 0661\n", BAD_SOCKMODE("0661")},
    {"ControlSocketMode not octal", "ControlSocketMode 0680\n", BAD_SOCKMODE("0680")},
    {"ControlSocketMode too large", "ControlSocketMode 1660\n", BAD_SOCKMODE("1660")},
    {"ControlSocketGroup bad name", "ControlSocketGroup -wheel\n",
     "%F:1: ControlSocketGroup: bad value \"-wheel\": expected a group name\n"},
    {"directive given twice", "Socket inet:1\nSyslog yes\nsocket inet:2\n",
     "%F:3: Socket given twice (first at line 1)\n"},
    {"bad directive given twice", "UMask 999\nUMask 007\n",
     BAD_UMASK("999") "%F:2: UMask given twice (first at line 1)\n"},
    {"missing value", "Socket\n", "%F:1: Socket: missing value\n"},
    {"missing value before comment", "Syslog   # off?\n", "%F:1: Syslog: missing value\n"},
    {"bad boolean", "Syslog maybe\n", BAD_BOOL("Syslog", "maybe")},
    {"bad boolean on", "SubDomains on\n", BAD_BOOL("SubDomains", "on")},
    {"bad boolean LogWhy", "LogWhy 2\n", BAD_BOOL("LogWhy", "2")},
    {"bad boolean MultipleSignatures", "MultipleSignatures yess\n",
     BAD_BOOL("MultipleSignatures", "yess")},
    {"UMask digit 8", "UMask 0800\n", BAD_UMASK("0800")},
    {"UMask over 0777", "UMask 01000\n", BAD_UMASK("01000")},
    {"UMask negative", "UMask -1\n", BAD_UMASK("-1")},
    {"UMask words", "UMask u=rwx\n", BAD_UMASK("u=rwx")},
    {"ShutdownTimeout over", "ShutdownTimeout 3601\n", BAD_TIMEOUT("3601")},
    {"ShutdownTimeout negative", "ShutdownTimeout -1\n", BAD_TIMEOUT("-1")},
    {"ShutdownTimeout unit", "ShutdownTimeout 60s\n", BAD_TIMEOUT("60s")},
    {"ShutdownTimeout huge", "ShutdownTimeout 99999999999999999999\n",
     BAD_TIMEOUT("99999999999999999999")},
    {"MaximumHeaders under", "MaximumHeaders 1023\n", BAD_MAXHDR("1023")},
    {"MaximumHeaders over", "MaximumHeaders 67108865\n", BAD_MAXHDR("67108865")},
    {"MaximumHeaders suffix", "MaximumHeaders 1m\n", BAD_MAXHDR("1m")},
    {"SyslogFacility kern", "SyslogFacility kern\n",
     "%F:1: SyslogFacility: unknown syslog facility \"kern\" "
     "(expected mail, daemon, user or local0 to local7)\n"},
    {"Socket port 0", "Socket inet:0@localhost\n", BAD_SOCKET("inet:0@localhost")},
    {"Socket port 65536", "Socket inet:65536\n", BAD_SOCKET("inet:65536")},
    {"Socket no port", "Socket inet:@localhost\n", BAD_SOCKET("inet:@localhost")},
    {"Socket empty host", "Socket inet:25@\n", BAD_SOCKET("inet:25@")},
    {"Socket host with space", "Socket inet:25@host name\n", BAD_SOCKET("inet:25@host name")},
    {"Socket port name", "Socket inet:smtp@localhost\n", BAD_SOCKET("inet:smtp@localhost")},
    {"Socket relative unix path", "Socket unix:run/t.sock\n", BAD_SOCKET("unix:run/t.sock")},
    {"Socket empty local path", "Socket local:\n", BAD_SOCKET("local:")},
    {"Socket relative plain path", "Socket run/t.sock\n", BAD_SOCKET("run/t.sock")},
    {"Socket unknown type", "Socket tcp:25\n", BAD_SOCKET("tcp:25")},
    {"Socket unix path of 108 bytes", "Socket unix:/{X107}\n", BAD_SOCKET("unix:/{X107}")},
    {"Socket plain path too long", "Socket /{X200}\n", BAD_SOCKET("/{X200}")},
    {"UserID empty group", "UserID txmilter:\n", BAD_USER("txmilter:")},
    {"UserID empty user", "UserID :mail\n", BAD_USER(":mail")},
    {"UserID leading dash", "UserID -txmilter\n", BAD_USER("-txmilter")},
    {"UserID space", "UserID tx milter\n", BAD_USER("tx milter")},
    {"UserID two colons", "UserID a:b:c\n", BAD_USER("a:b:c")},
    {"Canonicalization empty body", "Canonicalization relaxed/\n", BAD_CANON("relaxed/")},
    {"Canonicalization empty header", "Canonicalization /simple\n", BAD_CANON("/simple")},
    {"Canonicalization nofws", "Canonicalization nofws\n", BAD_CANON("nofws")},
    {"Canonicalization three parts", "Canonicalization relaxed/relaxed/relaxed\n",
     BAD_CANON("relaxed/relaxed/relaxed")},
    {"SignHeaders colon", "SignHeaders from, x:y\n",
     "%F:1: SignHeaders: bad header name \"x:y\"\n"},
    {"SignHeaders 8-bit", "SignHeaders from, caf\xc3\xa9\n",
     "%F:1: SignHeaders: bad header name \"caf\xc3\xa9\"\n"},
    {"OversignHeaders control character", "OversignHeaders from, a\x01" "b\n",
     "%F:1: OversignHeaders: bad header name \"a\x01" "b\"\n"},
    {"SignHeaders without from", "SignHeaders to, subject\n", NO_FROM(1)},
    {"SignHeaders without from, later line", "\n# x\nSignHeaders to\n", NO_FROM(3)},
    {"On-NoKey reject not allowed", "On-NoKey reject\n",
     "%F:1: On-NoKey: bad value \"reject\": expected accept or tempfail\n"},
    {"On-SignatureError bounce", "On-SignatureError bounce\n",
     "%F:1: On-SignatureError: bad value \"bounce\": expected accept, tempfail or reject\n"},
    {"Mode v", "Mode v\n", MODE_MSG("v")},
    {"Mode sv", "Mode sv\n", MODE_MSG("sv")},
    {"RequireSafeKeys no", "RequireSafeKeys no\n",
     "%F:1: RequireSafeKeys: cannot be turned off: txmilter refuses private keys "
     "that group or others can read (chmod 600, owned by UserID)\n"},
    {"RequireSafeKeys nonsense", "RequireSafeKeys perhaps\n",
     BAD_BOOL("RequireSafeKeys", "perhaps")},
    {"overlong line, parsing goes on", "{X8193}\nSyslog maybe\n",
     "%F:1: line longer than 8192 bytes\n%F:2: Syslog: bad value \"maybe\": expected yes or no\n"},
    {"NUL byte", "Syslog no\nUMask 0{NUL}22\n", "%F:2: line holds a NUL byte\n"},
    {"every error reported with its line",
     "Socket inet:25\nFoo 1\n# ok\nSyslog maybe\nsocket inet:26\n\nMode v\nUMask 022\n",
     "%F:2: unknown directive \"Foo\"\n"
     "%F:4: Syslog: bad value \"maybe\": expected yes or no\n"
     "%F:5: Socket given twice (first at line 1)\n"
     "%F:7: " MODE_TEXT("v")},
};

/* test_bad - a configuration that is refused with exactly these errors */
static void test_bad(void **state)
{
    const BAD_CASE *c = *state;
    const char *vals[26] = {0};
    char *path = th_tempfile(c->text), *want, *tmp;
    TXCONF *cf;
    BUF errs;

    vals['F' - 'A'] = path;
    tmp = th_subst(c->errs, vals);
    want = th_expand(tmp, NULL);
    free(tmp);
    buf_init(&errs, 65536);
    cf = conf_load(path, CONF_PROG_ALL, &errs);
    assert_null(cf);
    assert_string_equal(errs.data ? errs.data : "", want);
    /* Without an error buffer the result is the same, minus the text. */
    assert_null(conf_load(path, CONF_PROG_ALL, NULL));
    free(want);
    buf_free(&errs);
    th_unlink(path);
}

/* test_defaults - conf_defaults() holds every documented default */
static void test_defaults(void **state)
{
    TXCONF *cf = conf_defaults();
    char buf[64];

    (void) state;
    check_fields(cf, NULL, 0);
    assert_null(cf->path);
    assert_int_equal(conf_line(cf, "Socket"), 0);
    assert_string_equal(conf_where(cf, "Socket", buf, sizeof(buf)), "(defaults)");
    conf_free(cf);
    conf_free(NULL);
}

/* test_default_lists - the built-in header lists, as documented */
static void test_default_lists(void **state)
{
    char buf[2048] = "";
    size_t i;

    (void) state;
    for (i = 0; conf_default_sign_headers[i]; i++) {
        if (i)
            strcat(buf, ",");
        strcat(buf, conf_default_sign_headers[i]);
    }
    assert_string_equal(buf, DEF_SIGN);
    buf[0] = 0;
    for (i = 0; conf_default_oversign_headers[i]; i++) {
        if (i)
            strcat(buf, ",");
        strcat(buf, conf_default_oversign_headers[i]);
    }
    assert_string_equal(buf, DEF_OVERSIGN);
}

/* Files that cannot be read */

typedef struct {
    const char *name;
    const char *path;
    const char *errs;
} OPEN_CASE;

static const OPEN_CASE open_cases[] = {
    {"missing file", "/nonexistent/txmilter.conf",
     "cannot open /nonexistent/txmilter.conf: No such file or directory\n"},
    {"directory", "/tmp", "/tmp is not a regular file\n"},
    {"device", "/dev/null", "/dev/null is not a regular file\n"},
    {"no file name", NULL, "(null): no configuration file name\n"},
};

/* test_open - the file itself is unusable */
static void test_open(void **state)
{
    const OPEN_CASE *c = *state;
    BUF errs;

    buf_init(&errs, 4096);
    assert_null(conf_load(c->path, CONF_PROG_ALL, &errs));
    assert_string_equal(errs.data ? errs.data : "", c->errs);
    buf_free(&errs);
}

/* conf_check_signing: a configuration that signs nothing says so */

typedef struct {
    const char *name;
    const char *text;
    size_t  nkeys;              /* keys the KeyTable or shorthand yields */
    const char *errs;           /* "%F" is the file; "" for none */
} SIGNING_CASE;

static const SIGNING_CASE signing_cases[] = {
    {"keys and no Signing directive", "KeyTable /etc/kt\n", 1, ""},
    {"empty file", "", 0,
     "%F: no signing key configured (no KeyTable, no Domain/Selector/KeyFile): all mail "
     "would leave unsigned; make a key with \"txmilterctl genkey\" and add it to the KeyTable, "
     "or say \"Signing no\" if that is intended\n"},
    {"cut before the KeyTable", "Socket inet:8891@localhost\nInternalHosts 127.0.0.1\n", 0,
     "%F: no signing key configured (no KeyTable, no Domain/Selector/KeyFile): all mail "
     "would leave unsigned; make a key with \"txmilterctl genkey\" and add it to the KeyTable, "
     "or say \"Signing no\" if that is intended\n"},
    {"an empty KeyTable", "\nKeyTable /etc/kt\n", 0,
     "%F:2: no signing key configured (the KeyTable holds no key): all mail "
     "would leave unsigned; make a key with \"txmilterctl genkey\" and add it to the KeyTable, "
     "or say \"Signing no\" if that is intended\n"},
    {"Signing no, no keys", "Signing no\n", 0, ""},
    {"Signing yes, no keys", "Signing yes\n", 0,
     "%F: no signing key configured (no KeyTable, no Domain/Selector/KeyFile): all mail "
     "would leave unsigned; make a key with \"txmilterctl genkey\" and add it to the KeyTable, "
     "or say \"Signing no\" if that is intended\n"},
    {"Signing no next to a KeyTable", "KeyTable /etc/kt\nSigning no\n", 2,
     "%F:2: Signing no, but signing keys are configured (KeyTable): remove one or the other\n"},
    {"Signing no next to KeyFile", "Domain example.com\nSelector s\nKeyFile /k\nSigning no\n", 1,
     "%F:4: Signing no, but signing keys are configured (Domain/Selector/KeyFile): "
     "remove one or the other\n"},
};

/* test_signing - conf_check_signing() on a loaded configuration */
static void test_signing(void **state)
{
    const SIGNING_CASE *c = *state;
    const char *vals[26] = {0};
    char *path = th_tempfile(c->text), *want;
    TXCONF *cf;
    BUF errs;

    vals['F' - 'A'] = path;
    want = th_subst(c->errs, vals);
    buf_init(&errs, 4096);
    assert_non_null(cf = conf_load(path, CONF_PROG_ALL, &errs));
    assert_int_equal(conf_check_signing(cf, c->nkeys, &errs), *c->errs ? -1 : 0);
    assert_string_equal(errs.data ? errs.data : "", want);
    conf_free(cf);
    free(want);
    buf_free(&errs);
    th_unlink(path);
}

/* conf_turned_off: what a reload switches off */

typedef struct {
    const char *name;
    const char *running, *next;
    int     n;
    const char *what;
} OFF_CASE;

#define OFF_ALL "RateLimitPolicy /p\nUnsubscribeKeyFile /k\nUnsubscribeURL https://u/%{token}\n" \
    "EgressAddress 192.0.2.1\n"

static const OFF_CASE off_cases[] = {
    {"nothing changes", OFF_ALL, OFF_ALL, 0, ""},
    {"nothing was on", "", "Signing no\n", 1, "signing (Signing no)"},
    {"empty file after everything", OFF_ALL, "", 3,
     "rate limiting (no RateLimitPolicy), List-Unsubscribe (no UnsubscribeKeyFile/UnsubscribeURL), "
     "the alignment preflight (no EgressAddress/AlignmentAction)"},
    {"rate limiting dropped", OFF_ALL, "UnsubscribeKeyFile /k\nUnsubscribeURL https://u/%{token}\n"
     "EgressAddress 192.0.2.1\n", 1, "rate limiting (no RateLimitPolicy)"},
    {"List-Unsubscribe dropped", OFF_ALL, "RateLimitPolicy /p\nAlignmentAction reject\n", 1,
     "List-Unsubscribe (no UnsubscribeKeyFile/UnsubscribeURL)"},
    {"preflight dropped, policy renamed", OFF_ALL, "RateLimitPolicy /q\nUnsubscribeKeyFile /k\n"
     "UnsubscribeURL https://u/%{token}\n", 1,
     "the alignment preflight (no EgressAddress/AlignmentAction)"},
    {"turned on is not reported", "", OFF_ALL, 0, ""},
};

/* test_turned_off - conf_turned_off() between two loaded configurations */
static void test_turned_off(void **state)
{
    const OFF_CASE *c = *state;
    char *p1 = th_tempfile(c->running), *p2 = th_tempfile(c->next);
    TXCONF *a, *b;
    BUF what;

    buf_init(&what, 4096);
    assert_non_null(a = conf_load(p1, CONF_PROG_ALL, NULL));
    assert_non_null(b = conf_load(p2, CONF_PROG_ALL, NULL));
    assert_int_equal(conf_turned_off(a, b, &what), c->n);
    assert_string_equal(what.data ? what.data : "", c->what);
    conf_free(a);
    conf_free(b);
    buf_free(&what);
    th_unlink(p1);
    th_unlink(p2);
}

/* conf_suppression_list: which configurations keep the list */

typedef struct {
    const char *name;
    const char *text;
    int     on;
} LIST_CASE;

static const LIST_CASE list_cases[] = {
    {"nothing", "", 0},
    {"List-Unsubscribe", "UnsubscribeKeyFile /k\nUnsubscribeURL https://u/%{token}\n", 1},
    {"unsubscribe by mail", "UnsubscribeKeyFile /k\nUnsubscribeMailto u+%{token}@example.com\n", 1},
    {"UnsubscribeTable", "UnsubscribeTable /t\n", 1},
    /* bounces to the return path suppress their recipient: without the list
     * they would pass untouched and nothing would ever be suppressed */
    {"ReturnPath alone", "UnsubscribeKeyFile /k\nReturnPath bounces+%{token}@bounce.%{domain}\n", 1},
    {"ComplaintAddress", "UnsubscribeKeyFile /k\nComplaintAddress fbl@bounce.example.com\n", 1},
    {"keys alone", "UnsubscribeKeyFile /k\n", 0},
    {"FeedbackID alone", "FeedbackID %{stream}:%{domain}:txmilter\n", 0},
};

/* test_suppression_list - conf_suppression_list() of a loaded configuration */
static void test_suppression_list(void **state)
{
    const LIST_CASE *c = *state;
    char *path = th_tempfile(c->text);
    TXCONF *cf;

    assert_non_null(cf = conf_load(path, CONF_PROG_ALL, NULL));
    assert_int_equal(conf_suppression_list(cf), c->on);
    conf_free(cf);
    th_unlink(path);
}

/* conf_check_file: a file a directive names must be a regular file */

typedef struct {
    const char *name;
    const char *path;           /* "%P" a FIFO made for the case, "%R" a regular file */
    const char *errs;           /* "%F" the configuration, "%P"/"%R" as above */
} FILE_CASE;

static const FILE_CASE file_cases[] = {
    {"regular file", "%R", ""},
    {"FIFO", "%P", "%F:1: RateLimitPolicy %P: not a regular file\n"},
    {"directory", "/tmp", "%F:1: RateLimitPolicy /tmp: not a regular file\n"},
    {"device", "/dev/null", "%F:1: RateLimitPolicy /dev/null: not a regular file\n"},
    {"missing: the reader reports it", "/nonexistent/policy", ""},
    {"dataset spec with file:", "file:%P", "%F:1: RateLimitPolicy %P: not a regular file\n"},
    {"dataset spec with refile:", "refile:%P", "%F:1: RateLimitPolicy %P: not a regular file\n"},
    {"inline dataset", "a, b", ""},
};

/* test_check_file - conf_check_dataset() (and so conf_check_file()) never blocks */
static void test_check_file(void **state)
{
    const FILE_CASE *c = *state;
    const char *vals[26] = {0};
    char fifo[] = "/tmp/txtest-fifo-XXXXXX", *reg = th_tempfile("x\n"), *conf, *spec, *want, *text;
    TXCONF *cf;
    BUF errs;

    assert_non_null(mkdtemp(fifo));
    {
        char *p = xasprintf("%s/f", fifo);

        assert_int_equal(mkfifo(p, 0600), 0);
        vals['P' - 'A'] = p;
    }
    vals['R' - 'A'] = reg;
    spec = th_subst(c->path, vals);
    text = xasprintf("RateLimitPolicy %s\n", spec);
    conf = th_tempfile(text);
    vals['F' - 'A'] = conf;
    want = th_subst(c->errs, vals);
    buf_init(&errs, 4096);
    assert_non_null(cf = conf_load(conf, CONF_PROG_ALL, &errs));
    alarm(10);                          /* a check that blocks fails instead of hanging */
    assert_int_equal(conf_check_dataset(cf, "RateLimitPolicy", spec, &errs), *c->errs ? -1 : 0);
    alarm(0);
    assert_string_equal(errs.data ? errs.data : "", want);
    conf_free(cf);
    buf_free(&errs);
    (void) unlink(vals['P' - 'A']);
    (void) rmdir(fifo);
    free((char *) vals['P' - 'A']);
    free(spec);
    free(text);
    free(want);
    th_unlink(conf);
    th_unlink(reg);
}

/* test_where - conf_line() and conf_where() name the setting line */
static void test_where(void **state)
{
    char *path = th_tempfile("# c\n\nkeytable /etc/kt\nSigningTable /etc/st\n");
    char buf[4096], want[4200], tiny[6];
    TXCONF *cf;

    (void) state;
    cf = conf_load(path, CONF_PROG_ALL, NULL);
    assert_non_null(cf);
    assert_int_equal(conf_line(cf, "KeyTable"), 3);
    assert_int_equal(conf_line(cf, "SIGNINGTABLE"), 4);
    assert_int_equal(conf_line(cf, "InternalHosts"), 0);
    assert_int_equal(conf_line(cf, "NoSuchDirective"), 0);
    assert_int_equal(conf_line(NULL, "KeyTable"), 0);
    snprintf(want, sizeof(want), "%s:3", path);
    assert_string_equal(conf_where(cf, "KeyTable", buf, sizeof(buf)), want);
    assert_string_equal(conf_where(cf, "InternalHosts", buf, sizeof(buf)), path);
    assert_string_equal(conf_where(cf, "KeyTable", tiny, sizeof(tiny)), "/tmp/");
    conf_free(cf);
    th_unlink(path);
}

/* test_fixture - an OpenDKIM-style configuration from tests/unit/data */
static void test_fixture(void **state)
{
    static const char *const want[] = {
        "socket=inet:8891@localhost", "user=opendkim:opendkim", "umask=002",
        "canon=relaxed/simple", "domain=example.com", "selector=mail",
        "keyfile=/etc/dkimkeys/mail.private", "oversign_headers=from",
        "internal_hosts=localhost, 192.0.2.0/24", "pidfile=/run/opendkim/opendkim.pid",
        "syslog=1", "subdomains=1",
    };
    char path[4200], buf[256];
    TXCONF *cf;
    BUF errs;
    size_t i;

    (void) state;
    snprintf(path, sizeof(path), "%s/conf_opendkim.conf", th_datadir());
    buf_init(&errs, 4096);
    cf = conf_load(path, CONF_PROG_ALL, &errs);
    if (cf == NULL)
        fail_msg("%s: %s", path, errs.data ? errs.data : "");
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const char *eq = strchr(want[i], '=');
        char field[64];

        snprintf(field, sizeof(field), "%.*s", (int) (eq - want[i]), want[i]);
        assert_string_equal(render_field(cf, field, buf, sizeof(buf)), eq + 1);
    }
    conf_free(cf);
    buf_free(&errs);
}

/* OpenDKIM migration (conf_migrate.c): what each refused directive says */

typedef struct {
    const char *name;
    const char *text;
    const char *errs;           /* "%F" is the file; "" for none */
    const char *warnings;       /* cf->warnings, one per line */
} MIGRATE_CASE;

#define M_VERIFY_TEXT " is ignored: it concerns verifying, and txmilter only signs " \
    "(keep OpenDKIM or OpenDMARC for inbound mail)\n"
#define M_RESTART_TEXT ": systemd restarts txmilter: set Restart=on-failure (and " \
    "StartLimitBurst=, StartLimitIntervalSec=) in txmilter.service\n"
#define M_LDAP_TEXT " is not supported: txmilter has no LDAP or SQL datasets: export the " \
    "table to a file (or refile:) and name that\n"
#define M_LUA_TEXT " is not supported: txmilter runs no Lua: choose keys with KeyTable and " \
    "SigningTable, limits with RateLimitPolicy\n"
#define M_LENGTH_TEXT " is not supported: txmilter signs the whole body and never sets l= " \
    "(it would let anyone append text to a signed message)\n"
#define M_SENDER_TEXT " is not supported: txmilter picks keys by the domain of the From " \
    "field, which is what DMARC aligns to\n"
#define M_OUTBOUND_TEXT " is not supported: txmilter signs mail from InternalHosts, " \
    "SMTP-authenticated clients and the MTA names listed in MTA ({daemon_name}); list the " \
    "relaying hosts there\n"
#define M_STATS_TEXT " is not supported: use \"txmilterctl stats\" and the one log line " \
    "per message\n"
#define M_DEBUG_TEXT ": set LogWhy yes: it logs why each message was or was not signed\n"
#define M_HEADERS_TEXT ": txmilter checks the From field itself (On-MultipleFrom); Postfix " \
    "checks the rest\n"

static const MIGRATE_CASE migrate_cases[] = {
    /* accepted: txmilter always does what the value says */
    {"SyslogSuccess yes", "SyslogSuccess yes\n", "", ""},
    {"SyslogSuccess True", "SyslogSuccess True\n", "", ""},
    {"AutoRestart no", "AutoRestart No\n", "", ""},
    {"Background yes", "Background yes\n", "", ""},
    {"SignatureAlgorithm rsa-sha256", "SignatureAlgorithm RSA-SHA256\n", "", ""},
    {"ExternalIgnoreList any value", "ExternalIgnoreList refile:/etc/opendkim/TrustedHosts\n",
     "", ""},
    {"TemporaryDirectory any value", "TemporaryDirectory /var/tmp\n", "", ""},
    {"On-InternalError tempfail", "On-InternalError tempfail\n", "", ""},
    {"QueryCache yes", "QueryCache 1\n", "", ""},
    {"SoftwareHeader no", "SoftwareHeader false\n", "", ""},
    {"RemoveOldSignatures no", "RemoveOldSignatures no\n", "", ""},
    {"MilterDebug 0", "MilterDebug 0\n", "", ""},
    {"SyslogName txmilter", "SyslogName txmilter\n", "", ""},
    {"names ignore case", "syslogsuccess YES\n", "", ""},
    /* refused with a hint */
    {"AutoRestart yes", "AutoRestart yes\n",
     "%F:1: AutoRestart yes is not supported" M_RESTART_TEXT, ""},
    {"AutoRestartRate", "AutoRestartRate 10/1h\n",
     "%F:1: AutoRestartRate is not supported" M_RESTART_TEXT, ""},
    {"SyslogSuccess no", "SyslogSuccess no\n", "%F:1: SyslogSuccess no is not supported: "
     "txmilter always logs one line for each message it signs\n", ""},
    {"SignatureAlgorithm rsa-sha1", "SignatureAlgorithm rsa-sha1\n",
     "%F:1: SignatureAlgorithm rsa-sha1 is not supported: the key decides: an RSA key signs "
     "rsa-sha256, an Ed25519 key ed25519-sha256 (list both in the KeyTable with "
     "MultipleSignatures yes to sign twice); rsa-sha1 is not offered (RFC 8301)\n", ""},
    {"Background no", "Background no\n", "%F:1: Background no is not supported: txmilter "
     "detaches unless started with -f (txmilter.service runs it with -f)\n", ""},
    {"LDAPBindUser", "LDAPBindUser cn=x\n", "%F:1: LDAPBindUser" M_LDAP_TEXT, ""},
    {"ScreenPolicyScript", "ScreenPolicyScript /x.lua\n",
     "%F:1: ScreenPolicyScript" M_LUA_TEXT, ""},
    {"MaximumSignedBytes", "MaximumSignedBytes 1000\n",
     "%F:1: MaximumSignedBytes" M_LENGTH_TEXT, ""},
    {"SenderHeaders", "SenderHeaders Sender\n", "%F:1: SenderHeaders" M_SENDER_TEXT, ""},
    {"ResignAll", "ResignAll yes\n", "%F:1: ResignAll" M_OUTBOUND_TEXT, ""},
    {"Statistics", "Statistics /var/db/stats\n", "%F:1: Statistics" M_STATS_TEXT, ""},
    {"VBR-Certifiers", "VBR-Certifiers a.example\n", "%F:1: VBR-Certifiers is not supported: "
     "txmilter adds no VBR-Info field (RFC 5518)\n", ""},
    {"ReplaceRules", "ReplaceRules /x\n", "%F:1: ReplaceRules is not supported: txmilter "
     "does not rewrite header fields\n", ""},
    {"IdentityHeader", "IdentityHeader X-Ident\n", "%F:1: IdentityHeader is not supported: "
     "the i= tag comes from the SigningTable's third column (e.g. \"*@example.com mykey "
     "@example.com\")\n", ""},
    {"MilterDebug 6", "MilterDebug 6\n", "%F:1: MilterDebug 6 is not supported" M_DEBUG_TEXT, ""},
    {"RequiredHeaders yes", "RequiredHeaders yes\n",
     "%F:1: RequiredHeaders yes is not supported" M_HEADERS_TEXT, ""},
    {"Include", "Include /etc/opendkim/more.conf\n", "%F:1: Include is not supported: "
     "txmilter reads one file: copy the included directives into it\n", ""},
    {"ChangeRootDirectory", "ChangeRootDirectory /var/spool\n",
     "%F:1: ChangeRootDirectory is not supported: confine txmilter with systemd instead "
     "(RootDirectory=, ProtectSystem=strict in txmilter.service)\n", ""},
    {"On-Default", "On-Default reject\n", "%F:1: On-Default is not supported: set each case "
     "that applies to signing: On-NoKey, On-SignatureError, On-DNSError, On-MultipleFrom\n", ""},
    {"ResolverConfiguration", "ResolverConfiguration /etc/unbound.conf\n",
     "%F:1: ResolverConfiguration is not supported: set Nameservers, TrustAnchorFile and "
     "DNSTimeout instead\n", ""},
    {"BaseDirectory", "BaseDirectory /var/run/opendkim\n", "%F:1: BaseDirectory is not "
     "supported: txmilter does not change directory: give absolute paths\n", ""},
    {"PeerList", "PeerList /etc/opendkim/peers\n", "%F:1: PeerList is not supported: mail "
     "from clients that are neither InternalHosts nor authenticated already passes untouched: "
     "remove it\n", ""},
    {"DontSignMailTo", "DontSignMailTo a@example.org\n", "%F:1: DontSignMailTo is not "
     "supported: txmilter has no per-recipient exception: it signs every outbound message the "
     "SigningTable covers\n", ""},
    {"ExemptDomains", "ExemptDomains example.org\n", "%F:1: ExemptDomains is not supported: "
     "list in the SigningTable only the domains to sign; mail from the others follows "
     "On-NoKey\n", ""},
    {"OmitHeaders", "OmitHeaders X-Spam\n", "%F:1: OmitHeaders is not supported: txmilter "
     "signs only the fields named in SignHeaders: leave the ones to omit out of that list\n", ""},
    {"POPDBFile", "POPDBFile /var/db/pop\n", "%F:1: POPDBFile is not supported: "
     "txmilter has no POP-before-SMTP: use SMTP AUTH (authenticated clients count as "
     "outbound)\n", ""},
    {"SelectCanonicalizationHeader", "SelectCanonicalizationHeader X-Canon\n",
     "%F:1: SelectCanonicalizationHeader is not supported: one Canonicalization applies to "
     "all mail\n", ""},
    {"SignatureTTL", "SignatureTTL 86400\n", "%F:1: SignatureTTL is not supported: txmilter "
     "sets no x= expiry: remove it\n", ""},
    {"TestDNSData", "TestDNSData /x\n", "%F:1: TestDNSData is not supported: point "
     "Nameservers at a test resolver (127.0.0.1@PORT)\n", ""},
    {"DiagnosticDirectory", "DiagnosticDirectory /tmp\n",
     "%F:1: DiagnosticDirectory is not supported" M_DEBUG_TEXT, ""},
    {"CaptureUnknownErrors yes", "CaptureUnknownErrors yes\n", "%F:1: CaptureUnknownErrors "
     "yes is not supported: internal errors defer the message (4xx) and are logged; nothing "
     "is quarantined\n", ""},
    {"Diagnostics yes", "Diagnostics yes\n", "%F:1: Diagnostics yes is not supported: "
     "txmilter adds no z= tag (copied header fields)\n", ""},
    {"DisableCryptoInit yes", "DisableCryptoInit yes\n", "%F:1: DisableCryptoInit yes is "
     "not supported: txmilter initialises OpenSSL itself\n", ""},
    {"DNSConnect yes", "DNSConnect yes\n", "%F:1: DNSConnect yes is not supported: the "
     "resolver (libunbound) switches to TCP by itself when an answer needs it\n", ""},
    {"EnableCoredumps yes", "EnableCoredumps yes\n", "%F:1: EnableCoredumps yes is not "
     "supported: core dumps are systemd's: LimitCORE= in txmilter.service\n", ""},
    {"FixCRLF yes", "FixCRLF yes\n", "%F:1: FixCRLF yes is not supported: Postfix hands "
     "over CRLF line ends; txmilter signs the message as received\n", ""},
    {"KeepTemporaryFiles yes", "KeepTemporaryFiles yes\n", "%F:1: KeepTemporaryFiles yes "
     "is not supported: txmilter writes no temporary files (it hashes the body as it "
     "arrives)\n", ""},
    {"IgnoreMalformedMail yes", "IgnoreMalformedMail yes\n",
     "%F:1: IgnoreMalformedMail yes is not supported" M_HEADERS_TEXT, ""},
    {"On-InternalError accept", "On-InternalError accept\n", "%F:1: On-InternalError accept "
     "is not supported: an internal error always defers the message (4xx)\n", ""},
    {"QueryCache no", "QueryCache no\n", "%F:1: QueryCache no is not supported: the "
     "resolver (libunbound) always caches answers\n", ""},
    {"RemoveOldSignatures yes", "RemoveOldSignatures yes\n", "%F:1: RemoveOldSignatures yes "
     "is not supported: txmilter keeps the signatures a message already carries\n", ""},
    {"RequestReports yes", "RequestReports yes\n", "%F:1: RequestReports yes is not "
     "supported: txmilter adds no r=y tag\n", ""},
    {"ResolverTracing yes", "ResolverTracing yes\n",
     "%F:1: ResolverTracing yes is not supported" M_DEBUG_TEXT, ""},
    {"SoftStart yes", "SoftStart yes\n", "%F:1: SoftStart yes is not supported: txmilter "
     "has no LDAP or SQL datasets to wait for\n", ""},
    {"SoftwareHeader yes", "SoftwareHeader yes\n", "%F:1: SoftwareHeader yes is not "
     "supported: txmilter adds no DKIM-Filter field\n", ""},
    {"StrictTestMode yes", "StrictTestMode yes\n", "%F:1: StrictTestMode yes is not "
     "supported: test a message offline with txmilter -t\n", ""},
    {"SyslogName opendkim", "SyslogName opendkim\n", "%F:1: SyslogName opendkim is not "
     "supported: txmilter always logs under the name txmilter\n", ""},
    {"MacroList", "MacroList daemon_name=MSA\n", "%F:1: MacroList" M_OUTBOUND_TEXT, ""},
    {"BodyLengthDB", "BodyLengthDB /x\n", "%F:1: BodyLengthDB" M_LENGTH_TEXT, ""},
    /* ignored with a warning: verifying only */
    {"AlwaysAddARHeader", "AlwaysAddARHeader yes\n", "",
     "%F:1: warning: AlwaysAddARHeader" M_VERIFY_TEXT},
    {"MinimumKeyBits and On-BadSignature", "MinimumKeyBits 1024\n# x\nOn-BadSignature reject\n",
     "", "%F:1: warning: MinimumKeyBits" M_VERIFY_TEXT
     "%F:3: warning: On-BadSignature" M_VERIFY_TEXT},
    /* every problem in one run, next to a directive txmilter knows */
    {"hints, warnings and errors together",
     "AutoRestart yes\nSyslog maybe\nAuthservID mail.example.com\nStatistics /x\n",
     "%F:1: AutoRestart yes is not supported" M_RESTART_TEXT
     "%F:2: Syslog: bad value \"maybe\": expected yes or no\n"
     "%F:4: Statistics" M_STATS_TEXT, "%F:3: warning: AuthservID" M_VERIFY_TEXT},
    {"not an OpenDKIM directive either", "AutoRestarts yes\n",
     "%F:1: unknown directive \"AutoRestarts\"\n", ""},
};

/* migrate_want - a row's expected text with %F replaced by the file */
static char *migrate_want(const char *text, const char *path)
{
    const char *vals[26] = {0};
    char *tmp, *want;

    vals['F' - 'A'] = path;
    tmp = th_subst(text, vals);
    want = th_expand(tmp, NULL);
    free(tmp);
    return want;
}

/* test_migrate - errors and warnings of OpenDKIM lines, defaults kept */
static void test_migrate(void **state)
{
    const MIGRATE_CASE *c = *state;
    char *path = th_tempfile(c->text);
    char *want_errs = migrate_want(c->errs, path), *want_warn = migrate_want(c->warnings, path);
    const char *const none[4] = {NULL};
    BUF errs, warns;
    TXCONF *cf;
    int bad;

    buf_init(&errs, 65536);
    buf_init(&warns, 65536);
    cf = conf_load_all(path, CONF_PROG_ALL, &errs, &bad);
    assert_non_null(cf);
    assert_string_equal(errs.data ? errs.data : "", want_errs);
    assert_int_equal(bad, *want_errs != 0);
    for (size_t i = 0; i < cf->warnings.n; i++)
        buf_printf(&warns, "%s\n", cf->warnings.v[i]);
    assert_string_equal(warns.data ? warns.data : "", want_warn);
    if (!bad)
        check_fields(cf, none, 4);          /* accepted lines change nothing */
    conf_free(cf);
    buf_free(&errs);
    buf_free(&warns);
    free(want_errs);
    free(want_warn);
    th_unlink(path);
}

/* Every directive of opendkim.conf(5) (Debian 12's opendkim 2.11), so that
 * none of them is ever just "unknown". */
static const char *const opendkim_directives[] = {
    "AlwaysAddARHeader", "AuthservID", "AuthservIDWithJobID", "AutoRestart", "AutoRestartCount",
    "AutoRestartRate", "Background", "BaseDirectory", "BodyLengthDB", "BogusKey",
    "Canonicalization", "CaptureUnknownErrors", "ChangeRootDirectory", "ClockDrift",
    "DiagnosticDirectory", "Diagnostics", "DisableCryptoInit",
    "DNSConnect", "DNSTimeout", "Domain", "DomainKeysCompat", "DontSignMailTo",
    "EnableCoredumps", "ExemptDomains", "ExternalIgnoreList", "FinalPolicyScript", "FixCRLF",
    "IdentityHeader", "IdentityHeaderRemove", "IgnoreMalformedMail", "Include", "InternalHosts",
    "KeepAuthResults", "KeepTemporaryFiles", "KeyFile", "KeyTable", "LDAPAuthMechanism",
    "LDAPAuthName", "LDAPAuthRealm", "LDAPAuthUser", "LDAPBindPassword", "LDAPBindUser",
    "LDAPDisableCache", "LDAPKeepaliveIdle", "LDAPKeepaliveInterval", "LDAPKeepaliveProbes",
    "LDAPTimeout", "LDAPUseTLS", "LogResults", "LogWhy", "MacroList", "MaximumHeaders",
    "MaximumSignaturesToVerify", "MaximumSignedBytes", "MilterDebug", "Minimum",
    "MinimumKeyBits", "Mode", "MTA", "MTACommand", "MultipleSignatures", "MustBeSigned",
    "Nameservers", "NoHeaderB", "OmitHeaders", "On-BadSignature", "On-Default", "On-DNSError",
    "On-InternalError", "On-KeyNotFound", "On-NoSignature", "On-Security", "On-SignatureError",
    "OversignHeaders", "PeerList", "PidFile", "POPDBFile", "Quarantine", "QueryCache",
    "RedirectFailuresTo", "RemoveARAll", "RemoveARFrom", "RemoveOldSignatures",
    "ReplaceHeaders", "ReplaceRules", "ReportAddress", "ReportBccAddress", "RequestReports",
    "RequiredHeaders", "RequireSafeKeys", "ResignAll", "ResignMailTo", "ResolverConfiguration",
    "ResolverTracing", "ScreenPolicyScript", "SelectCanonicalizationHeader", "Selector",
    "SenderHeaders", "SenderMacro", "SendReports", "SetupPolicyScript", "SignatureAlgorithm",
    "SignatureTTL", "SignHeaders", "SigningTable", "SMTPURI", "Socket", "SoftStart",
    "SoftwareHeader", "Statistics", "StatisticsName", "StatisticsPolicyScript",
    "StatisticsPrefix", "StrictHeaders", "StrictTestMode", "SubDomains", "Syslog",
    "SyslogFacility", "SyslogName", "SyslogSuccess", "TemporaryDirectory", "TestDNSData",
    "TestPublicKeys", "TrustAnchorFile", "TrustSignaturesFrom", "UMask", "UnprotectedKey",
    "UserID", "VBR-Certifiers", "VBR-PurgeFields", "VBR-TrustedCertifiers",
    "VBR-TrustedCertifiersOnly", "VBR-Type", "WeakSyntaxChecks",
    NULL,
};

/* test_opendkim_known - each one is taken, refused with a hint, or ignored */
static void test_opendkim_known(void **state)
{
    (void) state;
    for (size_t i = 0; opendkim_directives[i]; i++) {
        char text[256], *path;
        BUF errs;
        TXCONF *cf;
        int bad;

        snprintf(text, sizeof(text), "%s x\n", opendkim_directives[i]);
        path = th_tempfile(text);
        buf_init(&errs, 65536);
        cf = conf_load_all(path, CONF_PROG_ALL, &errs, &bad);
        assert_non_null(cf);
        if (errs.data && strstr(errs.data, "unknown directive"))
            fail_msg("%s: %s", opendkim_directives[i], errs.data);
        conf_free(cf);
        buf_free(&errs);
        th_unlink(path);
    }
}

/* One file read by each program: NULL where it loads, else a part of the
 * error; warn: a part of a warning (NULL: none) per program. */
typedef struct prog_case {
    const char *name;
    const char *text;
    const char *want[4];        /* txmilter, txmilter-unsubd, txmilterctl, -n (all) */
    const char *warn[4];
} PROG_CASE;

static const unsigned prog_of[4] = {
    CONF_PROG_TXMILTER, CONF_PROG_UNSUBD, CONF_PROG_CTL, CONF_PROG_ALL,
};

static const PROG_CASE prog_cases[] = {
    {"txmilter_value_skipped_by_others", "Canonicalization bogus\n",
        {"Canonicalization: bad value", NULL, NULL, "Canonicalization: bad value"}, {NULL}},
    {"txmilter_repeat_skipped_by_others", "Socket unix:/a\nSocket unix:/b\n",
        {"given twice", NULL, NULL, "given twice"}, {NULL}},
    {"txmilter_missing_value_skipped", "SignHeaders\n",
        {"missing value", NULL, NULL, "missing value"}, {NULL}},
    {"signing_domains_read_by_unsubd_too", "KeyTable\n",
        {"missing value", "missing value", NULL, "missing value"}, {NULL}},
    {"unsubd_value_skipped_by_txmilter", "UnsubscribeListen nowhere\n",
        {NULL, "UnsubscribeListen", NULL, "UnsubscribeListen"}, {NULL}},
    {"shared_value_checked_by_both_daemons", "UMask 999\n",
        {"UMask", "UMask", NULL, "UMask"}, {NULL}},
    {"store_checked_by_all_three", "Store bogus://x\n",
        {"Store", "Store", "Store", "Store"}, {NULL}},
    {"ctl_value_skipped_by_unsubd", "ControlSocket relative\n",
        {"ControlSocket", NULL, "ControlSocket", "ControlSocket"}, {NULL}},
    {"unknown_refused_by_all", "Sokcet unix:/a\n",
        {"unknown directive \"Sokcet\"", "unknown directive \"Sokcet\"",
         "unknown directive \"Sokcet\"", "unknown directive \"Sokcet\""}, {NULL}},
    {"opendkim_refused_only_by_txmilter", "BaseDirectory /var/tmp\n",
        {"BaseDirectory", NULL, NULL, "BaseDirectory"}, {NULL}},
    {"opendkim_warning_only_for_txmilter", "On-BadSignature reject\n",
        {NULL, NULL, NULL, NULL}, {"On-BadSignature", NULL, NULL, "On-BadSignature"}},
    {"pidfile_alone_warns_unsubd", "PidFile /run/txmilter/txmilter.pid\n",
        {NULL, NULL, NULL, NULL}, {NULL, ":1: warning: PidFile is txmilter's pid file", NULL, NULL}},
    {"pidfile_and_own_pidfile_quiet", "PidFile /run/a.pid\nUnsubscribePidFile /run/b.pid\n",
        {NULL, NULL, NULL, NULL}, {NULL}},
    {"soft_limit_without_return_path_warns_txmilter", "BounceSoftLimit 3/7d\n",
        {NULL, NULL, NULL, NULL},
        {":1: warning: BounceSoftLimit is set but ReturnPath is not", NULL, NULL,
         ":1: warning: BounceSoftLimit is set but ReturnPath is not"}},
    {"soft_limit_with_return_path_quiet", "UnsubscribeKeyFile /k\n"
        "ReturnPath bounces+%{token}@bounce.%{domain}\nBounceSoftLimit 3/7d\n",
        {NULL, NULL, NULL, NULL}, {NULL}},
    {"same_pidfile_refused_by_check", "PidFile /run/a.pid\nUnsubscribePidFile /run/a.pid\n",
        {NULL, NULL, NULL, ":2: UnsubscribePidFile /run/a.pid is also PidFile (line 1)"}, {NULL}},
};

/* test_prog - each program parses its own directives and skips the others' */
static void test_prog(void **state)
{
    const PROG_CASE *c = *state;
    char *path = th_tempfile(c->text);

    for (int p = 0; p < 4; p++) {
        BUF errs, warns;
        TXCONF *cf;

        buf_init(&errs, 65536);
        buf_init(&warns, 65536);
        cf = conf_load(path, prog_of[p], &errs);
        if (c->want[p] == NULL) {
            if (cf == NULL)
                fail_msg("program %d: %s", p, errs.data ? errs.data : "");
        } else {
            assert_null(cf);
            if (errs.data == NULL || strstr(errs.data, c->want[p]) == NULL)
                fail_msg("program %d: want \"%s\" in \"%s\"", p, c->want[p], errs.data ? errs.data : "");
        }
        for (size_t i = 0; cf && i < cf->warnings.n; i++)
            buf_printf(&warns, "%s\n", cf->warnings.v[i]);
        if (c->warn[p] == NULL)
            assert_string_equal(warns.data ? warns.data : "", "");
        else if (warns.data == NULL || strstr(warns.data, c->warn[p]) == NULL)
            fail_msg("program %d: want warning \"%s\" in \"%s\"", p, c->warn[p],
                     warns.data ? warns.data : "");
        conf_free(cf);
        buf_free(&errs);
        buf_free(&warns);
    }
    th_unlink(path);
}

/* test_prog_skipped_default - a skipped directive leaves the default, yet
 * its line is known (for the hints) */
static void test_prog_skipped_default(void **state)
{
    char *path = th_tempfile("Socket inet:8891@localhost\nUnsubscribeListen [::1]:9000\n");
    TXCONF *cf;

    (void) state;
    assert_non_null(cf = conf_load(path, CONF_PROG_UNSUBD, NULL));
    assert_string_equal(cf->daemon.socket, "unix:/run/txmilter/txmilter.sock");
    assert_string_equal(cf->unsubd.listen, "[::1]:9000");
    assert_int_equal(conf_line(cf, "Socket"), 1);
    conf_free(cf);
    assert_non_null(cf = conf_load(path, CONF_PROG_TXMILTER, NULL));
    assert_string_equal(cf->daemon.socket, "inet:8891@localhost");
    assert_string_equal(cf->unsubd.listen, "127.0.0.1:8025");
    conf_free(cf);
    th_unlink(path);
}

int main(void)
{
    static const struct CMUnitTest misc[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_default_lists),
        cmocka_unit_test(test_where),
        cmocka_unit_test(test_fixture),
        cmocka_unit_test(test_opendkim_known),
        cmocka_unit_test(test_prog_skipped_default),
    };
    int fails = 0;

    fails += RUN("conf_ok", test_ok, ok_cases);
    fails += RUN("conf_bad", test_bad, bad_cases);
    fails += RUN("conf_migrate", test_migrate, migrate_cases);
    fails += RUN("conf_open", test_open, open_cases);
    fails += RUN("conf_check_signing", test_signing, signing_cases);
    fails += RUN("conf_turned_off", test_turned_off, off_cases);
    fails += RUN("conf_suppression_list", test_suppression_list, list_cases);
    fails += RUN("conf_check_file", test_check_file, file_cases);
    fails += RUN("conf_prog", test_prog, prog_cases);
    fails += cmocka_run_group_tests_name("conf_misc", misc, NULL, NULL);
    return fails ? 1 : 0;
}
