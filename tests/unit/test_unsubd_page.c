/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_unsubd_page.c - unit tests for txmilter-unsubd's pages: the
 * template checks (a table of templates an operator might write, with
 * the file:line message each gets), escaping, the style hashes of the
 * Content-Security-Policy, the built-in pages in every language, and
 * UnsubscribeTemplateDirectory (names, per-language files, a FIFO, a
 * missing directory).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"
#include "unsubd_page.h"
#include "unsubd_tmpl.h"
#include "util.h"

/* ---- template checks ---- */

typedef struct tmpl_case {
    const char *name;
    const char *text;
    int with_form;
    const char *want_err;       /* NULL: accepted; else a part of the message */
} TMPL_CASE;

static const TMPL_CASE tmpl_cases[] = {
    {"minimal-confirm", "<p>%{message}</p>%{form}", 1, NULL},
    {"minimal-done", "<html lang=\"%{lang}\"><title>%{title}</title><h1>%{heading}</h1>%{note}", 0, NULL},
    {"all-variables", "%{lang}%{title}%{heading}%{message}%{note}%{stream}%{recipient}%{form}", 1, NULL},
    {"percent-text", "100% sure, %s, %{ no, %}", 0, "t.html:1: unknown variable %{ "},
    {"plain-percent", "100% sure", 0, NULL},
    {"unknown-variable", "<p>\n%{token}</p>", 0, "t.html:2: unknown variable %{token}"},
    {"variable-case", "%{Stream}", 0, "unknown variable %{Stream}"},
    {"unterminated", "%{stream", 0, "unknown variable %{stream"},
    {"form-missing", "<p>%{message}</p>", 1, "no %{form}"},
    {"form-twice", "%{form}%{form}", 1, "more than once"},
    {"form-elsewhere", "%{form}", 0, "only for the confirmation page"},
    {"script", "<p>x</p>\n<SCRIPT>alert(1)</SCRIPT>%{form}", 1, "t.html:2: <script> is not allowed"},
    {"scripted-word", "<scripts-are-fine-as-text>%{form}", 1, NULL},
    {"link", "<link rel=stylesheet href=x.css>", 0, "<link> is not allowed"},
    {"iframe", "<iframe src=\"data:,x\">", 0, "<iframe> is not allowed"},
    {"base", "<base href=\"https://evil.example/\">", 0, "<base> is not allowed"},
    {"style-attribute", "<p style=\"color:red\">x</p>", 0, "style= attribute"},
    {"outside-image", "<img alt=\"\" src=\"https://cdn.example/logo.png\">", 0, "src= other than a data: URI"},
    {"data-image", "<img alt=\"Shop\" src=\"data:image/png;base64,iVBORw0KGgo=\">", 0, NULL},
    {"style-ok", "<style>p{color:red}</style>", 0, NULL},
    {"style-media", "<style media=\"screen\">p{color:red}</style>", 0, NULL},
    {"style-variable", "<style>\np{content:\"%{stream}\"}</style>", 0, "t.html:2: a variable inside <style>"},
    {"style-import", "<style>@import url(data:,x);</style>", 0, "@import"},
    {"style-outside-url", "<style>body{background:url( \"https://x.example/a.png\")}</style>", 0,
     "url() other than a data: URI"},
    {"style-data-url", "<style>body{background:url('data:image/png;base64,AAAA')}</style>", 0, NULL},
    {"style-unclosed", "<p>\n<style>p{}", 0, "t.html:2: <style> without </style>"},
    {"styles-too-many", "<style>a{}</style><style>b{}</style><style>c{}</style><style>d{}</style>"
     "<style>e{}</style>", 0, "more than 4 <style> elements"},
    {"stylesheet-word", "<styles>", 0, NULL},
    {"nul", "a{NUL}b", 0, "a NUL byte"},
    {"comment-ignored", "<!-- a <style> and %{form}, <script> -->%{form}<!-- %{nosuch}", 1, NULL},
    {"comment-line-numbers", "<!--\n\n-->\n%{nosuch}", 0, "t.html:4: unknown variable"},
    {"too-large", "{X65537}", 0, "more than 65536 bytes"},
};

static void test_tmpl(void **state)
{
    const TMPL_CASE *c = *state;
    size_t len;
    char *text = th_expand(c->text, &len);
    UNSUBD_TMPL *t;
    BUF errs;

    buf_init(&errs, 64 * 1024);
    t = unsubd_tmpl_compile(text, len, "t.html", c->with_form, &errs);
    if (c->want_err == NULL) {
        if (t == NULL)
            fail_msg("refused: %s", errs.data);
    } else {
        assert_null(t);
        if (errs.data == NULL || strstr(errs.data, c->want_err) == NULL)
            fail_msg("want \"%s\" in: %s", c->want_err, errs.data ? errs.data : "(nothing)");
    }
    unsubd_tmpl_free(t);
    buf_free(&errs);
    free(text);
}

/* Every value is escaped, in text and attributes; %{form} is markup; the
 * style hash is SHA-256 of the element's content, as browsers compute it. */
