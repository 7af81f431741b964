/*
 * fake_kclient.h — the test's side of fake_kclient.c (a link-time fake of
 * core/kube/kclient.c): find the requests the code under test started and
 * answer them as the API server would.
 */
#ifndef FAKE_KCLIENT_H
#define FAKE_KCLIENT_H

#include <stddef.h>

#include "core/kube/kclient.h"

struct fake_kc_answer {
	long status;
	const char *body; /* a Status for non-2xx, or NULL */
	int transport_error;
	int timed_out;
	int aborted;
	unsigned retry_after;
};

/* The oldest request of `verb` not answered yet, or NULL. */
struct kc_req *fake_kc_next(enum kc_verb verb);
/* Requests not answered yet (cancelled ones are gone). */
size_t fake_kc_pending(void);
/* Requests started so far. */
unsigned long fake_kc_started(void);
/* The next kc_start() fails (returns NULL). */
void fake_kc_fail_next_start(void);
const char *fake_kc_path(const struct kc_req *r);
const char *fake_kc_body(const struct kc_req *r);
const char *fake_kc_ctype(const struct kc_req *r);

/* A 2xx body chunk (a watch event): data_cb's return value. */
int fake_kc_feed(struct kc_req *r, const char *chunk);
/* Ends the request as `a` says (done_cb runs; `r` is freed). */
void fake_kc_end(struct kc_req *r, const struct fake_kc_answer *a);
/* Whole answer: 2xx bodies go through data_cb first. */
void fake_kc_answer(struct kc_req *r, long status, const char *body);
/* Forgets every request (between tests). */
void fake_kc_reset(void);

#endif /* FAKE_KCLIENT_H */
