/*
 * ks_auth.h — bearer tokens accepted by kube-sim: from --token, from a
 * token file re-read whenever it changes (rotation tests), or replaced
 * through the admin endpoint.  No token configured: auth is off.
 */
#ifndef KS_AUTH_H
#define KS_AUTH_H

struct ks_auth;

struct ks_auth *ks_auth_new(const char *, const char *const *, int);
void ks_auth_free(struct ks_auth *);
int ks_auth_enabled(struct ks_auth *);
/* The Authorization header value (may be NULL): 1 accepted, 0 not. */
int ks_auth_check(struct ks_auth *, const char *);
/* Replace the static tokens with a comma-separated list ("" = none). */
int ks_auth_set(struct ks_auth *, const char *);

#endif /* KS_AUTH_H */