static void test_render(void **state)
{
    static const char text[] = "<html lang=\"%{lang}\"><style>p{color:red}</style>"
        "<p title=\"%{stream}\">%{recipient}</p>%{form}%{note}";
    const char *vals[UNSUBD_TMPL_NVARS] = {"fr", NULL, NULL, NULL, NULL, "\"><script>x</script>",
                                           "a&b'c", "<form></form>"};
    UNSUBD_TMPL *t;
    BUF errs, out;

    (void) state;
    buf_init(&errs, 4096);
    buf_init(&out, 4096);
    assert_non_null(t = unsubd_tmpl_compile(text, strlen(text), "t.html", 1, &errs));
    assert_int_equal(unsubd_tmpl_render(t, vals, &out), 0);
    assert_string_equal(out.data, "<html lang=\"fr\"><style>p{color:red}</style>"
                        "<p title=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\">a&amp;b&#39;c</p><form></form>");
    assert_string_equal(unsubd_tmpl_styles(t), "'sha256-p0bF+un5yUb9MBO6xRb8kPHlY2BdpHVtLiFkDrZPF64='");
    buf_free(&out);
    buf_init(&out, 20);                     /* too small: -1, no overflow */
    assert_int_equal(unsubd_tmpl_render(t, vals, &out), -1);
    buf_free(&out);
    unsubd_tmpl_free(t);
    buf_free(&errs);
}

/* A comment is text: kept, nothing in it expanded. */
static void test_comment(void **state)
{
    static const char text[] = "<!-- %{stream} -->%{stream}";
    const char *vals[UNSUBD_TMPL_NVARS] = {NULL, NULL, NULL, NULL, NULL, "<s>", NULL, NULL};
    UNSUBD_TMPL *t;
    BUF errs, out;

    (void) state;
    buf_init(&errs, 4096);
    buf_init(&out, 4096);
    assert_non_null(t = unsubd_tmpl_compile(text, strlen(text), "t.html", 0, &errs));
    assert_int_equal(unsubd_tmpl_render(t, vals, &out), 0);
    assert_string_equal(out.data, "<!-- %{stream} -->&lt;s&gt;");
    assert_string_equal(unsubd_tmpl_styles(t), "");
    unsubd_tmpl_free(t);
    buf_free(&out);
    buf_free(&errs);
}

/* ---- the built-in pages ---- */

typedef struct page_case {
    const char *name;
    enum unsubd_page_kind kind;
    const char *accept_language;
    const char *want[4];        /* parts of the page */
} PAGE_CASE;

static const PAGE_CASE page_cases[] = {
    {"confirm-en", UNSUBD_PAGE_CONFIRM, NULL,
     {"<html lang=\"en\">", "Press the button to stop mail from &lt;news&gt;@shop.example to j***@example.org.",
      "<button type=\"submit\">Unsubscribe</button>", "name=\"List-Unsubscribe\" value=\"One-Click\""}},
    {"confirm-fr", UNSUBD_PAGE_CONFIRM, "fr-FR,fr;q=0.9,en;q=0.8",
     {"<html lang=\"fr\">", "ne plus recevoir les messages de &lt;news&gt;@shop.example",
      ">Me désabonner</button>", "<title>Se désabonner</title>"}},
    {"confirm-id", UNSUBD_PAGE_CONFIRM, "id", {"<html lang=\"id\">", ">Berhenti berlangganan</button>"}},
    {"confirm-de", UNSUBD_PAGE_CONFIRM, "de-AT", {"<html lang=\"de\">", ">Abmelden</button>"}},
    {"confirm-es", UNSUBD_PAGE_CONFIRM, "es-419", {"<html lang=\"es\">", ">Cancelar suscripción</button>"}},
    {"confirm-fallback", UNSUBD_PAGE_CONFIRM, "ja, zh;q=0.5", {"<html lang=\"en\">"}},
    {"done-fr", UNSUBD_PAGE_DONE, "fr", {"Vous êtes désabonné", "j***@example.org ne recevra plus"}},
    {"invalid-de", UNSUBD_PAGE_INVALID, "de", {"Dieser Link funktioniert nicht"}},
    {"unavailable-es", UNSUBD_PAGE_UNAVAILABLE, "es", {"Su solicitud no se ha registrado"}},
};

static UNSUBD_PAGES *builtin;

static void test_page(void **state)
{
    const PAGE_CASE *c = *state;
    char csp[UNSUBD_CSP_MAX];
    BUF out;

    buf_init(&out, UNSUBD_PAGE_MAX);
    assert_int_equal(unsubd_page_render(builtin, c->kind, unsubd_page_lang(c->accept_language),
                                        "<news>@shop.example", "j***@example.org", &out, csp, sizeof(csp)), 0);
    for (int i = 0; i < 4 && c->want[i]; i++)
        if (strstr(out.data, c->want[i]) == NULL)
            fail_msg("want \"%s\" in:\n%s", c->want[i], out.data);
    assert_null(strstr(out.data, "<news>"));
    assert_null(strstr(out.data, "action="));       /* the form posts to the page's own URL */
    assert_int_equal(strstr(out.data, "<form") != NULL, c->kind == UNSUBD_PAGE_CONFIRM);
    assert_non_null(strstr(csp, "default-src 'none'; style-src 'sha256-"));
    assert_non_null(strstr(csp, "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"));
    assert_null(strstr(csp, "script"));
    assert_null(strstr(csp, "unsafe"));
    buf_free(&out);
}

