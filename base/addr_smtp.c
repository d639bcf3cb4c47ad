/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr_smtp.c - read an envelope address out of a MAIL FROM or RCPT TO
 * argument as Postfix's SMTP server does
 *
 * SYNOPSIS
 *	#include "addr_smtp.h"
 *
 *	int	addr_smtp_extract(const char *arg, char *out, size_t outlen,
 *				  BUF *err)
 *	int	addr_smtp_norm(const char *parsed, const char *arg,
 *			       const ADDR_NORM_OPTS *o, char *addr, char *norm,
 *			       BUF *err)
 *
 *	void	addr_smtp_bare(const char *arg, char *out, size_t size)
 *
 * DESCRIPTION
 *	Postfix (with its default strict_rfc821_envelopes = no) accepts RFC
 *	822 forms in the envelope and delivers to the address it finds in
 *	them: "<victim(3)@gmail.com>", "<victim@gmail.com (x)>" and
 *	"<x@gmail.com>>" all go to a plain address. The milter gets the
 *	argument as the client wrote it, so a rate key or a suppression
 *	check made from that text would be a key of its own per spelling.
 *	The MTA's own reading is in {rcpt_addr} and {mail_addr}; this
 *	module gives the same reading when those are absent (another MTA,
 *	txmilter -t, policy explain), following what Postfix's smtpd does:
 *
 *	- the argument must be one SMTP token: quotes and "<...>" (which
 *	  nest) closed, no blank outside them (else smtpd says 501);
 *	- one pair of angle brackets around it is removed, then an obsolete
 *	  source route "@a,@b:" (up to the first ':');
 *	- the rest is read as an RFC 822 address list (atoms, quoted
 *	  strings, domain literals, comments, specials; backslash escapes):
 *	  comments are dropped, route-addr brackets ("<...>", also a stray
 *	  '<' or '>') are ignored, and exactly one address must remain (two
 *	  words in a row start a second one: "john doe@x" is two, and Postfix
 *	  refuses it); a group "name: a@b;" gives its member;
 *	- the address is that of the tokens (unquoted, no blanks added).
 *
 *	addr_smtp_extract() writes the address found in arg to out in the
 *	form Postfix puts in its macros (quote_821_local): a local part that
 *	is not a dot-atom is quoted, with '"' and '\\' escaped. "<>" gives
 *	"". Nothing else is done: no case change, no rewriting (Postfix may
 *	add a domain to a bare local part, or resolve "a%b@local"; only the
 *	MTA knows its rewriting, which is why its macros come first).
 *
 *	addr_smtp_norm() takes the MTA's reading, parsed, when it is not
 *	NULL, else extracts it from arg, and copies it to addr (the plain
 *	address, for log lines, replies and unsubscribe-by-mail matching)
 *	and its normal form to norm (addr_norm() with o). Both buffers hold
 *	ADDR_NORM_MAX bytes. The null address is "" in both. When only the
 *	normalisation fails, addr keeps the reading (an unsubscribe address
 *	with a long token is still recognised) and norm is "".
 *
 *	addr_smtp_bare() copies arg without one pair of angle brackets
 *	around it (for reply texts that add their own), cut to size bytes.
 *
 * DIAGNOSTICS
 *	-1, out (norm, and addr unless only addr_norm() failed) set to "",
 *	one reason appended to err (if not
 *	NULL): an argument longer than ADDR_NORM_INPUT_MAX bytes, an
 *	unterminated quoted string or '<', a blank outside quotes or angle
 *	brackets, more than one address, a result that does not fit; and
 *	for addr_smtp_norm() whatever addr_norm() refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_smtp.h"
#include "log.h"
#include "util.h"

/* Token types; a special character is a token of its own type. */
enum { AS_END = 0, AS_ATOM = 256, AS_QSTRING, AS_DOMLIT, AS_COMMENT, AS_ADDR, AS_STARTGRP };

#define AS_SPECIALS "|%!()<>@,;:\\\".[]"    /* RFC 822's, and Postfix's | % ! */
#define AS_DO_WORD  1                       /* a word may come next (leftwards) */
#define AS_DO_GROUP 2                       /* inside "name: ... ;" */

typedef struct as_tok {
    int     type;
    int     prev, next;             /* neighbours in its list, -1 at the ends */
    int     head;                   /* AS_ADDR: its first member */
    size_t  off, len;               /* its text in AS_LIST.text */
} AS_TOK;

