/*
 * test_hpa_watch.c — the Deployment → HPA map, then the watch over the
 * fake kclient (tests/fakes/fake_kclient.c) playing the API server: the
 * path it lists, "unknown" before the first list and while the API
 * answers 403/404 (retried after the loop's backoff), "none" vs "found"
 * once synced, watch events (retarget, delete, other kinds ignored), the
 * smallest name when several HPAs target one Deployment, refused
 * answers — hostile, also on a second page — that leave the map as it
 * was, and more HPAs than the map holds, which makes it "unknown".
 * Timers (the loop's backoff, a 30 ms resync that relists without one)
 * are run by event_base_loop(EVLOOP_ONCE): it waits for the armed
 * timer, no sleeps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/core_limits.h"
#include "core/kube/hpa_watch.h"
#include "core/kube/listwatch.h"
#include "tests/fakes/fake_kclient.h"

/* ------------------------------------------------------------- the map */

/** Put, find, replace a target, delete; the smallest name answers when
 *  several HPAs target one Deployment. */
static void
test_hpa_map_basics(void **state)
{
	struct hpa_map *m = hpa_map_new(8);

	(void)state;
	assert_non_null(m);
	assert_null(hpa_map_find(m, "web"));
	assert_int_equal(hpa_map_put(m, "web-hpa", "web"), 0);
	assert_string_equal(hpa_map_find(m, "web"), "web-hpa");
	assert_int_equal(hpa_map_put(m, "b-hpa", "web"), 0);
	assert_int_equal(hpa_map_put(m, "z-hpa", "web"), 0);
	assert_string_equal(hpa_map_find(m, "web"), "b-hpa");
	assert_int_equal(hpa_map_size(m), 3);
	/* b-hpa now targets db: web's smallest is web-hpa. */
	assert_int_equal(hpa_map_put(m, "b-hpa", "db"), 0);
	assert_int_equal(hpa_map_size(m), 3);
	assert_string_equal(hpa_map_find(m, "web"), "web-hpa");
	assert_string_equal(hpa_map_find(m, "db"), "b-hpa");
	assert_int_equal(hpa_map_del(m, "web-hpa"), 0);
	assert_string_equal(hpa_map_find(m, "web"), "z-hpa");
	assert_int_equal(hpa_map_del(m, "web-hpa"), -1);
	assert_int_equal(errno, ENOENT);
	hpa_map_clear(m);
	assert_int_equal(hpa_map_size(m), 0);
	assert_null(hpa_map_find(m, "db"));
	hpa_map_free(m);
	hpa_map_free(NULL);
}

/** Bounded: the entry past `max` is refused (ENOSPC) and changes
 *  nothing; replacing an existing entry still works when full. */
