/*
 * gw_limits.h — every limit and default of replicad-gateway in one block,
 * one place to audit.  Wire limits (frame sizes, name lengths, list totals)
 * live in proto-socket/ps.h; these are the gateway's own.  Values marked
 * "flag" are defaults that a command-line flag may lower (or, for timeouts,
 * change within the bounds checked in main.c).
 */
#ifndef GW_LIMITS_H
#define GW_LIMITS_H

/* HTTP, per request. */
#define GW_MAX_HEADERS_SIZE 8192 /* request line + all headers, bytes */
#define GW_MAX_HEADERS      64   /* header fields per request */
#define GW_MAX_BODY         4096 /* JSON body we accept (POST/PUT) */
#define GW_MAX_URI          2048 /* request-target, bytes */
#define GW_MAX_JSON_OUT     (20 * 1024 * 1024) /* largest JSON answer */
/*
 * Bodies up to this size reach the router, which answers 413 (with the
 * API's check order) above GW_MAX_BODY; larger ones are refused by the
 * request guard (http_guard.h) before they are read.
 */
#define GW_MAX_BODY_READ    16384

/* HTTP, per connection (http_conn.c). */
#define GW_MAX_PIPELINE     16    /* requests queued on one connection */
#define GW_READ_CHUNK       16384 /* bytes read at once (one TLS record) */
#define GW_CONN_KEEP_BUF    4096  /* output buffer kept between answers */
#define GW_LINGER_MS        2000  /* after our close: drop the peer's bytes */
#define GW_LINGER_MAX_BYTES 65536 /* ... at most this many */
#define GW_LISTEN_BACKLOG   511

/* HTTP, per connection (seconds). */
#define GW_IO_TIMEOUT           10 /* flag: idle read/write on a connection */
#define GW_REQUEST_DEADLINE     15 /* flag: a whole request must arrive in this */
#define GW_HANDSHAKE_TIMEOUT    5   /* the TLS handshake must be done in this */
#define GW_MAX_CONNECTIONS      256 /* flag: open TLS connections */
#define GW_MAX_CONNECTIONS_CAP  65536
#define GW_DRAIN_TIMEOUT        10 /* flag: SIGTERM waits this long for requests */
#define GW_DRAIN_FLUSH_GRACE_MS 1000 /* then this long for answers to leave */

/* Core link. */
#define GW_CORE_DEADLINE_MS    5000 /* flag: per-request deadline */
#define GW_CORE_HELLO_MS       2000 /* HELLO must be answered in this */
#define GW_CORE_BACKOFF_MIN_MS 100  /* first reconnect delay */
#define GW_CORE_BACKOFF_MAX_MS 2000 /* reconnect delay cap (before jitter) */
#define GW_CORE_MAX_INFLIGHT   64   /* flag: our cap, further capped by HELLO */
#define GW_CORE_MAX_QUEUED     1024 /* beyond it, waiting for a slot; then 503 */
#define GW_CORE_MAX_OUTPUT     (64 * 1024) /* queued request bytes to the core */
#define GW_CORE_READ_HIWAT     (64 * 1024) /* bytes read per callback round */
#define GW_RETRY_AFTER_DEFAULT 1 /* seconds, when nobody knows better */

/* Authorization and identity. */
#define GW_MAX_ALLOW   64  /* --allow-read + --allow-write entries each */
#define GW_MAX_SUBJECT 256 /* an allow-list entry / a certificate name */
#define GW_MAX_SANS    32  /* SANs looked at in one client certificate */

/* TLS. */
#define GW_TLS_VERIFY_DEPTH   4 /* client chain length */
#define GW_TLS_RELOAD_SECONDS 5 /* flag: poll certificate files this often */
#define GW_HSTS_MAX_AGE       "63072000" /* two years */

/* Logging. */
#define GW_LOG_LINE     2048  /* one formatted message */
#define GW_LOG_PATH_MAX 256   /* request path bytes kept in the access log */
#define GW_LOG_BUFFER   65536 /* access lines waiting for one write */
#define GW_LOG_FLUSH_MS 1000  /* ... at most this long */

/* Probe listener. */
#define GW_PROBE_MAX_CONNECTIONS 16
#define GW_PROBE_TIMEOUT         5

#endif /* GW_LIMITS_H */
