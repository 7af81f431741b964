/*
 * hpa_json.h — a streaming parser for the API's autoscaling/v2
 * HorizontalPodAutoscaler answers: list pages and watch event streams.
 * Untrusted input, on core/json_walk.h: bounded (depth, bytes per item or
 * event, items per page) and validated before the caller sees anything.
 *
 * Only what hpa_watch.c needs is kept: metadata.name, .resourceVersion
 * and spec.scaleTargetRef.{apiVersion,kind,name}.  Whether a target is a
 * Deployment is the caller's business; the parser only says whether the
 * target's name could be one (a DNS-1123 subdomain), because the API
 * accepts any path segment there and an HPA aimed at something else must
 * not make a whole answer fail.
 *
 * Deliberately not here: the map from Deployment to HPA (hpa_watch.c),
 * any HTTP.
 */
#ifndef HPA_JSON_H
#define HPA_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/core_limits.h"
#include "core/kube/kjson.h"
#include "proto-socket/ps.h"

enum hpa_json_mode {
	HPA_JSON_LIST, /* {"kind":"HorizontalPodAutoscalerList",
	                   "metadata":{..},"items":[..]} */
	HPA_JSON_WATCH /* {"type":"ADDED","object":{..}} per line, any number */
};

enum hpa_json_event {
	HPA_EV_NONE,
	HPA_EV_ADDED, /* also every list item */
	HPA_EV_MODIFIED,
	HPA_EV_DELETED,
	HPA_EV_BOOKMARK,
	HPA_EV_ERROR
};

/* One HPA (or a list's own metadata, or an ERROR event's Status). */
struct hpa_json_obj {
	char name[PS_MAX_NAME + 1]; /* metadata.name, DNS-1123 checked */
	/* metadata.namespace, a DNS-1123 label; "" when absent. */
	char namespace[PS_MAX_NAMESPACE + 1];
	char rv[PS_MAX_RV + 1];
	char cont[KJSON_MAX_CONT + 1]; /* a list's metadata.continue */
	/* spec.scaleTargetRef; "" when absent or not a string. */
	char target_api_version[HPA_MAX_API_VERSION + 1];
	char target_kind[HPA_MAX_KIND + 1];
	/* Copied only when it is a DNS-1123 subdomain (target_name_ok). */
	char target_name[PS_MAX_NAME + 1];
	int target_name_ok;
	/* An ERROR event's Status. */
	int32_t code;
	char message[KJSON_MAX_MESSAGE + 1];
};

/*
 * Called for each list item (HPA_EV_ADDED) or watch event, validated:
 * ADDED/MODIFIED/DELETED carry a DNS-1123 name and a resourceVersion,
 * BOOKMARK a resourceVersion, ERROR a code in 100..599.  The object is
 * borrowed for the call.  0 to go on, -1 to abort (feed then fails).
 */
typedef int (*hpa_json_cb)(
    void *arg, enum hpa_json_event ev, const struct hpa_json_obj *obj);

struct hpa_json;

/* NULL on allocation failure. */
struct hpa_json *hpa_json_new(
    enum hpa_json_mode mode, hpa_json_cb cb, void *arg);
void hpa_json_free(struct hpa_json *h);
/* Any split of the input works.  0, or -1 with hpa_json_error() set;
 * after an error the parser is dead. */
int hpa_json_feed(struct hpa_json *h, const void *buf, size_t len);
/* End of body: 0 if the input was complete, -1 otherwise. */
int hpa_json_finish(struct hpa_json *h);
const char *hpa_json_error(const struct hpa_json *h);
/* HPA_JSON_LIST: the list's metadata (rv, cont). */
const struct hpa_json_obj *hpa_json_top(const struct hpa_json *h);
/* Items or events delivered so far. */
size_t hpa_json_count(const struct hpa_json *h);

/* Is a scaleTargetRef an apps-group Deployment ("apps/v1", kind
 * "Deployment")?  Any version of the group "apps" counts. */
int hpa_json_targets_deployment(const struct hpa_json_obj *o);

#endif /* HPA_JSON_H */
