/*
 * pin_doc.h — the stored form of pins: RFD 180722's JSON document,
 *
 *   [
 *     {"name": "echo-server", "namespace": "echo", "replicas": 1},
 *     {"name": "batch", "namespace": "echo", "replicas": 2,
 *      "suspended": true},
 *     ...
 *   ]
 *
 * "suspended" (replicad's addition, optional, a boolean; written only
 * when true) keeps a pin without reconciling it.
 *
 * parsed strictly (it may have been edited by hand, or by another replica
 * through the ConfigMap) and generated with yajl.  Pure: no I/O, no
 * policy; pins.c decides what the entries mean.
 *
 * What is refused: anything but a top-level array of objects; a member
 * other than name, namespace, replicas and suspended, one of the first
 * three missing, or any repeated; suspended not a boolean; a name that is not a
 * DNS-1123 subdomain, a namespace that is not a DNS-1123 label; replicas that
 * are not an integer in 0..PS_MAX_REPLICAS; the same (namespace, name) twice;
 * more than PIN_DOC_MAX_ENTRIES entries or PIN_DOC_MAX_BYTES bytes; invalid
 * UTF-8, comments, trailing garbage.
 */
#ifndef PIN_DOC_H
#define PIN_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "proto-socket/ps.h"

/* A pin per deployment the cache can hold, in every namespace the file
 * mentions; ~100 bytes each, so the document stays under 8 MiB. */
#define PIN_DOC_MAX_ENTRIES PS_MAX_LIST_TOTAL
#define PIN_DOC_MAX_BYTES   (8 * 1024 * 1024)

struct pin_entry {
	char name[PS_MAX_NAME + 1];
	char namespace[PS_MAX_NAMESPACE + 1];
	uint32_t replicas;
	uint8_t suspended; /* kept, not reconciled */
};

/*
 * Parses `len` bytes.  On success returns 0 and sets *out (malloc'ed,
 * sorted by namespace then name; NULL when empty) and *n.  On failure
 * returns -1 with a one-line reason in `err` and *out untouched.  An empty
 * or all-blank input is an error (an empty store is "[]").
 */
int pin_doc_parse(const char *buf, size_t len, struct pin_entry **out,
    size_t *n, char *err, size_t errsz);

/*
 * Generates the document for `n` entries (which must be valid and unique;
 * they are written in the order given), indented for the people who read
 * the file.  Returns 0 with a malloc'ed buffer (not
 * NUL-terminated) in *out and its length in *len, -1 on allocation failure.
 */
int pin_doc_generate(
    const struct pin_entry *e, size_t n, char **out, size_t *len);

/* Orders entries by namespace, then name (for qsort and bsearch). */
int pin_entry_cmp(const void *a, const void *b);

#endif /* PIN_DOC_H */
