/*
 * hpa_watch.h — which HorizontalPodAutoscaler (autoscaling/v2) targets
 * which Deployment of the core's namespace, kept current by the shared
 * list+watch loop (listwatch.h) on
 * /apis/autoscaling/v2/namespaces/NS/horizontalpodautoscalers.  Read-only:
 * the core never writes an HPA.
 *
 * The map holds HPAs whose spec.scaleTargetRef is kind "Deployment" of the
 * group "apps" (apiVersion "apps/v1"); others are ignored.  It is bounded
 * (HPA_MAX_ENTRIES) and changed only by validated answers: a list is
 * staged and replaces the map only once all its pages were read, so a
 * refused answer leaves the map as it was.
 *
 * "Unknown" is not "no HPA".  Until a first list completes, while the
 * API refuses the list with 403 (the Role lacks list/watch on
 * horizontalpodautoscalers) or 404 (a cluster without autoscaling/v2),
 * and while the namespace holds more HPAs than the map may,
 * hpa_watch_lookup() answers HPA_WATCH_UNKNOWN;  other failures (5xx, a
 * broken stream, a hostile answer) keep a synced map answering, as the
 * Deployment cache keeps serving, while the loop relists; the loop keeps
 * retrying with its backoff, and the first such answer is logged once, clearly.
 * What to do with "unknown" is the caller's decision (refuse a write, or
 * allow it and say the HPA state was unknown), never this module's.
 */
#ifndef HPA_WATCH_H
#define HPA_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/kube/listwatch.h"
#include "proto-socket/ps.h"

struct event_base;
struct kc;
struct hpa_watch;

enum hpa_watch_state {
	HPA_WATCH_STARTING,   /* no list has completed yet */
	HPA_WATCH_SYNCED,     /* the map answers */
	HPA_WATCH_UNAVAILABLE /* the last list got 403/404; retrying */
};

enum hpa_watch_answer {
	HPA_WATCH_UNKNOWN, /* not synced: the map cannot say */
	HPA_WATCH_NONE,    /* synced, and no HPA targets the Deployment */
	HPA_WATCH_FOUND    /* synced, and the HPA's name was copied out */
};

struct hpa_watch_status {
	enum hpa_watch_state state;
	size_t entries;     /* HPAs in the map (each targets a Deployment) */
	long last_status;   /* HTTP status of the last failed list; 0 */
	struct lw_stats lw; /* the list+watch loop's counters */
};

/* Watches `namespace` (a DNS-1123 label, else NULL with EINVAL); NULL
 * also on allocation failure. */
struct hpa_watch *hpa_watch_new(
    struct event_base *base, struct kc *kc, const char *namespace);
/*
 * --watch-all-namespaces: one list+watch of
 * /apis/autoscaling/v2/horizontalpodautoscalers feeding the maps of
 * `namespaces[0..n)` (1..CORE_MAX_NAMESPACES labels), HPA_MAX_ENTRIES
 * each; HPAs of other namespaces are ignored.  `out[i]` gets the watch of
 * namespaces[i], for lookups and status (its start is a no-op); they are
 * freed with the returned one, which alone is started and freed.  NULL
 * with errno.
 */
struct hpa_watch *hpa_watch_new_all(struct event_base *base, struct kc *kc,
    const char *const *namespaces, size_t n, struct hpa_watch **out);
void hpa_watch_free(struct hpa_watch *hw);
/* `cb` runs whenever lookups may answer differently (a list completed,
 * an HPA changed, the watch became unavailable); from the loop, never
 * from inside a lookup. */
void hpa_watch_set_changed_cb(
    struct hpa_watch *hw, void (*cb)(void *arg), void *arg);

/* Starts listing. */
void hpa_watch_start(struct hpa_watch *hw);

/*
 * The HPA that targets `deployment` (borrowed, unchecked: any string),
 * copied into `hpa` when HPA_WATCH_FOUND.  When several HPAs target one
 * Deployment (the HPA controller then refuses to act on any of them,
 * "AmbiguousSelector"), the smallest name in byte order is the answer, so
 * every core answers the same.
 */
enum hpa_watch_answer hpa_watch_lookup(const struct hpa_watch *hw,
    const char *deployment, char hpa[PS_MAX_NAME + 1]);
/*
 * The same as a pointer: the HPA's name, or NULL when there is none *or*
 * the map is not synced — check hpa_watch_synced() to tell those apart.
 * Valid until the loop next runs (a watch event may change the map).
 */
const char *hpa_watch_target_of(
    const struct hpa_watch *hw, const char *deployment);
int hpa_watch_synced(const struct hpa_watch *hw);
void hpa_watch_get_status(
    const struct hpa_watch *hw, struct hpa_watch_status *st);

/* --- the map alone (tests, and hpa_watch.c itself) --- */

struct hpa_map;

/* At most `max` entries; NULL on allocation failure. */
struct hpa_map *hpa_map_new(size_t max);
void hpa_map_free(struct hpa_map *m);
/* HPA `hpa` targets Deployment `deployment` (both DNS-1123 subdomains,
 * checked: -1 with EINVAL); replaces what `hpa` targeted before.  -1 with
 * ENOSPC when full, ENOMEM; the map is then unchanged. */
int hpa_map_put(struct hpa_map *m, const char *hpa, const char *deployment);
/* Forgets `hpa`; 0, or -1 with ENOENT when absent. */
int hpa_map_del(struct hpa_map *m, const char *hpa);
/* The smallest HPA name targeting `deployment`, or NULL (borrowed). */
const char *hpa_map_find(const struct hpa_map *m, const char *deployment);
size_t hpa_map_size(const struct hpa_map *m);
/* Empties it. */
void hpa_map_clear(struct hpa_map *m);
/* Exchanges the contents of `a` and `b` (a staged list goes live). */
void hpa_map_swap(struct hpa_map *a, struct hpa_map *b);

#endif /* HPA_WATCH_H */
