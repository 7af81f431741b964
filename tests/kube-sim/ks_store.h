/*
 * ks_store.h — the object store: one sorted index per kind, a single
 * monotonic resourceVersion counter across all kinds, and a bounded
 * history ring of watch events (one per resourceVersion) from which
 * watches resume.  No-op writes make no resourceVersion and no event.
 */
#ifndef KS_STORE_H
#define KS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "tests/kube-sim/ks_obj.h"

enum ks_ev_type { KS_EV_ADDED, KS_EV_MODIFIED, KS_EV_DELETED };

struct ks_event {
	uint64_t rv;
	enum ks_ev_type type;
	struct ks_obj *obj;  /* new state; for DELETED the last state at rv */
	struct ks_obj *prev; /* state before (MODIFIED, DELETED) or NULL */
	char *line;          /* cached watch line, built on first use */
	size_t len;
};

struct ks_store;

typedef void ks_store_hook_fn(void *, const struct ks_event *);

struct ks_store *ks_store_new(size_t);
void ks_store_free(struct ks_store *);
void ks_store_set_hook(struct ks_store *, ks_store_hook_fn *, void *);

uint64_t ks_store_rv(const struct ks_store *);
/* Oldest RV a watch may start from (older → 410 Expired). */
uint64_t ks_store_oldest(const struct ks_store *);
size_t ks_store_history_len(const struct ks_store *);

/* Borrowed; valid until the next write. */
struct ks_obj *ks_store_get(
    const struct ks_store *, enum ks_kind, const char *, const char *);
size_t ks_store_count(const struct ks_store *, enum ks_kind);
struct ks_obj *ks_store_at(const struct ks_store *, enum ks_kind, size_t);
/* First index whose key is >= ns/name (ns "" and name "" sort first). */
size_t ks_store_lower_bound(
    const struct ks_store *, enum ks_kind, const char *, const char *);

/* What create would set (uid, creationTimestamp) without storing o: the
 * answer to a dry-run create (no resourceVersion, as the real one). */
int ks_store_stamp_new(struct ks_obj *, long long);
/* Each takes o (also on error).  Return 0 committed, 1 no-op (update),
 * -1 already exists / not found / out of memory (errno EEXIST/ENOENT). */
int ks_store_create(struct ks_store *, struct ks_obj *, long long);
int ks_store_update(struct ks_store *, struct ks_obj *);
int ks_store_delete(
    struct ks_store *, enum ks_kind, const char *, const char *);

/*
 * Simulated etcd restore of kind k (takes objs[0..n), also on error):
 * every object of k is replaced by objs, given resourceVersions counting
 * up to rv; the counter becomes rv; history is dropped and no event is
 * made.  A watch resuming from any RV it could have resumed from before
 * (>= the old oldest) up to rv sees none of it (ks_store_resume_at).
 * -1 with errno EINVAL (rv 0, duplicate names, too many) or ENOMEM.
 */
int ks_store_restore(struct ks_store *, enum ks_kind, struct ks_obj **, size_t,
    uint64_t, long long);
/* The same for namespace ns only (NULL: every namespace): objs must all
 * be in ns (else EINVAL); objects of k elsewhere are kept unchanged. */
int ks_store_restore_ns(struct ks_store *, enum ks_kind, const char *,
    struct ks_obj **, size_t, uint64_t, long long);
/* Where a watch at cursor continues: past a restore's gap, else cursor. */
uint64_t ks_store_resume_at(const struct ks_store *, uint64_t);

/* The event with this rv, NULL if not (or no longer) in history. */
const struct ks_event *ks_store_event(const struct ks_store *, uint64_t);
/* Its watch line (JSON + "\n"), built once and cached. */
const char *ks_store_event_line(
    struct ks_store *, const struct ks_event *, size_t *);
/* Forget history up to and including rv (all of it if rv is 0). */
void ks_store_compact(struct ks_store *, uint64_t);

#endif /* KS_STORE_H */
