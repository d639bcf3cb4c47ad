/*
 * hdr.c - header parsing and formatting for signing.
 *
 *	hdr_parse_mailboxes() walks a From (or any address-list) field once,
 *	left to right, with a bounded comment depth. It splits at top-level
 *	commas, understands "display <addr>", bare addr-specs, quoted local
 *	parts, domain literals, groups ("team: a@x, b@y;") and obsolete
 *	source routes ("<@relay:a@x>"). It never reads past the terminating
 *	NUL and never writes past HDR_LOCAL_MAX / HDR_DOMAIN_MAX. It counts
 *	mailboxes so that the caller can refuse fields with several (RFC 7489
 *	6.6.1), and returns -1 for syntax it cannot make sense of.
 *
 *	hdr_signing_form() renders "name:value" for libopendkim, turning the
 *	bare LF that Postfix uses between folded lines into CRLF.
 */
#include <ctype.h>
#include <string.h>

#include "hdr.h"

#define HDR_COMMENT_DEPTH 16

/* One mailbox being collected. */
typedef struct hdr_mb {
    char    text[HDR_LOCAL_MAX + HDR_DOMAIN_MAX + 2];  /* addr-spec outside <> */
    size_t  tlen;
    char    angle[HDR_LOCAL_MAX + HDR_DOMAIN_MAX + 2]; /* addr-spec inside <> */
    size_t  alen;
    int     has_angle;
    int     too_long;
    int     nonempty;   /* something other than white space was seen */
} HDR_MB;

static void mb_put(HDR_MB *mb, int in_angle, char c)
{
    char *b = in_angle ? mb->angle : mb->text;
    size_t *l = in_angle ? &mb->alen : &mb->tlen;
    size_t cap = sizeof(mb->text) - 1;

    if (*l >= cap) {
        mb->too_long = 1;
        return;
    }
    b[(*l)++] = c;
    b[*l] = 0;
}

/* hdr_split_addr - split an addr-spec into local part and domain */
static int hdr_split_addr(const char *spec, HDR_ADDR *out)
{
    const char *at = strrchr(spec, '@');
    const char *dom;
    size_t llen, dlen;

    /* obsolete route "@a,@b:local@dom" */
    if (spec[0] == '@') {
        const char *colon = strchr(spec, ':');

        if (colon == NULL)
            return -1;
        spec = colon + 1;
        at = strrchr(spec, '@');
    }
    if (at == NULL || at == spec)
        return -1;
    llen = (size_t) (at - spec);
    dom = at + 1;
    dlen = strlen(dom);
    while (dlen > 0 && dom[dlen - 1] == '.')
        dlen--;
    if (dlen == 0 || llen >= HDR_LOCAL_MAX || dlen >= HDR_DOMAIN_MAX)
        return -1;
    memcpy(out->local, spec, llen);
    out->local[llen] = 0;
    for (size_t i = 0; i < dlen; i++)
        out->domain[i] = (char) tolower((unsigned char) dom[i]);
    out->domain[dlen] = 0;
    return 0;
}

/* hdr_finish_mb - account for one collected mailbox */
static int hdr_finish_mb(HDR_MB *mb, int *count, HDR_ADDR *first)
{
    HDR_ADDR addr;
    const char *spec;

    if (mb->too_long)
        return -1;
    if (!mb->nonempty && !mb->has_angle)
        return 0;                       /* empty list element: obsolete syntax, skip */
    spec = mb->has_angle ? mb->angle : mb->text;
    if (mb->has_angle && mb->alen == 0)
        return -1;                      /* "<>" is not a mailbox */
    if (hdr_split_addr(spec, &addr) < 0)
        return -1;
    if (*count == 0 && first)
        *first = addr;
    (*count)++;
    return 0;
}

/* hdr_parse_mailboxes - count the mailboxes of a field and keep the first */
int hdr_parse_mailboxes(const char *value, HDR_ADDR *first)
{
    HDR_MB mb;
    int count = 0, in_angle = 0, in_group = 0;
    const char *p;

    memset(&mb, 0, sizeof(mb));
    for (p = value; *p; p++) {
        unsigned char c = (unsigned char) *p;

        if (c == '(') {                                 /* comment, nested */
            int depth = 1;

            for (p++; *p && depth > 0; p++) {
                if (*p == '\\' && p[1])
                    p++;
                else if (*p == '(' && ++depth > HDR_COMMENT_DEPTH)
                    return -1;
                else if (*p == ')')
                    depth--;
            }
            if (depth > 0)
                return -1;
            p--;
            continue;
        }
        if (c == '"') {                                 /* quoted string */
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                mb_put(&mb, in_angle, *p);
            }
            if (*p != '"')
                return -1;
            mb.nonempty = 1;
            continue;
        }
        if (c == '[') {                                 /* domain literal */
            mb_put(&mb, in_angle, '[');
            for (p++; *p && *p != ']'; p++)
                mb_put(&mb, in_angle, *p);
            if (*p != ']')
                return -1;
            mb_put(&mb, in_angle, ']');
            mb.nonempty = 1;
            continue;
        }
        if (c == '<') {
            if (in_angle || mb.has_angle)
                return -1;
            in_angle = 1;
            mb.has_angle = 1;
            continue;
        }
        if (c == '>') {
            if (!in_angle)
                return -1;
            in_angle = 0;
            continue;
        }
        if (isspace(c))
            continue;
        if (!in_angle && c == ':' && !in_group && count == 0 && !mb.has_angle
            && strchr(mb.text, '@') == NULL) {
            in_group = 1;                               /* group display name ends */
            memset(&mb, 0, sizeof(mb));
            continue;
        }
        if (!in_angle && (c == ',' || (c == ';' && in_group))) {
            if (hdr_finish_mb(&mb, &count, first) < 0)
                return -1;
            memset(&mb, 0, sizeof(mb));
            if (c == ';')
                in_group = 0;
            continue;
        }
        mb_put(&mb, in_angle, (char) c);
        mb.nonempty = 1;
    }
    if (in_angle)
        return -1;
    if (hdr_finish_mb(&mb, &count, first) < 0)
        return -1;
    return count;
}

/* hdr_signing_form - "name:value" with CRLF line breaks */
int hdr_signing_form(BUF *out, const char *name, const char *value)
{
    const char *p;

    buf_reset(out);
    if (buf_puts(out, name) < 0 || buf_append(out, ":", 1) < 0)
        return -1;
    for (p = value; *p; p++) {
        if (*p == '\n' && (p == value || p[-1] != '\r')) {
            if (buf_append(out, "\r\n", 2) < 0)
                return -1;
        } else if (buf_append(out, p, 1) < 0)
            return -1;
    }
    return 0;
}

/* hdr_strip_cr - delete CR characters in place */
void hdr_strip_cr(char *s)
{
    char *w = s;

    for (; *s; s++)
        if (*s != '\r')
            *w++ = *s;
    *w = 0;
}

/* hdr_valid_name - printable ASCII without ':' (RFC 5322 ftext) */
int hdr_valid_name(const char *name)
{
    if (*name == 0)
        return 0;
    for (; *name; name++)
        if ((unsigned char) *name < 33 || (unsigned char) *name > 126 || *name == ':')
            return 0;
    return 1;
}
