/*
 * annotations.c — replicad's annotations on a Deployment (annotations.h).
 */
#include <stdio.h>
#include <string.h>

#include "core/kube/annotations.h"
#include "proto-socket/ps.h"
#include "proto-socket/ps_codec.h"

static int
key_is(const char *key, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(key, want, len) == 0;
}

/* A count as Kubernetes writes one: decimal digits only, int32. */
static int
parse_count(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > PS_MAX_REPLICAS)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void
set_bound(struct deploy_annot *a, uint8_t bit, uint32_t *dst, const char *value,
    size_t value_len)
{
	uint32_t v;

	if (parse_count(value, value_len, &v) != 0) {
		a->bounds |= PS_B_INVALID;
		return;
	}
	a->bounds |= bit;
	*dst = v;
}

int
annot_apply(struct deploy_annot *a, const char *key, size_t key_len,
    const char *value, size_t value_len)
{
	if (key_is(key, key_len, ANNOT_MIN_REPLICAS))
		set_bound(a, PS_B_MIN, &a->min_replicas, value, value_len);
	else if (key_is(key, key_len, ANNOT_MAX_REPLICAS))
		set_bound(a, PS_B_MAX, &a->max_replicas, value, value_len);
	else if (key_is(key, key_len, ANNOT_PIN_SUSPENDED))
		/* As Kubernetes reads its own boolean annotations. */
		a->pin_suspended =
		    value_len == 4 && memcmp(value, "true", 4) == 0;
	else
		return 0;
	return 1;
}

void
annot_finish(struct deploy_annot *a)
{
	if ((a->bounds & (PS_B_MIN | PS_B_MAX)) == (PS_B_MIN | PS_B_MAX) &&
	    a->min_replicas > a->max_replicas)
		a->bounds |= PS_B_INVALID;
	/* An invalid record carries no numbers: nothing to misread. */
	if (a->bounds & PS_B_INVALID) {
		a->bounds = PS_B_INVALID;
		a->min_replicas = a->max_replicas = 0;
	}
}

int
annot_check(const struct deploy_annot *a, const char *deployment,
    uint32_t replicas, char *why, size_t why_len)
{
	if (a->bounds & PS_B_INVALID) {
		snprintf(why, why_len,
		    "deployment \"%s\" has an invalid %s or %s annotation "
		    "(a count 0..%u, min not above max): no write until it "
		    "is fixed",
		    deployment, ANNOT_MIN_REPLICAS, ANNOT_MAX_REPLICAS,
		    PS_MAX_REPLICAS);
		return -1;
	}
	if ((a->bounds & PS_B_MIN) && replicas < a->min_replicas) {
		snprintf(why, why_len,
		    "replicas %u is below the minimum %u of deployment "
		    "\"%s\" (%s)",
		    replicas, a->min_replicas, deployment, ANNOT_MIN_REPLICAS);
		return -1;
	}
	if ((a->bounds & PS_B_MAX) && replicas > a->max_replicas) {
		snprintf(why, why_len,
		    "replicas %u is above the maximum %u of deployment "
		    "\"%s\" (%s)",
		    replicas, a->max_replicas, deployment, ANNOT_MAX_REPLICAS);
		return -1;
	}
	return 0;
}

uint32_t
annot_clamp(const struct deploy_annot *a, uint32_t pin)
{
	if (a->bounds & PS_B_INVALID)
		return pin;
	if ((a->bounds & PS_B_MIN) && pin < a->min_replicas)
		return a->min_replicas;
	if ((a->bounds & PS_B_MAX) && pin > a->max_replicas)
		return a->max_replicas;
	return pin;
}
