/*
 * ks_limits.h — every limit of kube-sim in one place, to audit at a glance.
 *
 * kube-sim is a test double, but it parses untrusted bytes (anything a test
 * or a buggy client sends), so each input is bounded before it is used.
 * Values follow the real kube-apiserver where it has one (body size).
 */
#ifndef KS_LIMITS_H
#define KS_LIMITS_H

/* HTTP request body: the API server's default MaxRequestBodyBytes (3 MiB).
 * Larger bodies get 413 RequestEntityTooLarge as a Status. */
#define KS_MAX_BODY         (3 * 1024 * 1024)
/* evhttp's own hard cap (it answers 413 itself above this, not a Status). */
#define KS_MAX_BODY_HARD    (2 * KS_MAX_BODY)
/* Request header block (all headers together). */
#define KS_MAX_HEADERS_SIZE (64 * 1024)
/* Request path and query string, each. */
#define KS_MAX_PATH         2048
#define KS_MAX_QUERY        4096
/* Path segments we ever route on (/apis/g/v/namespaces/ns/r/name/sub). */
#define KS_MAX_SEGMENTS     10
/* Idle HTTP connection timeout (seconds); watches override it. */
#define KS_HTTP_TIMEOUT     120

/* JSON documents (bodies, continue tokens, token files are not JSON). */
#define KS_JSON_MAX_DEPTH   64     /* nesting of objects/arrays */
#define KS_JSON_MAX_NODES   100000 /* values in one document */
#define KS_JSON_MAX_MEMBERS 4096   /* members of one object */
/* Bytes in one string or key: as large as a body may be, so that a
 * ConfigMap value above 1 MiB reaches validation (422), as on the real
 * server, instead of failing to decode. */
#define KS_JSON_MAX_STRING  KS_MAX_BODY

/* ConfigMap data + binaryData values together (the API's MaxSecretSize,
 * which ValidateConfigMap uses): above it a create/update is 422. */
#define KS_MAX_CONFIGMAP_DATA (1024 * 1024)

/* Kubernetes names: DNS-1123 subdomain (253) / label (63). */
#define KS_MAX_NAME       253
#define KS_MAX_NAMESPACE  63
/* Label and field selectors. */
#define KS_SEL_MAX_REQS   32  /* requirements in one selector */
#define KS_SEL_MAX_VALUES 32  /* values in one "in (...)" set */
#define KS_SEL_MAX_LEN    512 /* bytes of one key or value */

/* Store. */
#define KS_MAX_OBJECTS       200000 /* objects of one kind */
#define KS_HISTORY_DEFAULT   5000   /* events kept for watch resume */
#define KS_HISTORY_MAX       1000000
#define KS_GENERATE_MAX      100000 /* --generate N */
#define KS_INITIAL_MAX       1024   /* --deployments a=1,b=2,... entries */
#define KS_REPLICAS_MAX      100000 /* sanity cap for the controller */
#define KS_LIST_DEFAULT_PAGE 0      /* 0: no limit unless the client asks */

/* Watch streaming. */
#define KS_WATCH_MAX              4096              /* concurrent watches */
#define KS_WATCH_BATCH_BYTES      (64 * 1024)       /* bytes queued per flush */
#define KS_WATCH_MAX_OUTPUT       (8 * 1024 * 1024) /* slow consumer cap */
#define KS_WATCH_TIMEOUT_MIN_DEF  1800  /* no timeoutSeconds: random in */
#define KS_WATCH_TIMEOUT_SPAN_DEF 1800  /* [min, min + span) seconds */
#define KS_BOOKMARK_INTERVAL_DEF  60000 /* ms between bookmarks */
#define KS_BOOKMARK_BEFORE_END_MS 2000  /* last bookmark before deadline */
#define KS_RV_TOO_LARGE_WAIT_MS   3000  /* wait for a future RV, then 504 */

/* Auth. */
#define KS_MAX_TOKENS     64
#define KS_MAX_TOKEN_LEN  4096
#define KS_MAX_TOKEN_FILE (KS_MAX_TOKENS * (KS_MAX_TOKEN_LEN + 1))

/* Fault injection and counters. */
#define KS_MAX_FAULTS   64
#define KS_MAX_DENY     64
#define KS_MAX_COUNTERS 4096 /* distinct verb+path pairs counted */
#define KS_MAX_DEFERRED 4096 /* requests held by latency/hang */
#define KS_MAX_DELAY_MS 600000

/* Simulated controller. */
#define KS_CTRL_DELAY_DEF_MS 500

#endif /* KS_LIMITS_H */
