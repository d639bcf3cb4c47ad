/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unsubd_page.c - the unsubscribe pages: built in, or the operator's
 *
 * SYNOPSIS
 *	#include "unsubd_page.h"
 *
 *	UNSUBD_PAGES *unsubd_page_load(const char *dir, const char *conffile,
 *				       int confline, BUF *errs)
 *	void	unsubd_page_free(UNSUBD_PAGES *ps)
 *	int	unsubd_page_count(const UNSUBD_PAGES *ps)
 *	int	unsubd_page_lang(const char *accept_language)
 *	int	unsubd_page_render(const UNSUBD_PAGES *ps,
 *				   enum unsubd_page_kind kind, int lang,
 *				   const char *stream, const char *masked_rcpt,
 *				   BUF *out, char *csp, size_t csplen)
 *
 * DESCRIPTION
 *	Three templates make the pages (unsubd_tmpl.c for their syntax):
 *	confirm.html (GET /u/TOKEN: the button), done.html (after it) and
 *	error.html (a bad or expired link, and a store that could not
 *	record the unsubscribe). The built-in ones are small, accessible,
 *	work on a phone and in dark mode, and use no outside resource.
 *
 *	unsubd_page_load() compiles the built-in templates and, with dir
 *	(UnsubscribeTemplateDirectory), each of NAME.html and NAME.LANG.html
 *	found there (LANG one of unsubd_text_langs[]). Lookup for a page in
 *	language L: NAME.L.html, else NAME.html, else the built-in one. Any
 *	other *.html file in dir is an error (a misspelt name would be
 *	silently ignored otherwise); other files are left alone (images to
 *	embed, notes). A template is opened with O_NONBLOCK and must be a
 *	regular file (a symbolic link to one is fine): a FIFO or device
 *	never blocks start-up.
 *
 *	unsubd_page_render() fills the variables: lang, the texts of
 *	unsubd_text.c for that language (message with the stream and
 *	recipient in it), stream, recipient and, on the confirmation page,
 *	form: a form that POSTs List-Unsubscribe=One-Click to the page's own
 *	URL (no action attribute: whatever public prefix the reverse proxy
 *	gives it; the token never appears in the page). The policy written
 *	to csp allows the template's own <style> elements by hash, images
 *	as data: URIs, form posts to the page's origin, nothing else.
 *
 * DIAGNOSTICS
 *	unsubd_page_load(): "conffile:confline: ..." for a directory that
 *	is missing or not a directory, "dir/NAME.html:line: ..." for a
 *	template that cannot be read or is refused (unsubd_tmpl.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unsubd_lang.h"
#include "unsubd_page.h"
#include "unsubd_tmpl.h"

#define UNSUBD_PAGE_NFILES  3           /* confirm, done, error */

static const char *const unsubd_page_files[UNSUBD_PAGE_NFILES] = {"confirm", "done", "error"};

/* The built-in look: one style shared by the three pages. */
#define UNSUBD_PAGE_HEAD \
    "<!DOCTYPE html>\n<html lang=\"%{lang}\">\n<head>\n<meta charset=\"utf-8\">\n" \
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" \
    "<meta name=\"robots\" content=\"noindex, nofollow\">\n" \
    "<meta name=\"referrer\" content=\"no-referrer\">\n" \
    "<title>%{title}</title>\n<style>\n" \
    ":root{color-scheme:light dark}\n" \
    "body{margin:0;background:#eef1f5;color:#1b2430;" \
    "font:1.0625rem/1.55 system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",sans-serif}\n" \
    "main{box-sizing:border-box;max-width:34rem;margin:10vh auto 2rem;padding:2rem 1.75rem;" \
    "background:#fff;border-radius:.75rem;box-shadow:0 1px 4px rgba(0,0,0,.15)}\n" \
    "h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}\n" \
    "p{margin:0 0 1rem;overflow-wrap:anywhere}\np:last-of-type{margin-bottom:0}\n" \
    "form{margin:1.5rem 0}\n" \
    "button{font:inherit;font-weight:600;width:100%;min-height:3rem;padding:.75rem 1.5rem;border:0;" \
    "border-radius:.5rem;background:#1747b8;color:#fff;cursor:pointer}\n" \
    "button:hover{background:#0f3590}\n" \
    "button:focus-visible{outline:3px solid #e8a200;outline-offset:3px}\n" \
    ".note{color:#4a5565;font-size:.9375rem;margin:0}\n.note:empty{display:none}\n" \
    "@media (max-width:36rem){main{margin:0;min-height:100vh;border-radius:0;box-shadow:none}}\n" \
    "@media (prefers-color-scheme:dark){body{background:#10151c;color:#e6e9ee}main{background:#1b2430}" \
    "button{background:#4a7dff;color:#08101f}button:hover{background:#7399ff}.note{color:#a9b2bf}}\n" \
    "</style>\n</head>\n<body>\n<main>\n<h1>%{heading}</h1>\n<p>%{message}</p>\n"
#define UNSUBD_PAGE_TAIL "<p class=\"note\">%{note}</p>\n</main>\n</body>\n</html>\n"

static const char *const unsubd_page_builtin[UNSUBD_PAGE_NFILES] = {
    UNSUBD_PAGE_HEAD "%{form}\n" UNSUBD_PAGE_TAIL,
    UNSUBD_PAGE_HEAD UNSUBD_PAGE_TAIL,
    UNSUBD_PAGE_HEAD UNSUBD_PAGE_TAIL,
};

struct unsubd_pages {
    UNSUBD_TMPL *builtin[UNSUBD_PAGE_NFILES];
    UNSUBD_TMPL *own[UNSUBD_PAGE_NFILES][1 + UNSUBD_NLANGS];  /* [0]: any language */
    int     count;
};

/* unsubd_page_name - which template a file name is: file and 1 + language (0: none); -1 */
static int unsubd_page_name(const char *name, int *file, int *lang)
{
    size_t n = strlen(name);

    if (n < 6 || strcmp(name + n - 5, ".html") != 0)
        return -1;
    for (int f = 0; f < UNSUBD_PAGE_NFILES; f++) {
        size_t fl = strlen(unsubd_page_files[f]);

        if (strncmp(name, unsubd_page_files[f], fl) != 0)
            continue;
        *file = f;
        if (n == fl + 5) {
            *lang = 0;
            return 0;
        }
        for (int l = 0; l < UNSUBD_NLANGS; l++)
            if (name[fl] == '.' && n == fl + 1 + strlen(unsubd_text_langs[l]) + 5
                && strncmp(name + fl + 1, unsubd_text_langs[l], strlen(unsubd_text_langs[l])) == 0) {
                *lang = 1 + l;
                return 0;
            }
    }
    return -1;
}

/* unsubd_page_read - a template file, without blocking; NULL after an error in errs */
static UNSUBD_TMPL *unsubd_page_read(const char *path, int file, BUF *errs)
{
    struct stat st;
    char *text;
    ssize_t got = 0, r;
    UNSUBD_TMPL *t;
    int fd;

    if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
        util_err_at(errs, path, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > UNSUBD_TMPL_MAX) {
        if (fstat(fd, &st) < 0)
            util_err_at(errs, path, 0, "cannot stat: %s", strerror(errno));
        else
            util_err_at(errs, path, 0, "%s", !S_ISREG(st.st_mode) ? "not a regular file" : "larger than 64 KB");
        (void) close(fd);
        return NULL;
    }
    text = xmalloc((size_t) st.st_size + 1);
    while (got < st.st_size && (r = read(fd, text + got, (size_t) (st.st_size - got))) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            util_err_at(errs, path, 0, "cannot read: %s", strerror(errno));
            free(text);
            (void) close(fd);
            return NULL;
        }
        got += r;
    }
    (void) close(fd);
    t = unsubd_tmpl_compile(text, (size_t) got, path, file == UNSUBD_PAGE_CONFIRM, errs);
    free(text);
    return t;
}

