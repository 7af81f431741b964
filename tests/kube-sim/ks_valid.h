/*
 * ks_valid.h — defaulting and validation of the autoscaling/v2
 * HorizontalPodAutoscaler and the events.k8s.io/v1 Event, with the real
 * API server's field paths and texts (pkg/apis/autoscaling/validation,
 * pkg/apis/core/validation/events.go).  Pure: no I/O, no libevent.
 */
#ifndef KS_VALID_H
#define KS_VALID_H

struct ks_obj;
struct ks_status;

/* Default (minReplicas 1, a CPU 80 % metric) then validate o's spec;
 * 0, or -1 with st filled (422 Invalid, 400 for a type error). */
int ks_valid_hpa(struct ks_obj *, struct ks_status *);
/* ValidateEventCreate for events.k8s.io/v1. */
int ks_valid_event_create(const struct ks_obj *, struct ks_status *);
/* ValidateEventUpdate: the series may change, the rest is immutable. */
int ks_valid_event_update(
    const struct ks_obj *, const struct ks_obj *, struct ks_status *);
/* A MicroTime/Time string as the decoder accepts it (RFC 3339). */
int ks_valid_time(const char *);

#endif /* KS_VALID_H */