/* All tokens of one argument: a fixed pool, sized from the input. */
typedef struct as_list {
    AS_TOK *t;
    size_t  n, cap;
    char   *text;
    size_t  tlen;
} AS_LIST;

/* as_fail - report why there is no usable address */
static int as_fail(char *out, size_t outlen, BUF *err, const char *why)
{
    if (outlen > 0)
        out[0] = 0;
    return util_err(err, "%s", why);
}

/* as_blank - white space between RFC 822 tokens */
static int as_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* as_special - a character that is a token by itself */
static int as_special(int c)
{
    return c != 0 && strchr(AS_SPECIALS, c) != NULL;
}

/* as_new - a new unlinked token (the pool is sized so it cannot run out) */
static int as_new(AS_LIST *l, int type)
{
    AS_TOK *t;

    if (l->n == l->cap)
        log_fatal("internal error: addr_smtp token pool of %zu exhausted", l->cap);
    t = &l->t[l->n];
    t->type = type;
    t->prev = t->next = t->head = -1;
    t->off = l->tlen;
    t->len = 0;
    return (int) l->n++;
}

/* as_addch - one character of the token being scanned */
static void as_addch(AS_LIST *l, int tok, int c)
{
    l->text[l->tlen++] = (char) c;
    l->t[tok].len++;
}

/* as_link - make b follow a */
static void as_link(AS_LIST *l, int a, int b)
{
    if (a >= 0)
        l->t[a].next = b;
    if (b >= 0)
        l->t[b].prev = a;
}

/* as_collect - characters while cond holds, backslash escapes taken as
 * they are, escaped white space as a blank; returns where it stopped */
static const char *as_collect(AS_LIST *l, int tok, const char *s, int stop)
{
    int c;

    while ((c = (unsigned char) *s) != 0) {
        if (c == '\\') {
            if ((c = (unsigned char) *++s) == 0)
                break;
        } else if (stop == 0 ? as_blank(c) || as_special(c) : c == stop) {
            break;
        }
        as_addch(l, tok, as_blank(c) ? ' ' : c);
        s++;
    }
    return s;
}

/* as_comment - a comment, nested ones included, kept with its parentheses */
static const char *as_comment(AS_LIST *l, int tok, const char *s)
{
    int level = 1, c;

    as_addch(l, tok, '(');
    while ((c = (unsigned char) *s) != 0) {
        as_addch(l, tok, c);
        s++;
        if (c == '(') {
            level++;
        } else if (c == ')') {
            if (--level == 0)
                break;
        } else if (c == '\\') {
            if ((c = (unsigned char) *s) == 0)
                break;
            as_addch(l, tok, c);
            s++;
        }
    }
    return s;
}

/* as_scan - tokenise s between two AS_END sentinels; the first one */
static int as_scan(AS_LIST *l, const char *s)
{
    int head = as_new(l, AS_END), last = head, tok, c;

    while ((c = (unsigned char) *s++) != 0) {
        if (as_blank(c))
            continue;
        if (c == '(') {
            tok = as_new(l, AS_COMMENT);
            s = as_comment(l, tok, s);
        } else if (c == '[' || c == '"') {
            tok = as_new(l, c == '[' ? AS_DOMLIT : AS_QSTRING);
            s = as_collect(l, tok, s, c == '[' ? ']' : '"');
            if (*s)
                s++;
        } else if (c != '\\' && as_special(c)) {
            tok = as_new(l, c);
        } else {
            tok = as_new(l, AS_ATOM);
            s = as_collect(l, tok, s - 1, 0);
        }
        as_link(l, last, tok);
        last = tok;
    }
    as_link(l, last, as_new(l, AS_END));
    return head;
}

/* as_group - put the tokens strictly between left and right under a new
 * address node, optionally after a ',' inserted to keep addresses apart;
 * returns left */
static int as_group(AS_LIST *l, int left, int right, int comma)
{
    int first = l->t[left].next, g, last, sync;

    if (left == right || first == right)
        return left;
    last = l->t[right].prev;
    g = as_new(l, AS_ADDR);
    l->t[g].head = first;
    l->t[first].prev = -1;
    l->t[last].next = -1;
    as_link(l, left, g);
    as_link(l, g, right);
    if (comma) {
        sync = as_new(l, ',');
        as_link(l, left, sync);
        as_link(l, sync, g);
    }
    return left;
}

/* as_move_comment - take comment tok out to the right of what is being
 * grouped, before right; the new right end and the token left of tok */
