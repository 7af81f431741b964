/*
 * body.h — strict validation of the one request body the API takes:
 * {"replicas": N}.  A single JSON object, exactly one key "replicas", an
 * integer in 0..max written without sign, fraction or exponent, nothing
 * after the object but whitespace, valid UTF-8.  Parsed with yajl; the
 * parse is cancelled at the first token that cannot be part of a valid
 * body, so depth bombs and long arrays cost nothing.  Pure, unit-tested.
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
	BODY_UNKNOWN_FIELD,   /* a key other than "replicas" */
	BODY_DUPLICATE_FIELD, /* "replicas" twice */
	BODY_MISSING_FIELD,   /* no "replicas" */
	BODY_NOT_INTEGER,     /* string, float, exponent, bool, null, ... */
	BODY_RANGE,           /* negative or above the maximum */
	BODY_NOMEM            /* the parser could not be allocated */
};

/* Parses `len` bytes of `buf`; on BODY_OK `*replicas` is set. */
enum body_err body_parse_replicas(
    const unsigned char *buf, size_t len, uint32_t max, uint32_t *replicas);
/* The error body's "error" token, e.g. "unknown_field". */
const char *body_reason(enum body_err e);
/* A human-readable message for the error body. */
const char *body_message(enum body_err e);

#endif /* GW_BODY_H */