static void
test_hpa_map_bounded(void **state)
{
	struct hpa_map *m = hpa_map_new(3);

	(void)state;
	assert_non_null(m);
	assert_int_equal(hpa_map_put(m, "a", "x"), 0);
	assert_int_equal(hpa_map_put(m, "b", "x"), 0);
	assert_int_equal(hpa_map_put(m, "c", "x"), 0);
	assert_int_equal(hpa_map_put(m, "0", "y"), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(hpa_map_size(m), 3);
	assert_null(hpa_map_find(m, "y"));
	assert_string_equal(hpa_map_find(m, "x"), "a");
	assert_int_equal(hpa_map_put(m, "a", "y"), 0);
	assert_string_equal(hpa_map_find(m, "y"), "a");
	hpa_map_free(m);
}

/** Names that are not DNS-1123 subdomains are refused (EINVAL). */
static void
test_hpa_map_refuses_bad_names(void **state)
{
	struct hpa_map *m = hpa_map_new(3);
	char longname[PS_MAX_NAME + 2];

	(void)state;
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(hpa_map_put(m, "Web", "x"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(hpa_map_put(m, "a", ""), -1);
	assert_int_equal(hpa_map_put(m, "a", "-x"), -1);
	assert_int_equal(hpa_map_put(m, longname, "x"), -1);
	assert_int_equal(hpa_map_size(m), 0);
	hpa_map_free(m);
}

/** Swap exchanges whole contents (a staged list goes live). */
static void
test_hpa_map_swap(void **state)
{
	struct hpa_map *a = hpa_map_new(4), *b = hpa_map_new(4);

	(void)state;
	assert_int_equal(hpa_map_put(a, "old", "web"), 0);
	assert_int_equal(hpa_map_put(b, "new", "web"), 0);
	assert_int_equal(hpa_map_put(b, "other", "db"), 0);
	hpa_map_swap(a, b);
	assert_string_equal(hpa_map_find(a, "web"), "new");
	assert_int_equal(hpa_map_size(a), 2);
	assert_string_equal(hpa_map_find(b, "web"), "old");
	hpa_map_free(a);
	hpa_map_free(b);
}

/* ----------------------------------------------------------- the watch */

struct fx {
	struct event_base *base;
	struct hpa_watch *hw;
};

static int
setup_with(void **state, uint64_t resync_ms)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	lw_set_default_resync(resync_ms);
	if ((f.base = event_base_new()) == NULL ||
	    (f.hw = hpa_watch_new(f.base, NULL, "ns")) == NULL)
		return -1;
	*state = &f;
	return 0;
}

static int
setup(void **state)
{
	return setup_with(state, 0);
}

/* A resync every 30 ms: a relist without waiting out a backoff. */
static int
setup_resync(void **state)
{
	return setup_with(state, 30);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	hpa_watch_free(f->hw);
	event_base_free(f->base);
	fake_kc_reset();
	lw_set_default_resync(0);
	return 0;
}

#define ITEM(n, rv, kind, target)                                            \
	"{\"metadata\":{\"name\":\"" n "\",\"resourceVersion\":\"" rv "\"}," \
	"\"spec\":{\"scaleTargetRef\":{\"apiVersion\":\"apps/v1\","          \
	"\"kind\":\"" kind "\",\"name\":\"" target "\"}}}"
#define LIST(rv, items)                                              \
	"{\"kind\":\"HorizontalPodAutoscalerList\",\"apiVersion\":"  \
	"\"autoscaling/v2\",\"metadata\":{\"resourceVersion\":\"" rv \
	"\"},\"items\":[" items "]}"
#define EVENT(type, obj) "{\"type\":\"" type "\",\"object\":" obj "}\n"

static enum hpa_watch_answer
ask(const struct fx *f, const char *deployment, char *out)
{
	char buf[PS_MAX_NAME + 1];

	buf[0] = '\0';
	enum hpa_watch_answer a = hpa_watch_lookup(f->hw, deployment, buf);
	if (out != NULL)
		snprintf(out, PS_MAX_NAME + 1, "%s", buf);
	return a;
}

static const char *
state_path(void)
{
	return "/apis/autoscaling/v2/namespaces/ns/horizontalpodautoscalers";
}

/* Answers the pending list (first page) with 200 `body`. */
static void
answer_list(const char *body)
{
	struct kc_req *r = fake_kc_next(KC_LIST);

	assert_non_null(r);
	assert_int_equal(
	    strncmp(fake_kc_path(r), state_path(), strlen(state_path())), 0);
	fake_kc_answer(r, 200, body);
}

/* Waits out the loop's backoff (the only armed timer): a list follows. */
static void
after_backoff(struct fx *f)
{
	assert_null(fake_kc_next(KC_LIST));
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	assert_non_null(fake_kc_next(KC_LIST));
}

static void
synced_with(struct fx *f, const char *body)
{
	hpa_watch_start(f->hw);
	assert_int_equal(ask(f, "web", NULL), HPA_WATCH_UNKNOWN);
	answer_list(body);
	assert_true(hpa_watch_synced(f->hw));
	assert_non_null(fake_kc_next(KC_WATCH));
}

/** Before the first list: unknown (never "none").  The list's path;
 *  after it: found / none, other kinds ignored. */
static void
test_hpa_watch_list_then_lookup(void **state)
{
	struct fx *f = *state;
	struct hpa_watch_status st;
	char name[PS_MAX_NAME + 1];

	assert_null(hpa_watch_target_of(f->hw, "web"));
	synced_with(f,
	    LIST("50",
	        ITEM("web-hpa", "40", "Deployment", "web") "," ITEM(
	            "db-hpa", "41", "StatefulSet", "db")));
	assert_int_equal(strncmp(fake_kc_path(fake_kc_next(KC_WATCH)),
	                     "/apis/autoscaling/v2/namespaces/ns/"
	                     "horizontalpodautoscalers?allowWatchBookmarks="
	                     "true&resourceVersion=50&timeoutSeconds=",
	                     119),
	    0);
	assert_int_equal(ask(f, "web", name), HPA_WATCH_FOUND);
	assert_string_equal(name, "web-hpa");
	assert_string_equal(hpa_watch_target_of(f->hw, "web"), "web-hpa");
	assert_int_equal(ask(f, "db", NULL), HPA_WATCH_NONE);
	assert_null(hpa_watch_target_of(f->hw, "db"));
	hpa_watch_get_status(f->hw, &st);
	assert_int_equal(st.state, HPA_WATCH_SYNCED);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.lw.lists, 1);
}

/** Watch events: retarget, a second HPA on the same Deployment (the
 *  smallest name answers), a kind change forgets it, delete. */
static void
test_hpa_watch_events(void **state)
{
	struct fx *f = *state;
	struct hpa_watch_status st;
	struct kc_req *w;
	char name[PS_MAX_NAME + 1];

	synced_with(f, LIST("50", ITEM("web-hpa", "40", "Deployment", "web")));
	w = fake_kc_next(KC_WATCH);
	assert_int_equal(
	    fake_kc_feed(w,
	        EVENT("MODIFIED", ITEM("web-hpa", "51", "Deployment", "web2"))),
	    0);
	assert_int_equal(ask(f, "web", NULL), HPA_WATCH_NONE);
	assert_int_equal(ask(f, "web2", name), HPA_WATCH_FOUND);
	assert_string_equal(name, "web-hpa");
	assert_int_equal(
	    fake_kc_feed(
	        w, EVENT("ADDED", ITEM("a-hpa", "52", "Deployment", "web2"))),
	    0);
	assert_int_equal(ask(f, "web2", name), HPA_WATCH_FOUND);
	assert_string_equal(name, "a-hpa");
	assert_int_equal(
	    fake_kc_feed(w,
	        EVENT("MODIFIED", ITEM("a-hpa", "53", "ReplicaSet", "web2"))),
	    0);
	assert_int_equal(ask(f, "web2", name), HPA_WATCH_FOUND);
	assert_string_equal(name, "web-hpa");
	assert_int_equal(
	    fake_kc_feed(w,
	        EVENT("DELETED", ITEM("web-hpa", "54", "Deployment", "web2"))),
	    0);
	assert_int_equal(ask(f, "web2", NULL), HPA_WATCH_NONE);
	hpa_watch_get_status(f->hw, &st);
	assert_int_equal(st.lw.events, 4);
}

/** 404 (no autoscaling/v2): unavailable, "unknown" (not "none"),
 *  retried after the backoff; a later list recovers. */
static void
test_hpa_watch_404_unknown_then_recovers(void **state)
{
	struct fx *f = *state;
	struct hpa_watch_status st;

	hpa_watch_start(f->hw);
	fake_kc_answer(fake_kc_next(KC_LIST), 404,
	    "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":"
	    "\"NotFound\",\"code\":404,\"message\":\"the server could not "
	    "find the requested resource\"}");
	hpa_watch_get_status(f->hw, &st);
	assert_int_equal(st.state, HPA_WATCH_UNAVAILABLE);
	assert_int_equal(st.last_status, 404);
	assert_int_equal(st.lw.list_failures, 1);
	assert_int_equal(ask(f, "web", NULL), HPA_WATCH_UNKNOWN);
	assert_null(hpa_watch_target_of(f->hw, "web"));
	assert_false(hpa_watch_synced(f->hw));
	assert_int_equal(fake_kc_pending(), 0);

	after_backoff(f);
	answer_list(LIST("9", ITEM("h", "8", "Deployment", "web")));
	assert_int_equal(ask(f, "web", NULL), HPA_WATCH_FOUND);
	hpa_watch_get_status(f->hw, &st);
	assert_int_equal(st.state, HPA_WATCH_SYNCED);
	assert_int_equal(st.last_status, 0);
}

/** 403 on a relist after the map was synced (the Role lost the grant):
 *  the map is no longer trusted — "unknown" — and a 500 is not (the
 *  map stays synced, as the Deployment cache does). */
static void
test_hpa_watch_403_after_sync_unknown(void **state)
{
	struct fx *f = *state;
	struct hpa_watch_status st;

	synced_with(f, LIST("50", ITEM("web-hpa", "40", "Deployment", "web")));
	/* The resync (30 ms) relists; the API answers 500, then 403. */
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	fake_kc_answer(fake_kc_next(KC_LIST), 500, NULL);
	assert_int_equal(ask(f, "web", NULL), HPA_WATCH_FOUND);
	after_backoff(f);
	fake_kc_answer(fake_kc_next(KC_LIST), 403, NULL);
	assert_int_equal(ask(f, "web", NULL), HPA_WATCH_UNKNOWN);
	hpa_watch_get_status(f->hw, &st);
	assert_int_equal(st.state, HPA_WATCH_UNAVAILABLE);
	assert_int_equal(st.last_status, 403);
	assert_int_equal(st.entries, 0);
}

/* A list answer of more HPAs than the map holds (caller frees). */
static char *
too_many(void)
{
	size_t off, cap = (HPA_MAX_ENTRIES + 1) * 200 + 256;
	char *big = malloc(cap);

	assert_non_null(big);
	off = (size_t)snprintf(
	    big, cap, "{\"metadata\":{\"resourceVersion\":\"62\"},\"items\":[");
	for (int i = 0; i <= HPA_MAX_ENTRIES; i++)
		off += (size_t)snprintf(big + off, cap - off,
		    "%s{\"metadata\":{\"name\":\"h%d\",\"resourceVersion\":"
		    "\"1\"},\"spec\":{\"scaleTargetRef\":{\"apiVersion\":"
		    "\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"d%d\"}}}",
		    i == 0 ? "" : ",", i, i);
	snprintf(big + off, cap - off, "]}");
	return big;
}

/** A relist (the resync's, 30 ms) whose answer is refused — a hostile
 *  item after a good one, a hostile second page — leaves the map as it
 *  was, still synced; a good relist replaces it (absent HPAs gone). */
static void
test_hpa_watch_refused_list_keeps_map(void **state)
{
	struct fx *f = *state;
	char name[PS_MAX_NAME + 1];
	const char *page1 =
	    "{\"metadata\":{\"resourceVersion\":\"61\",\"continue\":"
	    "\"tok\"},\"items\":[" ITEM(
	        "new-hpa", "55", "Deployment", "web") "]}";
	const struct {
		const char *doc, *first, *second;
	} t[] = {
	    {"hostile item",
	        LIST("60",
	            ITEM("new-hpa", "55", "Deployment", "web") "," ITEM(
	                "Bad", "56", "Deployment", "db")),
	        NULL},
	    {"hostile page 2", page1,
	        "{\"items\":[{\"metadata\":{\"name\":7}}]}"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct kc_req *r;

		hpa_watch_free(f->hw);
		fake_kc_reset();
		assert_non_null(f->hw = hpa_watch_new(f->base, NULL, "ns"));
		synced_with(
		    f, LIST("50", ITEM("web-hpa", "40", "Deployment", "web")));
		assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
		answer_list(t[i].first);
		if (t[i].second != NULL) {
			r = fake_kc_next(KC_LIST);
			assert_non_null(r);
			assert_non_null(
			    strstr(fake_kc_path(r), "continue=tok"));
			fake_kc_answer(r, 200, t[i].second);
		}
		if (ask(f, "web", name) != HPA_WATCH_FOUND ||
		    strcmp(name, "web-hpa") != 0 ||
		    hpa_watch_target_of(f->hw, "db") != NULL ||
		    hpa_watch_target_of(f->hw, "d0") != NULL)
			fail_msg("%s: the map changed", t[i].doc);
		assert_true(hpa_watch_synced(f->hw));
	}

	/* A good relist replaces: web-hpa is gone. */
	after_backoff(f);
	answer_list(LIST("70", ITEM("new-hpa", "55", "Deployment", "db")));
	assert_int_equal(ask(f, "web", NULL), HPA_WATCH_NONE);
	assert_int_equal(ask(f, "db", name), HPA_WATCH_FOUND);
	assert_string_equal(name, "new-hpa");
}

/** More HPAs than the map holds: "unknown" (a "none" could be false),
 *  not the old map; a list that fits makes it answer again. */
static void
test_hpa_watch_too_many_unknown(void **state)
{
	struct fx *f = *state;
	struct hpa_watch_status st;
	char *big = too_many();

	synced_with(f, LIST("50", ITEM("web-hpa", "40", "Deployment", "web")));
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	answer_list(big);
	free(big);
	assert_int_equal(ask(f, "web", NULL), HPA_WATCH_UNKNOWN);
	assert_int_equal(ask(f, "d0", NULL), HPA_WATCH_UNKNOWN);
	hpa_watch_get_status(f->hw, &st);
	assert_int_equal(st.state, HPA_WATCH_UNAVAILABLE);
	assert_int_equal(st.entries, 0);
	after_backoff(f);
	answer_list(LIST("70", ITEM("web-hpa", "40", "Deployment", "web")));
	assert_int_equal(ask(f, "web", NULL), HPA_WATCH_FOUND);
}

/** A hostile watch event changes nothing and ends the stream. */
static void
test_hpa_watch_hostile_event(void **state)
{
	struct fx *f = *state;
	struct kc_req *w;

	synced_with(f, LIST("50", ITEM("web-hpa", "40", "Deployment", "web")));
	w = fake_kc_next(KC_WATCH);
	assert_int_equal(
	    fake_kc_feed(
	        w, EVENT("DELETED", ITEM("web-hpa", "", "Deployment", "web"))),
	    -1);
	assert_int_equal(ask(f, "web", NULL), HPA_WATCH_FOUND);
}

/** A namespace that is not a DNS-1123 label is refused. */
static void
test_hpa_watch_bad_namespace(void **state)
{
	struct event_base *base = event_base_new();

	(void)state;
	assert_non_null(base);
	assert_null(hpa_watch_new(base, NULL, "Bad_NS"));
	assert_int_equal(errno, EINVAL);
	event_base_free(base);
}

#define NSITEM(ns, n, rv, target)                                        \
	"{\"metadata\":{\"name\":\"" n "\",\"namespace\":\"" ns "\","    \
	"\"resourceVersion\":\"" rv "\"},\"spec\":{\"scaleTargetRef\":{" \
	"\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","            \
	"\"name\":\"" target "\"}}}"

static int changes[2];

static void
changed_cb(void *arg)
{
	(*(int *)arg)++;
}

/** --watch-all-namespaces: one list+watch of
 *  /apis/autoscaling/v2/horizontalpodautoscalers feeding each
 *  namespace's map (same names apart), other namespaces ignored; each
 *  namespace's changed hook, status from the shared loop; a 403 makes
 *  every namespace unknown. */
static void
test_hpa_watch_all_namespaces(void **state)
{
	const char *names[] = {"alpha", "beta"};
	const char *bad[] = {"alpha", "Beta"};
	struct hpa_watch *ns[2], *all;
	struct event_base *base;
	struct hpa_watch_status st;
	struct kc_req *r;
	char hpa[PS_MAX_NAME + 1];

	(void)state;
	lw_set_default_resync(0);
	assert_non_null(base = event_base_new());
	assert_null(hpa_watch_new_all(base, NULL, bad, 2, ns));
	assert_null(hpa_watch_new_all(base, NULL, names, 0, ns));
	assert_non_null(all = hpa_watch_new_all(base, NULL, names, 2, ns));
	changes[0] = changes[1] = 0;
	hpa_watch_set_changed_cb(ns[0], changed_cb, &changes[0]);
	hpa_watch_set_changed_cb(ns[1], changed_cb, &changes[1]);
	hpa_watch_start(ns[0]); /* a no-op: the shared loop lists */
	assert_null(fake_kc_next(KC_LIST));
	hpa_watch_start(all);
	assert_int_equal(
	    hpa_watch_lookup(ns[0], "web", hpa), HPA_WATCH_UNKNOWN);
	r = fake_kc_next(KC_LIST);
	assert_non_null(r);
	assert_non_null(strstr(
	    fake_kc_path(r), "/apis/autoscaling/v2/horizontalpodautoscalers?"));
	fake_kc_answer(r, 200,
	    LIST("10",
	        NSITEM("alpha", "h1", "5", "web") "," NSITEM("beta", "h2", "6",
	            "api") "," NSITEM("gamma", "h3", "7", "web")));
	assert_int_equal(hpa_watch_lookup(ns[0], "web", hpa), HPA_WATCH_FOUND);
	assert_string_equal(hpa, "h1");
	assert_int_equal(hpa_watch_lookup(ns[0], "api", hpa), HPA_WATCH_NONE);
	assert_int_equal(hpa_watch_lookup(ns[1], "api", hpa), HPA_WATCH_FOUND);
	assert_string_equal(hpa, "h2");
	assert_int_equal(hpa_watch_lookup(ns[1], "web", hpa), HPA_WATCH_NONE);
	assert_int_equal(changes[0], 1);
	assert_int_equal(changes[1], 1);
	hpa_watch_get_status(ns[1], &st);
	assert_int_equal(st.state, HPA_WATCH_SYNCED);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.lw.lists, 1);

	/* Watch events go to their namespace; gamma's are ignored. */
	r = fake_kc_next(KC_WATCH);
	assert_non_null(r);
	fake_kc_answer(r, 200,
	    EVENT("ADDED", NSITEM("beta", "h4", "11", "worker"))
	        EVENT("ADDED", NSITEM("gamma", "h5", "12", "api"))
	            EVENT("DELETED", NSITEM("alpha", "h1", "13", "web")));
	assert_int_equal(
	    hpa_watch_lookup(ns[1], "worker", hpa), HPA_WATCH_FOUND);
	assert_int_equal(hpa_watch_lookup(ns[0], "web", hpa), HPA_WATCH_NONE);
	assert_int_equal(changes[0], 2);
	assert_int_equal(changes[1], 2);

	/* A 403 on the relist: every namespace unknown again. */
	r = fake_kc_next(KC_WATCH);
	if (r == NULL) {
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
		r = fake_kc_next(KC_WATCH);
	}
	assert_non_null(r);
	fake_kc_answer(r, 410, NULL);
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	r = fake_kc_next(KC_LIST);
	assert_non_null(r);
	fake_kc_answer(r, 403, NULL);
	assert_int_equal(
	    hpa_watch_lookup(ns[0], "web", hpa), HPA_WATCH_UNKNOWN);
	assert_int_equal(
	    hpa_watch_lookup(ns[1], "worker", hpa), HPA_WATCH_UNKNOWN);
	hpa_watch_get_status(ns[0], &st);
	assert_int_equal(st.state, HPA_WATCH_UNAVAILABLE);

	hpa_watch_free(ns[0]); /* a no-op: freed with `all` */
	hpa_watch_free(all);
	event_base_free(base);
	fake_kc_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hpa_map_basics),
	    cmocka_unit_test(test_hpa_watch_all_namespaces),
	    cmocka_unit_test(test_hpa_map_bounded),
	    cmocka_unit_test(test_hpa_map_refuses_bad_names),
	    cmocka_unit_test(test_hpa_map_swap),
	    cmocka_unit_test_setup_teardown(
	        test_hpa_watch_list_then_lookup, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hpa_watch_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hpa_watch_404_unknown_then_recovers, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hpa_watch_403_after_sync_unknown, setup_resync, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hpa_watch_refused_list_keeps_map, setup_resync, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hpa_watch_too_many_unknown, setup_resync, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hpa_watch_hostile_event, setup, teardown),
	    cmocka_unit_test(test_hpa_watch_bad_namespace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
