/*
 * errmap.c — the table of PROTOCOL.md §5, "gateway's HTTP" column.
 */
#include "gateway/errmap.h"
#include "proto-socket/ps.h"

void
errmap_code(uint16_t code, struct errmap *m)
{
	m->retry_after = 0;
	switch (code) {
	case PS_E_NOT_FOUND:
		*m = (struct errmap){404, "not_found", "not found", 0};
		break;
	case PS_E_INVALID:
		*m = (struct errmap){400, "invalid", "invalid request", 0};
		break;
	case PS_E_CONFLICT:
		*m = (struct errmap){409, "conflict", "conflict", 0};
		break;
	case PS_E_UNAVAILABLE:
		*m = (struct errmap){
		    503, "unavailable", "service unavailable", 1};
		break;
	case PS_E_FORBIDDEN:
		*m = (struct errmap){502, "upstream_forbidden",
		    "the cluster refused the service's credential", 0};
		break;
	case PS_E_TIMEOUT:
		*m = (struct errmap){504, "upstream_timeout",
		    "the Kubernetes API did not answer in time", 0};
		break;
	case PS_E_BUSY:
		*m = (struct errmap){503, "busy", "too many requests", 1};
		break;
	case PS_E_API:
		*m = (struct errmap){502, "upstream_error",
		    "the Kubernetes API answered unexpectedly", 0};
		break;
	case PS_E_UNSUPPORTED:
		*m = (struct errmap){
		    501, "not_implemented", "not implemented yet", 0};
		break;
	/* Issue #14: a write's condition failed.  The answer's extra fields
	 * (current count, resourceVersion, HPA) are api_answer.c's. */
	case PS_E_STALE:
		*m = (struct errmap){412, "precondition_failed",
		    "the deployment has changed since that resourceVersion", 0};
		break;
	case PS_E_EXPECTED:
		*m = (struct errmap){409, "precondition_failed",
		    "the deployment does not have the expected replica count",
		    0};
		break;
	case PS_E_AUTOSCALED:
		*m = (struct errmap){409, "autoscaled",
		    "a HorizontalPodAutoscaler targets this deployment", 0};
		break;
	case PS_E_OUT_OF_BOUNDS:
		*m = (struct errmap){422, "out_of_bounds",
		    "the count is outside the deployment's min/max bounds", 0};
		break;
	case PS_E_INTERNAL:
	case PS_E_PROTOCOL:
	case PS_E_VERSION:
	default:
		*m = (struct errmap){500, "internal", "internal error", 0};
		break;
	}
}