/* unsubd_page_dir - the templates of dir into ps; -1 after errors */
static int unsubd_page_dir(UNSUBD_PAGES *ps, const char *dir, const char *conffile, int confline, BUF *errs)
{
    struct dirent *de;
    DIR *dp;
    int bad = 0;

    if ((dp = opendir(dir)) == NULL) {
        util_err_at(errs, conffile, confline, "UnsubscribeTemplateDirectory %s: %s", dir,
                    errno == ENOTDIR ? "not a directory" : strerror(errno));
        return -1;
    }
    while ((de = readdir(dp)) != NULL) {
        char path[4096];
        int file, lang;

        if (de->d_name[0] == '.' || strlen(de->d_name) < 5
            || strcmp(de->d_name + strlen(de->d_name) - 5, ".html") != 0)
            continue;
        if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
            continue;
        if (unsubd_page_name(de->d_name, &file, &lang) < 0) {
            util_err_at(errs, path, 0, "not a template of txmilter-unsubd: the names are confirm.html, "
                        "done.html and error.html, or with a language: confirm.fr.html "
                        "(en, fr, id, de, es)");
            bad = 1;
            continue;
        }
        if ((ps->own[file][lang] = unsubd_page_read(path, file, errs)) == NULL)
            bad = 1;
        else
            ps->count++;
    }
    (void) closedir(dp);
    return bad ? -1 : 0;
}

/* unsubd_page_load - built-in pages and the operator's */
UNSUBD_PAGES *unsubd_page_load(const char *dir, const char *conffile, int confline, BUF *errs)
{
    UNSUBD_PAGES *ps = xcalloc(1, sizeof(*ps));

    for (int f = 0; f < UNSUBD_PAGE_NFILES; f++)
        if ((ps->builtin[f] = unsubd_tmpl_compile(unsubd_page_builtin[f], strlen(unsubd_page_builtin[f]),
                                                  "(built-in page)", f == UNSUBD_PAGE_CONFIRM, errs)) == NULL) {
            unsubd_page_free(ps);           /* a bug: the tests compile them */
            return NULL;
        }
    if (dir != NULL && unsubd_page_dir(ps, dir, conffile, confline, errs) < 0) {
        unsubd_page_free(ps);
        return NULL;
    }
    return ps;
}

