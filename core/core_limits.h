/*
 * core_limits.h — every limit of replicad-core in one commented block, so
 * that one screen answers "how much can a peer make the core hold?".
 *
 * The wire limits (frame sizes, string lengths, PS_MAX_INFLIGHT) live in
 * proto-socket/ps.h; the numbers here are the core's own choices within
 * them.  A slow, stuck or hostile socket peer costs at most, per connection:
 * one ps_reader (PS_MAX_FRAME bytes), CORE_MAX_INFLIGHT request handles,
 * CORE_MAX_OUTPUT (+ one read burst of small error answers) of queued
 * output, and CORE_READ_HIGH bytes of unparsed input; times
 * CORE_MAX_CLIENTS connections.
 */
#ifndef CORE_LIMITS_H
#define CORE_LIMITS_H

#include "proto-socket/ps.h"

/* Socket clients.  The gateway keeps one connection (two while it rolls
 * over); the rest is headroom for replicad-ctl and probes. */
#define CORE_MAX_CLIENTS     32
/* Of those, kept for the core's own uid (its probes, an operator's
 * replicad-ctl through kubectl exec): every other allowed uid together
 * holds at most CORE_MAX_CLIENTS - CORE_OWN_UID_SLOTS, so a hostile
 * gateway cannot starve the liveness probe and get the core restarted. */
#define CORE_OWN_UID_SLOTS   4
/* Descriptors kept free for the Kubernetes client, the pins file and the
 * log; accepting pauses (CORE_ACCEPT_PAUSE_MS) when fewer are left. */
#define CORE_FD_RESERVE      16
#define CORE_ACCEPT_PAUSE_MS 1000
/* listen(2) backlog of the Unix socket. */
#define CORE_LISTEN_BACKLOG  16

/* Requests outstanding per connection (advertised in HELLO's answer);
 * more get a BUSY answer and the connection stays. */
#define CORE_MAX_INFLIGHT     32
/* Largest answer frame the core sends (advertised in HELLO's answer). */
#define CORE_MAX_ANSWER_FRAME PS_MAX_FRAME
/* Output queued per client: above CORE_MAX_OUTPUT the core stops reading
 * that client's requests; it resumes below CORE_OUTPUT_LOW.  Multi-frame
 * answers are produced only while the queue is below CORE_OUTPUT_LOW, so
 * a LIST of 65536 names is never held in memory at once. */
#define CORE_MAX_OUTPUT       (256 * 1024)
#define CORE_OUTPUT_LOW       (64 * 1024)
/* Unparsed input held per client before the core stops reading it. */
#define CORE_READ_HIGH        (4 * PS_MAX_REQUEST_FRAME)

/* Timeouts (milliseconds). */
#define CORE_HANDSHAKE_TIMEOUT_MS 5000   /* connect to HELLO */
#define CORE_IDLE_TIMEOUT_MS      300000 /* no request and nothing in flight */
#define CORE_WRITE_TIMEOUT_MS     30000  /* peer does not read our output */
#define CORE_CLOSE_LINGER_MS      2000   /* flushing a final GOAWAY/error */
#define CORE_DRAIN_TIMEOUT_MS     10000  /* SIGTERM: in-flight answers */

/* Retry-After advice in UNAVAILABLE / BUSY answers (seconds). */
#define CORE_RETRY_NOT_SYNCED 5
#define CORE_RETRY_BUSY       1
#define CORE_RETRY_DRAINING   1

/* Allow-list of peer uids (--allow-uid, repeatable). */
#define CORE_MAX_ALLOW_UIDS 16

/* Command-line values. */
#define CORE_MAX_PATH    1024 /* --socket, --kube-*-file */
#define CORE_MAX_API_URL 2048 /* --kube-api */

/* One formatted log message (longer ones are cut and marked). */
#define CORE_LOG_MAX_MSG 1024

/* --- The Kubernetes API side (kclient.c, kjson.c, reflector.c, ...) --- */

