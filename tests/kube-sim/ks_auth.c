/*
 * ks_auth.c — bearer token checks.
 *
 * Tokens are secrets even here: they are never logged, compared in
 * constant time, and wiped when replaced.  The token file is re-read when
 * its inode, size or mtime change (the kubelet swaps projected volumes
 * atomically), bounded to KS_MAX_TOKEN_FILE; an unreadable file keeps the
 * previous tokens.  A request without credentials is rejected (anonymous
 * auth off) once any token is configured.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "tests/kube-sim/ks_auth.h"
#include "tests/kube-sim/ks_limits.h"
#include "tests/kube-sim/log.h"

struct token_set {
	char *tok[KS_MAX_TOKENS];
	size_t len[KS_MAX_TOKENS];
	int n;
};

struct ks_auth {
	int enabled;
	char *file;
	struct stat file_st;
	int file_loaded;
	struct token_set file_tokens;
	struct token_set static_tokens;
};

static void
set_clear(struct token_set *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		explicit_bzero(s->tok[i], s->len[i]);
		free(s->tok[i]);
	}
	memset(s, 0, sizeof(*s));
}

static int
set_add(struct token_set *s, const char *t, size_t len)
{
	if (len == 0)
		return 0;
	if (s->n >= KS_MAX_TOKENS || len > KS_MAX_TOKEN_LEN)
		return -1;
	if ((s->tok[s->n] = malloc(len + 1)) == NULL)
		return -1;
	memcpy(s->tok[s->n], t, len);
	s->tok[s->n][len] = '\0';
	s->len[s->n++] = len;
	return 0;
}

/* Split on separators, trimming whitespace. */
static int
set_parse(struct token_set *s, const char *buf, size_t len, const char *sep)
{
	size_t i = 0, start, end;

	while (i < len) {
		while (i < len && strchr(sep, buf[i]) != NULL)
			i++;
		start = i;
		while (i < len && strchr(sep, buf[i]) == NULL)
			i++;
		end = i;
		while (end > start &&
		    (buf[end - 1] == ' ' || buf[end - 1] == '\t' ||
		        buf[end - 1] == '\r'))
			end--;
		while (start < end && (buf[start] == ' ' || buf[start] == '\t'))
			start++;
		if (set_add(s, buf + start, end - start) != 0)
			return -1;
	}
	return 0;
}

static void
reload_file(struct ks_auth *a)
{
	struct stat st;
	struct token_set fresh;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = NULL;

	if (stat(a->file, &st) != 0) {
		if (!a->file_loaded)
			log_warn("token file %s", a->file);
		return;
	}
	if (a->file_loaded && st.st_ino == a->file_st.st_ino &&
	    st.st_size == a->file_st.st_size &&
	    st.st_mtim.tv_sec == a->file_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == a->file_st.st_mtim.tv_nsec)
		return;
	if (st.st_size > KS_MAX_TOKEN_FILE) {
		log_warnx("token file %s: too large (%lld bytes)", a->file,
		    (long long)st.st_size);
		return;
	}
	memset(&fresh, 0, sizeof(fresh));
	if ((f = fopen(a->file, "r")) == NULL) {
		log_warn("token file %s", a->file);
		return;
	}
	if ((buf = malloc(KS_MAX_TOKEN_FILE + 1)) == NULL)
		goto out;
	n = fread(buf, 1, KS_MAX_TOKEN_FILE, f);
	if (set_parse(&fresh, buf, n, "\n") != 0) {
		log_warnx(
		    "token file %s: too many or too long tokens", a->file);
		set_clear(&fresh);
		goto out;
	}
	set_clear(&a->file_tokens);
	a->file_tokens = fresh;
	a->file_st = st;
	a->file_loaded = 1;
	log_info("token file %s loaded: %d token(s)", a->file, fresh.n);
out:
	if (buf != NULL) {
		explicit_bzero(buf, n);
		free(buf);
	}
	fclose(f);
}

struct ks_auth *
ks_auth_new(const char *file, const char *const *tokens, int ntokens)
{
	struct ks_auth *a;
	int i;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if (file != NULL && (a->file = strdup(file)) == NULL)
		goto fail;
	for (i = 0; i < ntokens; i++) {
		if (set_add(&a->static_tokens, tokens[i], strlen(tokens[i])) !=
		    0)
			goto fail;
	}
	a->enabled = a->file != NULL || ntokens > 0;
	if (a->file != NULL)
		reload_file(a);
	return a;
fail:
	ks_auth_free(a);
	return NULL;
}

void
ks_auth_free(struct ks_auth *a)
{
	if (a == NULL)
		return;
	set_clear(&a->file_tokens);
	set_clear(&a->static_tokens);
	free(a->file);
	free(a);
}

int
ks_auth_enabled(struct ks_auth *a)
{
	return a->enabled;
}

static int
in_set(const struct token_set *s, const char *t, size_t len)
{
	int i, found = 0;

	for (i = 0; i < s->n; i++) {
		if (s->len[i] == len && CRYPTO_memcmp(s->tok[i], t, len) == 0)
			found = 1;
	}
	return found;
}

int
ks_auth_check(struct ks_auth *a, const char *header)
{
	const char *t;
	size_t len;

	if (!ks_auth_enabled(a))
		return 1;
	if (a->file != NULL)
		reload_file(a);
	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return 0;
	t = header + 7;
	while (*t == ' ')
		t++;
	len = strnlen(t, KS_MAX_TOKEN_LEN + 1);
	while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t'))
		len--;
	if (len == 0 || len > KS_MAX_TOKEN_LEN)
		return 0;
	return in_set(&a->static_tokens, t, len) ||
	    in_set(&a->file_tokens, t, len);
}

int
ks_auth_set(struct ks_auth *a, const char *list)
{
	struct token_set fresh;

	memset(&fresh, 0, sizeof(fresh));
	if (set_parse(&fresh, list, strlen(list), ",") != 0) {
		set_clear(&fresh);
		return -1;
	}
	set_clear(&a->static_tokens);
	a->static_tokens = fresh;
	if (fresh.n > 0)
		a->enabled = 1;
	return 0;
}