static int as_move_comment(AS_LIST *l, int tok, int *right)
{
    int prev = l->t[tok].prev;

    as_link(l, prev, l->t[tok].next);
    as_link(l, l->t[*right].prev, tok);
    as_link(l, tok, *right);
    *right = tok;
    return prev;
}

/* as_parse - group the token list into addresses, right to left, as
 * Postfix's tok822_parse() does */
static void as_parse(AS_LIST *l, int head)
{
    int right, tp, state = AS_DO_WORD, ty;

    for (right = head; l->t[right].next >= 0; right = l->t[right].next)
        ;
    tp = l->t[right].prev;
    while ((ty = l->t[tp].type) != AS_END) {
        if (ty == AS_COMMENT) {
            tp = as_move_comment(l, tp, &right);
            continue;
        } else if (ty == ';') {
            right = as_group(l, tp, right, 1);
            state = AS_DO_GROUP | AS_DO_WORD;
        } else if (ty == ':' && (state & AS_DO_GROUP)) {
            l->t[tp].type = AS_STARTGRP;
            (void) as_group(l, tp, right, 0);
            while (l->t[tp].type != AS_END && l->t[tp].type != ',')
                tp = l->t[tp].prev;
            right = tp;
            continue;
        } else if (ty == '>') {
            right = as_group(l, tp, right, 1);
            while (l->t[tp].type != AS_END && l->t[tp].type != '<') {
                if (l->t[tp].type == AS_COMMENT)
                    tp = as_move_comment(l, tp, &right);
                else
                    tp = l->t[tp].prev;
            }
            (void) as_group(l, tp, right, 0);
            while ((ty = l->t[tp].type) != AS_END
                   && (ty >= 256 || strchr(">;,:", ty) == NULL))
                tp = l->t[tp].prev;
            right = tp;
            state |= AS_DO_WORD;
            continue;
        } else if (ty == AS_ATOM || ty == AS_QSTRING || ty == AS_DOMLIT) {
            if ((state & AS_DO_WORD) == 0)
                right = l->t[as_group(l, tp, right, 1)].next;
            state &= ~AS_DO_WORD;
        } else if (ty == ',') {
            right = as_group(l, tp, right, 0);
            state |= AS_DO_WORD;
        } else {
            state |= AS_DO_WORD;
        }
        tp = l->t[tp].prev;
    }
    (void) as_group(l, tp, right, 0);
}

/* as_internal - the text of an address's members, unquoted, no blanks */
static int as_internal(const AS_LIST *l, int tok, BUF *b)
{
    for (; tok >= 0; tok = l->t[tok].next) {
        const AS_TOK *t = &l->t[tok];
        int rc = 0;

        switch (t->type) {
        case AS_ADDR:
            rc = as_internal(l, t->head, b);
            break;
        case AS_DOMLIT:
            rc = buf_puts(b, "[") | buf_append(b, l->text + t->off, t->len) | buf_puts(b, "]");
            break;
        case AS_ATOM:
        case AS_QSTRING:
        case AS_COMMENT:
            rc = buf_append(b, l->text + t->off, t->len);
            break;
        case AS_STARTGRP:
            rc = buf_puts(b, ":");
            break;
        default:
            rc = buf_append(b, &(char) {(char) t->type}, 1);
            break;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* as_one_token - 0 if arg is one SMTP command token, as smtpd splits them:
 * "..." and <...> (which nest) closed, no blank outside them; else -1 with
 * why in err */
static int as_one_token(const char *arg, BUF *err)
{
    char want[ADDR_NORM_INPUT_MAX + 1];
    size_t depth = 0;

    for (const char *p = arg; *p; p++) {
        if (*p == '\\') {
            if (*++p == 0)
                break;
        } else if (depth > 0 && *p == want[depth - 1]) {
            depth--;
        } else if (*p == '"' && (depth == 0 || want[depth - 1] == '>')) {
            want[depth++] = '"';
        } else if (*p == '<' && (depth == 0 || want[depth - 1] == '>')) {
            want[depth++] = '>';
        } else if (depth == 0 && (*p == ' ' || *p == '\t')) {
            return util_err(err, "blank outside quotes or angle brackets");
        }
    }
    if (depth > 0)
        return util_err(err, "%s", want[depth - 1] == '"' ? "unterminated quoted string"
                        : "unterminated '<'");
    return 0;
}

/* as_dot_atom - 1 if local can be written without quotes */
static int as_dot_atom(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];

        if (c == '.' ? s[i + 1] == '.' : !(c >= 0x80 || (c > ' ' && c < 0x7f
                                                          && strchr("()<>@,;:\\\".[]", c) == NULL)))
            return 0;
    }
    return 1;
}

/* as_quote - an address in internal form into out, its local part quoted if needed */
static int as_quote(const char *in, char *out, size_t outlen)
{
    const char *at = strrchr(in, '@');
    size_t n = at ? (size_t) (at - in) : strlen(in), o = 0;

    if (in[0] == 0 || as_dot_atom(in, n))
        return (size_t) snprintf(out, outlen, "%s", in) < outlen ? 0 : -1;
    if (outlen < 3)
        return -1;
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (o + 3 >= outlen)
            return -1;
        if (in[i] == '"' || in[i] == '\\')
            out[o++] = '\\';
        out[o++] = in[i];
    }
    out[o++] = '"';
    return (size_t) snprintf(out + o, outlen - o, "%s", at ? at : "") < outlen - o ? 0 : -1;
}