/*
 * Namespaces one core serves (--namespaces), each with its own cache,
 * list+watch, HPA watch and write path.  Deployments a namespace's cache
 * holds at most, and all namespaces' caches together (a shared bound:
 * the list that would pass it fails as "cache full", as at one cache's;
 * a LIST over every namespace is then still one answer of at most
 * PS_MAX_LIST_TOTAL names).  HPAs: HPA_MAX_ENTRIES per namespace, below.
 */
#define CORE_MAX_NAMESPACES      PS_MAX_NAMESPACES
#define CORE_MAX_DEPLOYMENTS     PS_MAX_LIST_TOTAL
#define CORE_MAX_DEPLOYMENTS_ALL PS_MAX_LIST_TOTAL

/* kjson: nesting of one answer, bytes of one list item or watch event,
 * items of one list page, bytes handed to yajl per call (the size bound
 * is exact to within one slice). */
#define KJSON_MAX_DEPTH      64
#define KJSON_MAX_UNIT_BYTES (8 * 1024 * 1024)
#define KJSON_MAX_ITEMS      CORE_MAX_DEPLOYMENTS
#define KJSON_FEED_SLICE     4096

/* kclient: token file size, path+query length, the start of an error
 * body kept for its Status, Retry-After cap (s), HTTP statuses counted. */
#define KC_MAX_TOKEN          16384
#define KC_MAX_PATH           2048
#define KC_MAX_ERROR_BODY     65536
#define KC_MAX_RETRY_AFTER    3600
#define KC_MAX_STATUS         599
/* Connect timeout, whole-request timeout (not watches), and the stall
 * detector of a watch: bookmarks come about every minute, so a watch
 * silent for longer than this is dead and is resumed from its RV. */
#define KC_CONNECT_TIMEOUT_MS 5000
#define KC_REQUEST_TIMEOUT_MS 30000
#define KC_WATCH_STALL_S      120

/* The list+watch loop (listwatch.c; client-go's reflector numbers): the
 * Deployments' list page size, watch timeoutSeconds drawn from
 * [MIN, 2 * MIN), backoff 800 ms doubling to 30 s with jitter, reset
 * after 2 min unused, and "very short watch" under 1 s. */
#define LW_LIST_PAGE           500
#define LW_WATCH_TIMEOUT_MIN_S 300
#define LW_BACKOFF_INITIAL_MS  800
#define LW_BACKOFF_CAP_MS      30000
#define LW_BACKOFF_RESET_MS    120000
#define LW_SHORT_WATCH_MS      1000
/* Resync (--resync-period, seconds; 0 = off): a full relist this often
 * after the last completed list, jittered by +-LW_RESYNC_JITTER_PCT %.
 * client-go's informers default to 10 min too; a day is the most a
 * flag may ask for (an older cache is no resync at all). */
#define LW_RESYNC_DEFAULT_S    600
#define LW_RESYNC_MAX_S        86400
#define LW_RESYNC_JITTER_PCT   10

/* HorizontalPodAutoscalers (hpa_watch.c, hpa_json.c): the map holds at
 * most HPA_MAX_ENTRIES HPAs that target a Deployment (a list with more is
 * refused and lookups answer "unknown" until one fits, never a
 * silent "none"); one list item or watch event is at most
 * HPA_JSON_MAX_UNIT_BYTES (an HPA is a few KiB; its managedFields and status
 * can grow, not by megabytes); a list page at most HPA_JSON_MAX_ITEMS items
 * (HPAs that target other kinds are counted, not kept).
 * scaleTargetRef.apiVersion is group/version (a subdomain, a label), its kind a
 * name of at most 63 bytes; longer ones are no Deployment's and are not kept.
 */
#define HPA_MAX_ENTRIES         4096 /* per namespace served */
#define HPA_MAX_ENTRIES_ALL     (CORE_MAX_NAMESPACES * HPA_MAX_ENTRIES)
#define HPA_JSON_MAX_UNIT_BYTES (2 * 1024 * 1024)
#define HPA_JSON_MAX_ITEMS      CORE_MAX_DEPLOYMENTS
#define HPA_MAX_API_VERSION     (253 + 1 + 63)
#define HPA_MAX_KIND            63