/* unsubd_page_free - release the pages */
void unsubd_page_free(UNSUBD_PAGES *ps)
{
    if (ps == NULL)
        return;
    for (int f = 0; f < UNSUBD_PAGE_NFILES; f++) {
        unsubd_tmpl_free(ps->builtin[f]);
        for (int l = 0; l <= UNSUBD_NLANGS; l++)
            unsubd_tmpl_free(ps->own[f][l]);
    }
    free(ps);
}

/* unsubd_page_count - templates from the directory */
int unsubd_page_count(const UNSUBD_PAGES *ps)
{
    return ps->count;
}

/* unsubd_page_lang - the visitor's language */
int unsubd_page_lang(const char *accept_language)
{
    int i = unsubd_lang_pick(accept_language, unsubd_text_langs, UNSUBD_NLANGS);

    return i < 0 ? 0 : i;
}

/* unsubd_page_message - msg with %{stream} and %{recipient} put in, as text */
static int unsubd_page_message(BUF *b, const char *msg, const char *stream, const char *rcpt)
{
    while (*msg) {
        if (strncmp(msg, "%{stream}", 9) == 0) {
            if (buf_puts(b, stream ? stream : "") < 0)
                return -1;
            msg += 9;
        } else if (strncmp(msg, "%{recipient}", 12) == 0) {
            if (buf_puts(b, rcpt ? rcpt : "") < 0)
                return -1;
            msg += 12;
        } else if (buf_append(b, msg++, 1) < 0) {
            return -1;
        }
    }
    return buf_append(b, "", 1) < 0 ? -1 : 0;   /* NUL-terminated, data non-NULL */
}

/* unsubd_page_form - the confirmation form with the button's label */
static int unsubd_page_form(BUF *b, int lang)
{
    if (buf_puts(b, "<form method=\"post\" enctype=\"application/x-www-form-urlencoded\">\n"
                 "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\n"
                 "<button type=\"submit\">") < 0
        || unsubd_tmpl_escape(b, unsubd_text_button(lang)) < 0
        || buf_puts(b, "</button>\n</form>") < 0)
        return -1;
    return 0;
}

/* unsubd_page_render - one page in one language */
int unsubd_page_render(const UNSUBD_PAGES *ps, enum unsubd_page_kind kind, int lang,
                       const char *stream, const char *masked_rcpt, BUF *out, char *csp, size_t csplen)
{
    const UNSUBD_TEXT *tx = unsubd_text_get(lang, kind);
    int file = kind == UNSUBD_PAGE_CONFIRM ? 0 : kind == UNSUBD_PAGE_DONE ? 1 : 2;
    const UNSUBD_TMPL *t;
    const char *vals[UNSUBD_TMPL_NVARS];
    const char *styles;
    BUF msg, form;
    int rc;

    if (lang < 0 || lang >= UNSUBD_NLANGS)
        lang = 0;
    t = ps->own[file][1 + lang] ? ps->own[file][1 + lang]
        : ps->own[file][0] ? ps->own[file][0] : ps->builtin[file];
    buf_init(&msg, 4096);
    buf_init(&form, 1024);
    vals[UNSUBD_VAR_LANG] = unsubd_text_langs[lang];
    vals[UNSUBD_VAR_TITLE] = tx->title;
    vals[UNSUBD_VAR_HEADING] = tx->heading;
    vals[UNSUBD_VAR_NOTE] = tx->note;
    vals[UNSUBD_VAR_STREAM] = stream;
    vals[UNSUBD_VAR_RECIPIENT] = masked_rcpt;
    rc = unsubd_page_message(&msg, tx->message, stream, masked_rcpt);
    vals[UNSUBD_VAR_MESSAGE] = msg.data;
    if (rc == 0 && kind == UNSUBD_PAGE_CONFIRM)
        rc = unsubd_page_form(&form, lang);
    vals[UNSUBD_VAR_FORM] = kind == UNSUBD_PAGE_CONFIRM ? form.data : NULL;
    if (rc == 0)
        rc = unsubd_tmpl_render(t, vals, out);
    buf_free(&msg);
    buf_free(&form);
    styles = unsubd_tmpl_styles(t);
    if ((size_t) snprintf(csp, csplen, "default-src 'none'; %s%s%simg-src data:; form-action 'self'; "
                          "frame-ancestors 'none'; base-uri 'none'", styles[0] ? "style-src " : "",
                          styles, styles[0] ? "; " : "") >= csplen)
        return -1;
    return rc;
}