/* ---- UnsubscribeTemplateDirectory ---- */

/* put - write a file in dir */
static void put(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *fp;

    (void) snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_non_null(fp = fopen(path, "w"));
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

/* render - page kind in language tag lang from ps */
static char *render(const UNSUBD_PAGES *ps, enum unsubd_page_kind kind, const char *lang)
{
    char csp[UNSUBD_CSP_MAX];
    BUF out;
    char *s;

    buf_init(&out, UNSUBD_PAGE_MAX);
    assert_int_equal(unsubd_page_render(ps, kind, unsubd_page_lang(lang), "s@x", "r***@y", &out,
                                        csp, sizeof(csp)), 0);
    s = xstrdup(out.data);
    buf_free(&out);
    return s;
}

static void test_dir(void **state)
{
    char dir[] = "/tmp/test_unsubd_page.XXXXXX", path[600], *s;
    UNSUBD_PAGES *ps;
    BUF errs;

    (void) state;
    assert_non_null(mkdtemp(dir));
    put(dir, "confirm.html", "<h1>SHOP %{heading}</h1>%{form}");
    put(dir, "confirm.fr.html", "<h1>BOUTIQUE %{heading}</h1>%{form}");
    put(dir, "logo.png", "not a template: ignored");
    (void) snprintf(path, sizeof(path), "%s/confirm.de.html", dir);
    assert_int_equal(symlink("confirm.html", path), 0);     /* a link to a regular file is one */
    buf_init(&errs, 64 * 1024);
    assert_non_null(ps = unsubd_page_load(dir, "/etc/t.conf", 7, &errs));
    assert_int_equal(unsubd_page_count(ps), 3);
    s = render(ps, UNSUBD_PAGE_CONFIRM, "de");
    assert_non_null(strstr(s, "<h1>SHOP Von diesen E-Mails abmelden?</h1>"));
    free(s);
    s = render(ps, UNSUBD_PAGE_CONFIRM, "fr");
    assert_non_null(strstr(s, "<h1>BOUTIQUE Vous désabonner"));
    free(s);
    s = render(ps, UNSUBD_PAGE_DONE, "fr");             /* not in dir: built-in */
    assert_non_null(strstr(s, "<main>"));
    free(s);
    unsubd_page_free(ps);

    /* a misspelt name, a bad template and a FIFO: all reported, none blocks */
    put(dir, "confirmation.html", "x");
    put(dir, "done.pt.html", "x");
    put(dir, "error.html", "<p>\n%{token}</p>");
    (void) snprintf(path, sizeof(path), "%s/done.html", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    buf_reset(&errs);
    assert_null(unsubd_page_load(dir, "/etc/t.conf", 7, &errs));
    assert_non_null(strstr(errs.data, "/confirmation.html: not a template of txmilter-unsubd"));
    assert_non_null(strstr(errs.data, "/done.pt.html: not a template of txmilter-unsubd"));
    assert_non_null(strstr(errs.data, "/error.html:2: unknown variable %{token}"));
    assert_non_null(strstr(errs.data, "/done.html: not a regular file"));

    buf_reset(&errs);
    (void) snprintf(path, sizeof(path), "%s/nosuch", dir);
    assert_null(unsubd_page_load(path, "/etc/t.conf", 7, &errs));
    assert_non_null(strstr(errs.data, "/etc/t.conf:7: UnsubscribeTemplateDirectory "));
    assert_non_null(strstr(errs.data, "No such file or directory"));
    buf_reset(&errs);
    (void) snprintf(path, sizeof(path), "%s/logo.png", dir);
    assert_null(unsubd_page_load(path, "/etc/t.conf", 7, &errs));
    assert_non_null(strstr(errs.data, "not a directory"));
    buf_free(&errs);
    assert_int_equal(th_remove_dir(dir), 0);
}

static int setup_builtin(void **state)
{
    BUF errs;

    (void) state;
    buf_init(&errs, 4096);
    builtin = unsubd_page_load(NULL, NULL, 0, &errs);
    buf_free(&errs);
    return builtin ? 0 : -1;
}

static int teardown_builtin(void **state)
{
    (void) state;
    unsubd_page_free(builtin);
    return 0;
}

int main(void)
{
    const struct CMUnitTest single[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_comment),
        cmocka_unit_test(test_dir),
    };
    int failed = 0;

    failed += RUN("unsubd_tmpl_compile", test_tmpl, tmpl_cases);
    if (setup_builtin(NULL) < 0)
        return 1;
    failed += RUN("unsubd_page_render", test_page, page_cases);
    (void) teardown_builtin(NULL);
    failed += cmocka_run_group_tests_name("unsubd_page", single, NULL, NULL);
    return failed ? 1 : 0;
}