/* Write path: how long a SCALE waits for the watch to deliver its write
 * (then answers synced=0), how many recently applied (name, rv) pairs are
 * remembered for events that beat the PATCH answer, Retry-After when the
 * API is unreachable.  The wait ends well inside the gateway's per-request
 * deadline (GW_CORE_DEADLINE_MS, 5 s), so a write the API server made is
 * answered "synced": false rather than lost in a gateway timeout when the
 * watch is down (found by e2e_namespaces_test: a namespace whose watch is
 * forbidden). */
#define CORE_RYW_TIMEOUT_MS 3000
#define SCALE_RECENT        64
#define CORE_RETRY_API_DOWN 5

/* Health: a probe result is reused for this long (so any number of health
 * requests cost at most one API call per interval), and the API counts as
 * reachable for this long after a successful probe. */
#define HEALTH_PROBE_INTERVAL_MS 10000
#define HEALTH_API_FRESH_MS      30000
/* A health request waits this long for a probe, then gets what is known; */
#define HEALTH_WAIT_MS           2000
/* ...and a probe unanswered for this long counts as a hung API. */
#define HEALTH_HUNG_MS           1000

/* Reconciler (pins): writes a second over all Deployments and the burst
 * allowed at once (client-go's workqueue default is 10/s); the delay after
 * a failed write, or a write repeated within the fight window, doubles
 * from INITIAL to MAX; a Deployment's bookkeeping is dropped after it has
 * been idle this long. */
#define RECON_RATE             10
#define RECON_BURST            20
#define RECON_DELAY_INITIAL_MS 1000
#define RECON_DELAY_MAX_MS     300000
#define RECON_FIGHT_WINDOW_MS  60000
#define RECON_ITEM_IDLE_MS     600000

/* --- Pins (pins.c, pin_set.c) ---
 * New pins are refused beyond CORE_MAX_PINS in all served namespaces (one
 * PIN_LIST of every namespace must fit PS_MAX_LIST_TOTAL) and beyond
 * CORE_MAX_PINS_PER_NAMESPACE in one, so that one namespace cannot take
 * the whole budget from the others.  A document is loaded whatever it
 * holds (up to PIN_DOC_MAX_ENTRIES entries in all namespaces). */
#define CORE_MAX_PINS               PS_MAX_LIST_TOTAL
#define CORE_MAX_PINS_PER_NAMESPACE (PS_MAX_LIST_TOTAL / 4)

/* --- Pins in a ConfigMap (--pin-configmap: pins_cm.c, cmjson.c) ---
 * The data value kept is bounded by the API's own ConfigMap limit (1 MiB
 * of data; a change whose document would exceed it is refused before any
 * write); one ConfigMap answer or watch event by CMJSON_MAX_UNIT_BYTES
 * (JSON escapes can make 1 MiB of data up to 6 MiB, plus metadata).  A
 * change tries at most PINS_CM_MAX_ATTEMPTS writes (each 409 re-reads the
 * ConfigMap first, after a jittered pause of PINS_CM_RETRY_BASE_MS
 * doubling up to PINS_CM_RETRY_CAP_MS, as client-go's RetryOnConflict
 * pauses, so that two cores do not collide in lockstep), then answers
 * CONFLICT.  Each core writes its changes one at a time, so a change can
 * lose to every change queued at another core: 10 attempts (over a second
 * of pauses) outlast a dozen changes queued there; 5 did not, in
 * core_pins_cm_test's 24 concurrent pins (writing all queued changes in
 * one PUT would remove the bound; not done yet).  At most PINS_CM_MAX_QUEUED
 * changes wait per core (they are written one at a time).  A write's
 * resourceVersion must come back on the watch within
 * PINS_CM_RYW_TIMEOUT_MS, else the core relists; the last PINS_CM_SEEN
 * resourceVersions the watch delivered are remembered for answers that
 * the watch beat.  Before the first load PIN_* get UNAVAILABLE with
 * Retry-After CORE_RETRY_PINS_NOT_LOADED.  List/watch backoff: LW_*. */
