/*
 * ks_select.c — parse and match label/field selectors.  Inputs come
 * straight from the query string: every key and value is length- and
 * charset-checked, and the number of requirements and values is capped
 * (ks_limits.h).  Error texts begin like the API server's
 * ("unable to parse requirement", "field label not supported").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_select.h"

struct lexer {
	const char *p;
};

static void skip_ws(struct lexer *);
static int read_word(struct lexer *, char *, size_t);
static int valid_key(const char *);
static int valid_value(const char *);
static int add_value(struct ks_sel_req *, const char *);

static void
skip_ws(struct lexer *lx)
{
	while (*lx->p == ' ' || *lx->p == '\t')
		lx->p++;
}

static int
is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' ||
	    c == '/';
}

/* A key or value: [A-Za-z0-9-_./]*; -1 if longer than the buffer. */
static int
read_word(struct lexer *lx, char *buf, size_t len)
{
	size_t n = 0;

	while (is_word_char(*lx->p)) {
		if (n + 1 >= len)
			return -1;
		buf[n++] = *lx->p++;
	}
	buf[n] = '\0';
	return 0;
}

/* Label name segment: <= 63, alphanumeric at both ends, [-_.] inside. */
static int
valid_name_part(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 63)
		return 0;
	if (!isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[len - 1]))
		return 0;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return 0;
	}
	return 1;
}

/* Qualified name: [dns-prefix/]name. */
static int
valid_key(const char *k)
{
	const char *slash = strchr(k, '/');
	size_t i, plen;

	if (slash == NULL)
		return valid_name_part(k, strlen(k));
	plen = (size_t)(slash - k);
	if (plen == 0 || plen > 253 || strchr(slash + 1, '/') != NULL)
		return 0;
	for (i = 0; i < plen; i++) {
		if (!islower((unsigned char)k[i]) &&
		    !isdigit((unsigned char)k[i]) && k[i] != '-' && k[i] != '.')
			return 0;
	}
	return valid_name_part(slash + 1, strlen(slash + 1));
}

static int
valid_value(const char *v)
{
	return v[0] == '\0' ||
	    (strchr(v, '/') == NULL && valid_name_part(v, strlen(v)));
}

static int
add_value(struct ks_sel_req *r, const char *v)
{
	if (r->nvalues >= KS_SEL_MAX_VALUES)
		return -1;
	if ((r->values[r->nvalues] = strdup(v)) == NULL)
		return -1;
	r->nvalues++;
	return 0;
}

void
ks_selector_clear(struct ks_selector *s)
{
	int i, j;

	for (i = 0; i < s->nreqs; i++) {
		free(s->reqs[i].key);
		for (j = 0; j < s->reqs[i].nvalues; j++)
			free(s->reqs[i].values[j]);
	}
	memset(s, 0, sizeof(*s));
}

static int
parse_set(struct lexer *lx, struct ks_sel_req *r, char *err, size_t errlen)
{
	char word[KS_SEL_MAX_LEN + 1];

	skip_ws(lx);
	if (*lx->p != '(') {
		snprintf(err, errlen,
		    "unable to parse requirement: found '%c', expected: '('",
		    *lx->p ? *lx->p : ' ');
		return -1;
	}
	lx->p++;
	for (;;) {
		skip_ws(lx);
		if (read_word(lx, word, sizeof(word)) != 0 ||
		    !valid_value(word)) {
			snprintf(err, errlen,
			    "unable to parse requirement: invalid label value");
			return -1;
		}
		if (add_value(r, word) != 0) {
			snprintf(err, errlen,
			    "unable to parse requirement: too many values");
			return -1;
		}
		skip_ws(lx);
		if (*lx->p == ',') {
			lx->p++;
			continue;
		}
		if (*lx->p == ')') {
			lx->p++;
			return 0;
		}
		snprintf(err, errlen,
		    "unable to parse requirement: found '%c', expected: ',' or "
		    "')'",
		    *lx->p ? *lx->p : ' ');
		return -1;
	}
}

int
ks_selector_parse_labels(
    struct ks_selector *s, const char *text, char *err, size_t errlen)
{
	struct lexer lx = {text};
	struct ks_sel_req *r;
	char key[KS_SEL_MAX_LEN + 1], word[KS_SEL_MAX_LEN + 1];
	int neg;

