/*
 * body.h — strict validation of the request bodies the API takes: a write
 * object {"replicas": N, ...} with a fixed set of optional keys per route
 * (issue #14):
 *
 *   key                 type                            routes
 *   "replicas"          integer 0..max, required        POST replicas, PUT pin
 *   "expectedReplicas"  integer 0..PS_MAX_REPLICAS      POST replicas, PUT pin
 *   "force"             true / false                    POST replicas, PUT pin
 *   "suspended"         true / false                    PUT pin
 *
 * A single JSON object; each key at most once; every other key refused;
 * integers written without sign, fraction or exponent and judged on their
 * text; nothing after the object but whitespace; valid UTF-8.  Parsed
 * with yajl; the parse is cancelled at the first token that cannot be part
 * of a valid body, so depth bombs and long arrays cost nothing.  Pure,
 * unit-tested, fuzzed (tests/fuzz/fuzz_body.c).
 */
#ifndef GW_BODY_H
#define GW_BODY_H

#include <stddef.h>
#include <stdint.h>

enum body_err {
	BODY_OK = 0,
	BODY_EMPTY,           /* no bytes (or only whitespace) */
	BODY_SYNTAX,          /* not JSON, bad UTF-8, trailing garbage */
	BODY_NOT_OBJECT,      /* top-level value is not an object */
	BODY_UNKNOWN_FIELD,   /* a key not allowed on this route */
	BODY_DUPLICATE_FIELD, /* a key twice */
	BODY_MISSING_FIELD,   /* no "replicas" */
	BODY_NOT_INTEGER,     /* an integer key: string, float, bool, ... */
	BODY_RANGE,           /* an integer key: negative or over its max */
	BODY_NOT_BOOLEAN,     /* a boolean key: anything but true/false */
	BODY_NOMEM            /* the parser could not be allocated */
};

/* The keys, as bits: which a route allows, which a body had. */
#define BODY_K_REPLICAS  0x01u
#define BODY_K_EXPECTED  0x02u /* "expectedReplicas" */
#define BODY_K_FORCE     0x04u
#define BODY_K_SUSPENDED 0x08u
/* POST .../replicas and PUT .../pin. */
#define BODY_KEYS_SCALE  (BODY_K_REPLICAS | BODY_K_EXPECTED | BODY_K_FORCE)
#define BODY_KEYS_PIN    (BODY_KEYS_SCALE | BODY_K_SUSPENDED)

struct body_write {
	unsigned present;  /* BODY_K_* seen */
	uint32_t replicas; /* always, on BODY_OK */
	uint32_t expected; /* when BODY_K_EXPECTED is present */
	int force;         /* 0/1; 0 when absent */
	int suspended;     /* 0/1; 0 when absent */
	unsigned bad_key;  /* on a typed error: the BODY_K_* at fault */
};

/*
 * Parses `len` bytes of `buf` allowing the keys in `allowed` (always
 * including BODY_K_REPLICAS), "replicas" bounded by `max`.  `*out` is
 * filled on BODY_OK; on an error only `out->bad_key` means anything.
 */
enum body_err body_parse_write(const unsigned char *buf, size_t len,
    unsigned allowed, uint32_t max, struct body_write *out);
/* {"replicas": N} alone (the version-1 body). */
enum body_err body_parse_replicas(
    const unsigned char *buf, size_t len, uint32_t max, uint32_t *replicas);
/* The JSON name of one BODY_K_* bit ("expectedReplicas"), or "?". */
const char *body_key_name(unsigned key);
/* The error body's "error" token, e.g. "unknown_field". */
const char *body_reason(enum body_err e, unsigned bad_key);
/*
 * A human-readable message for the error body into `buf` (`size` bytes,
 * always terminated), naming the key at fault, the allowed keys or the
 * range as fits.
 */
void body_describe(enum body_err e, unsigned bad_key, unsigned allowed,
    uint32_t max, char *buf, size_t size);
/* A fixed message without the details (kept for callers of version 1). */
const char *body_message(enum body_err e);

#endif /* GW_BODY_H */