#define CMJSON_MAX_VALUE           (1024 * 1024)
#define CMJSON_MAX_UNIT_BYTES      (8 * 1024 * 1024)
#define PINS_CM_MAX_ATTEMPTS       10
#define PINS_CM_MAX_QUEUED         64
#define PINS_CM_RETRY_BASE_MS      10
#define PINS_CM_RETRY_CAP_MS       160
#define PINS_CM_RYW_TIMEOUT_MS     10000
#define PINS_CM_SEEN               16
#define CORE_RETRY_PINS_NOT_LOADED 2

_Static_assert(CORE_MAX_INFLIGHT >= 1 && CORE_MAX_INFLIGHT <= PS_MAX_INFLIGHT,
    "in-flight limit within the protocol's");
_Static_assert(CORE_MAX_ANSWER_FRAME <= PS_MAX_FRAME,
    "answer frames within the protocol's");
_Static_assert(CORE_OUTPUT_LOW + PS_MAX_FRAME <= CORE_MAX_OUTPUT,
    "a stream frame fits between the watermarks");

_Static_assert(LW_BACKOFF_INITIAL_MS < LW_BACKOFF_CAP_MS, "backoff grows");
_Static_assert(LW_RESYNC_JITTER_PCT > 0 && LW_RESYNC_JITTER_PCT < 50 &&
        LW_RESYNC_DEFAULT_S <= LW_RESYNC_MAX_S,
    "a jittered resync stays positive and the default is allowed");
_Static_assert(KC_WATCH_STALL_S > 60, "longer than the bookmark interval");
_Static_assert(
    HEALTH_HUNG_MS < HEALTH_WAIT_MS, "a timed-out waiter sees a hang");
_Static_assert(RECON_RATE >= 1 && RECON_RATE <= 1000 && RECON_BURST >= 1,
    "the token bucket refills at least a thousandth of a token a ms");

/* --- Leader election (lease.c): client-go's / kube-controller-manager's
 * defaults.  A leader that has not renewed within LEASE_RENEW_DEADLINE_MS
 * of sending its last successful renew stops leading; the others take
 * over only LEASE_DURATION_MS after they last saw the record change (by
 * their own monotonic clock), so there is a 5 s margin.  Acquire attempts
 * come every LEASE_RETRY_MS * [1, 2.2) (client-go's JitterFactor 1.2);
 * after 401/403 (RBAC) they back off, doubling up to
 * LEASE_BACKOFF_CAP_MS.  One API request may take LEASE_ATTEMPT_TIMEOUT_MS;
 * the release on shutdown at most LEASE_RELEASE_TIMEOUT_MS in all.  A
 * Lease answer is at most LEASE_JSON_MAX_BYTES. */
#define LEASE_DURATION_MS        15000
#define LEASE_RENEW_DEADLINE_MS  10000
#define LEASE_RETRY_MS           2000
#define LEASE_JITTER_NUM         6 /* jitter factor 1.2 = 6/5 */
#define LEASE_JITTER_DEN         5
#define LEASE_BACKOFF_CAP_MS     30000
#define LEASE_ATTEMPT_TIMEOUT_MS 5000
#define LEASE_RELEASE_TIMEOUT_MS 2000
#define LEASE_MAX_IDENTITY       128
#define LEASE_JSON_MAX_BYTES     (64 * 1024)

_Static_assert(LEASE_DURATION_MS > LEASE_RENEW_DEADLINE_MS,
    "client-go: leaseDuration > renewDeadline");
_Static_assert((LEASE_RETRY_MS * LEASE_JITTER_NUM) <
        (LEASE_RENEW_DEADLINE_MS * LEASE_JITTER_DEN),
    "client-go: renewDeadline > 1.2 * retryPeriod");
_Static_assert(LEASE_ATTEMPT_TIMEOUT_MS < LEASE_RENEW_DEADLINE_MS,
    "a hung renew is given up before the deadline");

_Static_assert(
    CORE_OWN_UID_SLOTS < CORE_MAX_CLIENTS, "other uids keep some slots");

/*
 * Identities beginning with this are the core's own (the reconciler is
 * "replicad:reconciler"); the core refuses them from any socket peer.
 */
#define CORE_IDENTITY_PREFIX "replicad:"

#endif /* CORE_LIMITS_H */