/* addr_smtp_extract - the address in an SMTP argument, as Postfix finds it */
int addr_smtp_extract(const char *arg, char *out, size_t outlen, BUF *err)
{
    char buf[ADDR_NORM_INPUT_MAX + 1], *text;
    const char *colon;
    AS_LIST l;
    BUF b;
    size_t len;
    int head, tok, addr = -1, naddr = 0, rc;

    if (arg == NULL)
        return as_fail(out, outlen, err, "no address");
    if ((len = strlen(arg)) > ADDR_NORM_INPUT_MAX)
        return as_fail(out, outlen, err, "address longer than 1024 bytes");
    while (len > 0 && (arg[0] == ' ' || arg[0] == '\t'))
        arg++, len--;
    while (len > 0 && (arg[len - 1] == ' ' || arg[len - 1] == '\t'))
        len--;
    memcpy(buf, arg, len);
    buf[len] = 0;
    if (as_one_token(buf, err) < 0) {
        if (outlen > 0)
            out[0] = 0;
        return -1;
    }
    text = buf;
    if (len >= 2 && buf[0] == '<' && buf[len - 1] == '>') {
        buf[len - 1] = 0;
        text = buf + 1;
    }
    if (*text == '@' && (colon = strchr(text, ':')) != NULL)
        text = (char *) colon + 1;

    len = strlen(text);
    /* Each byte makes at most one token, and each token visited by the
     * parser at most two groups of two nodes (address and ','). */
    l.cap = 6 * len + 8;
    l.t = xcalloc(l.cap, sizeof(AS_TOK));
    l.n = 0;
    l.text = xmalloc(len + 8);
    l.tlen = 0;
    head = as_scan(&l, text);
    as_parse(&l, head);
    for (tok = l.t[head].next; l.t[tok].type != AS_END; tok = l.t[tok].next)
        if (l.t[tok].type == AS_ADDR) {
            addr = tok;
            naddr++;
        }
    buf_init(&b, ADDR_NORM_MAX);
    rc = addr < 0 ? 0 : as_internal(&l, l.t[addr].head, &b);
    free(l.t);
    free(l.text);
    if (naddr > 1) {
        buf_free(&b);
        return as_fail(out, outlen, err, "more than one address (a blank or comment between "
                       "words, or a ',')");
    }
    if (rc < 0 || as_quote(b.data ? b.data : "", out, outlen) < 0) {
        buf_free(&b);
        return as_fail(out, outlen, err, "address too long");
    }
    buf_free(&b);
    return 0;
}

/* addr_smtp_norm - the MTA's reading of an address, or ours, normalised */
int addr_smtp_norm(const char *parsed, const char *arg, const ADDR_NORM_OPTS *o, char *addr,
                   char *norm, BUF *err)
{
    norm[0] = 0;
    if (parsed != NULL) {
        if (util_strlcpy(addr, parsed, ADDR_NORM_MAX) < 0)
            return as_fail(addr, ADDR_NORM_MAX, err, "address too long");
    } else if (addr_smtp_extract(arg, addr, ADDR_NORM_MAX, err) < 0) {
        return -1;
    }
    return addr_norm(addr, o, norm, ADDR_NORM_MAX, err);
}

/* addr_smtp_bare - the argument without one pair of angle brackets */
void addr_smtp_bare(const char *arg, char *out, size_t size)
{
    size_t n = strlen(arg);

    if (size == 0)
        return;
    if (n >= 2 && arg[0] == '<' && arg[n - 1] == '>') {
        arg++;
        n -= 2;
    }
    if (n >= size)
        n = size - 1;
    memcpy(out, arg, n);
    out[n] = 0;
}
