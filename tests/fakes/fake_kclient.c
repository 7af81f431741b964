/*
 * fake_kclient.c — a link-time stand-in for core/kube/kclient.c in unit tests
 * of its callers (pins_cm.c).  It keeps the real contract: kc_start()
 * copies what it is given and returns a handle (NULL when told to fail),
 * the body of a 2xx answer goes to data_cb (which may refuse it: the
 * result is then `aborted`), done_cb runs exactly once unless the request
 * was cancelled, a non-2xx answer carries a parsed Status when the body
 * is one, and kc_cancel() during done_cb is ignored.
 *
 * The test plays the API server: fake_kc_next() finds the oldest request
 * not yet answered, fake_kc_answer()/fake_kc_feed()/fake_kc_end() answer
 * it.  Requests are never started from inside data_cb by a correct
 * caller (libcurl refuses that); the fake checks it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/kube/kclient.h"
#include "core/kube/kjson.h"
#include "tests/fakes/fake_kclient.h"

struct kc_req {
	struct kc_req *next;
	enum kc_verb verb;
	char *path;
	char *body;
	size_t body_len;
	char ctype[128];
	kc_data_cb data_cb;
	kc_done_cb done_cb;
	void *arg;
	long status; /* once the head is in */
	int in_done;
};

static struct kc_req *reqs; /* in start order */
static int in_data_cb;
static int fail_next;
static unsigned long started;

static void
unlink_req(struct kc_req *r)
{
	struct kc_req **p;

	for (p = &reqs; *p != NULL; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			return;
		}
}

static void
free_req(struct kc_req *r)
{
	free(r->path);
	free(r->body);
	free(r);
}

struct kc_req *
kc_start(struct kc *kc, enum kc_verb verb, const char *path,
    const char *content_type, const char *body, size_t body_len,
    kc_data_cb data_cb, kc_done_cb done_cb, void *arg)
{
	struct kc_req *r, **p;

	(void)kc;
	assert_false(in_data_cb); /* libcurl: CURLM_RECURSIVE_API_CALL */
	if (fail_next) {
		fail_next = 0;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->verb = verb;
	r->path = strdup(path);
	assert_non_null(r->path);
	if (body != NULL) {
		r->body = malloc(body_len + 1);
		assert_non_null(r->body);
		memcpy(r->body, body, body_len);
		r->body[body_len] = '\0';
		r->body_len = body_len;
	}
	if (content_type != NULL)
		strncpy(r->ctype, content_type, sizeof(r->ctype) - 1);
	r->data_cb = data_cb;
	r->done_cb = done_cb;
	r->arg = arg;
	for (p = &reqs; *p != NULL; p = &(*p)->next)
		;
	*p = r;
	started++;
	return r;
}

void
kc_cancel(struct kc_req *req)
{
	if (req == NULL || req->in_done)
		return;
	assert_false(in_data_cb);
	unlink_req(req);
	free_req(req);
}

long
kc_req_status(const struct kc_req *req)
{
	return req->status;
}

int
kc_reload_token(struct kc *kc)
{
	(void)kc;
	return 0;
}

const char *
kc_verb_name(enum kc_verb verb)
{
	static const char *const names[KC_VERB_MAX] = {
	    "GET", "LIST", "WATCH", "PATCH", "PUT", "POST"};

	return verb < KC_VERB_MAX ? names[verb] : "?";
}

/* ------------------------------------------------------ the test's side */

void
fake_kc_fail_next_start(void)
{
	fail_next = 1;
}

unsigned long
fake_kc_started(void)
{
	return started;
}

struct kc_req *
fake_kc_next(enum kc_verb verb)
{
	for (struct kc_req *r = reqs; r != NULL; r = r->next)
		if (r->verb == verb)
			return r;
	return NULL;
}

size_t
fake_kc_pending(void)
{
	size_t n = 0;

	for (struct kc_req *r = reqs; r != NULL; r = r->next)
		n++;
	return n;
}

const char *
fake_kc_path(const struct kc_req *r)
{
	return r->path;
}

const char *
fake_kc_body(const struct kc_req *r)
{
	return r->body;
}

const char *
fake_kc_ctype(const struct kc_req *r)
{
	return r->ctype;
}

int
fake_kc_feed(struct kc_req *r, const char *chunk)
{
	int rc;

	r->status = 200;
	if (r->data_cb == NULL)
		return 0;
	in_data_cb = 1;
	rc = r->data_cb(r->arg, chunk, strlen(chunk));
	in_data_cb = 0;
	return rc;
}

void
fake_kc_end(struct kc_req *r, const struct fake_kc_answer *a)
{
	struct kc_result res;
	struct kjson *kj = NULL;

	memset(&res, 0, sizeof(res));
	res.status = a->transport_error ? 0 : a->status;
	res.transport_error = a->transport_error;
	res.timed_out = a->timed_out;
	res.aborted = a->aborted;
	res.retry_after = a->retry_after;
	res.error = a->transport_error ? "Connection refused" : "";
	if (!a->transport_error && (a->status < 200 || a->status >= 300) &&
	    a->body != NULL &&
	    (kj = kjson_new(KJSON_OBJECT, NULL, NULL)) != NULL &&
	    kjson_feed(kj, a->body, strlen(a->body)) == 0 &&
	    kjson_finish(kj) == 0 && strcmp(kjson_top(kj)->kind, "Status") == 0)
		res.status_obj = kjson_top(kj);
	unlink_req(r);
	r->in_done = 1;
	if (r->done_cb != NULL)
		r->done_cb(r->arg, &res);
	kjson_free(kj);
	free_req(r);
}

void
fake_kc_answer(struct kc_req *r, long status, const char *body)
{
	struct fake_kc_answer a;

	memset(&a, 0, sizeof(a));
	a.status = status;
	a.body = body;
	if (status >= 200 && status < 300 && body != NULL &&
	    fake_kc_feed(r, body) != 0)
		a.aborted = 1;
	r->status = status;
	fake_kc_end(r, &a);
}

void
fake_kc_reset(void)
{
	struct kc_req *r;

	while ((r = reqs) != NULL) {
		reqs = r->next;
		free_req(r);
	}
	fail_next = 0;
}