	memset(s, 0, sizeof(*s));
	skip_ws(&lx);
	if (*lx.p == '\0')
		return 0;
	for (;;) {
		if (s->nreqs >= KS_SEL_MAX_REQS) {
			snprintf(err, errlen,
			    "unable to parse requirement: too many "
			    "requirements");
			goto fail;
		}
		r = &s->reqs[s->nreqs];
		skip_ws(&lx);
		neg = 0;
		if (*lx.p == '!') {
			neg = 1;
			lx.p++;
			skip_ws(&lx);
		}
		if (read_word(&lx, key, sizeof(key)) != 0 || !valid_key(key)) {
			snprintf(err, errlen,
			    "unable to parse requirement: invalid label key");
			goto fail;
		}
		if ((r->key = strdup(key)) == NULL)
			goto nomem;
		s->nreqs++;
		skip_ws(&lx);
		if (neg) {
			r->op = KS_SEL_NOTEXISTS;
		} else if (*lx.p == ',' || *lx.p == '\0') {
			r->op = KS_SEL_EXISTS;
		} else if (*lx.p == '=' || *lx.p == '!') {
			if (lx.p[0] == '!' && lx.p[1] == '=') {
				r->op = KS_SEL_NEQ;
				lx.p += 2;
			} else if (lx.p[0] == '=' && lx.p[1] == '=') {
				r->op = KS_SEL_EQ;
				lx.p += 2;
			} else if (lx.p[0] == '=') {
				r->op = KS_SEL_EQ;
				lx.p++;
			} else {
				snprintf(err, errlen,
				    "unable to parse requirement: found '!', "
				    "expected: '='");
				goto fail;
			}
			skip_ws(&lx);
			if (read_word(&lx, word, sizeof(word)) != 0 ||
			    !valid_value(word)) {
				snprintf(err, errlen,
				    "unable to parse requirement: invalid "
				    "label value");
				goto fail;
			}
			if (add_value(r, word) != 0)
				goto nomem;
		} else if (strncmp(lx.p, "in", 2) == 0 &&
		    !is_word_char(lx.p[2])) {
			r->op = KS_SEL_IN;
			lx.p += 2;
			if (parse_set(&lx, r, err, errlen) != 0)
				goto fail;
		} else if (strncmp(lx.p, "notin", 5) == 0 &&
		    !is_word_char(lx.p[5])) {
			r->op = KS_SEL_NOTIN;
			lx.p += 5;
			if (parse_set(&lx, r, err, errlen) != 0)
				goto fail;
		} else {
			snprintf(err, errlen,
			    "unable to parse requirement: found '%c', "
			    "expected: in, notin, =, ==, !=, gt, lt",
			    *lx.p);
			goto fail;
		}
		skip_ws(&lx);
		if (*lx.p == '\0')
			return 0;
		if (*lx.p != ',') {
			snprintf(err, errlen,
			    "unable to parse requirement: found '%c', "
			    "expected: ','",
			    *lx.p);
			goto fail;
		}
		lx.p++;
	}
nomem:
	snprintf(err, errlen, "unable to parse requirement: out of memory");
fail:
	ks_selector_clear(s);
	return -1;
}

int
ks_selector_parse_fields(
    struct ks_selector *s, const char *text, char *err, size_t errlen)
{
	const char *p = text, *end;
	char *op;
	struct ks_sel_req *r;
	char term[2 * KS_SEL_MAX_LEN + 4], *val;
	size_t len;

	memset(s, 0, sizeof(*s));
	while (*p != '\0') {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len >= sizeof(term)) {
			snprintf(err, errlen, "field selector too long");
			goto fail;
		}
		memcpy(term, p, len);
		term[len] = '\0';
		p = end ? end + 1 : p + len;
		if (len == 0)
			continue;
		if (s->nreqs >= KS_SEL_MAX_REQS) {
			snprintf(err, errlen, "too many field requirements");
			goto fail;
		}
		r = &s->reqs[s->nreqs];
		if ((op = strstr(term, "!=")) != NULL) {
			r->op = KS_SEL_NEQ;
			val = op + 2;
		} else if ((op = strstr(term, "==")) != NULL) {
			r->op = KS_SEL_EQ;
			val = op + 2;
		} else if ((op = strchr(term, '=')) != NULL) {
			r->op = KS_SEL_EQ;
			val = op + 1;
		} else {
			snprintf(err, errlen,
			    "invalid selector: '%s'; can't understand '%s'",
			    text, term);
			goto fail;
		}
		term[op - term] = '\0';
		if (strcmp(term, "metadata.name") != 0 &&
		    strcmp(term, "metadata.namespace") != 0) {
			snprintf(
			    err, errlen, "field label not supported: %s", term);
			goto fail;
		}
		if ((r->key = strdup(term)) == NULL)
			goto fail;
		s->nreqs++;
		if (add_value(r, val) != 0)
			goto fail;
	}
	return 0;
fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	ks_selector_clear(s);
	return -1;
}

static int
has_value(const struct ks_sel_req *r, const char *v)
{
	int i;

	for (i = 0; i < r->nvalues; i++) {
		if (strcmp(r->values[i], v) == 0)
			return 1;
	}
	return 0;
}

int
ks_selector_match_labels(
    const struct ks_selector *s, const struct ks_json *labels)
{
	const struct ks_sel_req *r;
	const char *v;
	int i;

	for (i = 0; i < s->nreqs; i++) {
		r = &s->reqs[i];
		v = ks_json_str(ks_json_get(labels, r->key));
		switch (r->op) {
		case KS_SEL_EQ:
		case KS_SEL_IN:
			if (v == NULL || !has_value(r, v))
				return 0;
			break;
		case KS_SEL_NEQ:
		case KS_SEL_NOTIN:
			if (v != NULL && has_value(r, v))
				return 0;
			break;
		case KS_SEL_EXISTS:
			if (v == NULL)
				return 0;
			break;
		case KS_SEL_NOTEXISTS:
			if (v != NULL)
				return 0;
			break;
		}
	}
	return 1;
}

int
ks_selector_match_fields(
    const struct ks_selector *s, const char *ns, const char *name)
{
	const struct ks_sel_req *r;
	const char *v;
	int i, eq;

	for (i = 0; i < s->nreqs; i++) {
		r = &s->reqs[i];
		v = strcmp(r->key, "metadata.name") == 0 ? name : ns;
		eq = strcmp(v ? v : "", r->values[0]) == 0;
		if ((r->op == KS_SEL_EQ) != eq)
			return 0;
	}
	return 1;
}
