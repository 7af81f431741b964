/*
 * ks_pb.c — protobuf request bodies → the JSON tree (see ks_pb.h).
 *
 * protobuf-c does the wire decoding (ks_k8s.pb-c.c is generated from
 * ks_k8s.proto at build time); this file checks the envelope, the
 * declared kind, every string (UTF-8, length) and every count, and maps
 * fields to JSON the way the API's Go types marshal them: empty strings
 * and unset optional numbers are left out (omitempty), pointers (replicas,
 * revisionHistoryLimit, ...) are written when present.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_k8s.pb-c.h"

#include "tests/kube-sim/ks_json.h"
#include "tests/kube-sim/ks_limits.h"
#include "tests/kube-sim/ks_pb.h"

static const unsigned char pb_magic[4] = {'k', '8', 's', 0};

struct pb_ctx {
	char *err;
	size_t errlen;
	int failed;
};

static void pb_fail(struct pb_ctx *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
pb_fail(struct pb_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return;
	c->failed = 1;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
}

/* Well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	unsigned long cp;

	while (i < n) {
		unsigned char b = s[i];

		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf) {
			need = 1;
			cp = b & 0x1f;
		} else if (b >= 0xe0 && b <= 0xef) {
			need = 2;
			cp = b & 0x0f;
		} else if (b >= 0xf0 && b <= 0xf4) {
			need = 3;
			cp = b & 0x07;
		} else
			return 0;
		if (n - i - 1 < need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 &&
		        (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* A checked JSON string node for s (NULL: failed, c says why). */
static struct ks_json *
pb_str(struct pb_ctx *c, const char *field, const char *s)
{
	size_t n = strlen(s);
	struct ks_json *v;

	if (n > KS_JSON_MAX_STRING || !utf8_ok((const unsigned char *)s, n)) {
		pb_fail(
		    c, "invalid UTF-8 or oversized string in field %s", field);
		return NULL;
	}
	if ((v = ks_json_new_str(s, n)) == NULL)
		pb_fail(c, "out of memory");
	return v;
}

/* o.key = s when s is set and non-empty (Go's omitempty). */
static void
put_str(struct pb_ctx *c, struct ks_json *o, const char *key, const char *s)
{
	struct ks_json *v;

	if (c->failed || s == NULL || s[0] == '\0')
		return;
	if ((v = pb_str(c, key, s)) != NULL && ks_json_set(o, key, v) != 0)
		pb_fail(c, "out of memory");
}

static void
put_int(struct pb_ctx *c, struct ks_json *o, const char *key, long long v)
{
	if (!c->failed && ks_json_set_int(o, key, v) != 0)
		pb_fail(c, "out of memory");
}

static void
put_bool(struct pb_ctx *c, struct ks_json *o, const char *key, int v)
{
	if (!c->failed &&
	    ks_json_set(
	        o, key, ks_json_new(v ? KS_JSON_TRUE : KS_JSON_FALSE)) != 0)
		pb_fail(c, "out of memory");
}

/* A new empty object stored as o.key (NULL when failed). */
static struct ks_json *
put_obj(struct pb_ctx *c, struct ks_json *o, const char *key)
{
	struct ks_json *v;

	if (c->failed)
		return NULL;
	if (ks_json_set(o, key, ks_json_new(KS_JSON_OBJECT)) != 0 ||
	    (v = ks_json_get(o, key)) == NULL) {
		pb_fail(c, "out of memory");
		return NULL;
	}
	return v;
}

static struct ks_json *
put_arr(struct pb_ctx *c, struct ks_json *o, const char *key, size_t n)
{
	struct ks_json *v;

	if (c->failed)
		return NULL;
	if (n > KS_JSON_MAX_MEMBERS) {
		pb_fail(c, "too many items in field %s", key);
		return NULL;
	}
	if (ks_json_set(o, key, ks_json_new(KS_JSON_ARRAY)) != 0 ||
	    (v = ks_json_get(o, key)) == NULL) {
		pb_fail(c, "out of memory");
		return NULL;
	}
	return v;
}

static void
put_strings(struct pb_ctx *c, struct ks_json *o, const char *key,
    char *const *s, size_t n)
{
	struct ks_json *a;
	size_t i;

	if (n == 0 || (a = put_arr(c, o, key, n)) == NULL)
		return;
	for (i = 0; i < n && !c->failed; i++) {
		struct ks_json *v = pb_str(c, key, s[i] ? s[i] : "");

		if (v != NULL && ks_json_append(a, v) != 0)
			pb_fail(c, "out of memory");
	}
}

/* A map<string,string> as o.key: protobuf-c gives key/value entry
 * messages of a different generated type per field, hence the macro. */
static struct ks_json *
map_open(struct pb_ctx *c, struct ks_json *o, const char *key, size_t n)
{
	if (n == 0 || c->failed)
		return NULL;
	if (n > KS_JSON_MAX_MEMBERS) {
		pb_fail(c, "too many entries in field %s", key);
		return NULL;
	}
	return put_obj(c, o, key);
}

static void
map_put(struct pb_ctx *c, struct ks_json *m, const char *field, const char *k,
    const char *v)
{
	struct ks_json *j;

	if (c->failed)
		return;
	if (k == NULL || !utf8_ok((const unsigned char *)k, strlen(k))) {
		pb_fail(c, "invalid UTF-8 in a key of field %s", field);
		return;
	}
	if ((j = pb_str(c, field, v ? v : "")) != NULL &&
	    ks_json_set(m, k, j) != 0)
		pb_fail(c, "out of memory");
}

#define PUT_MAP(c, o, field, arr, n)                                       \
	do {                                                               \
		struct ks_json *m_ = map_open((c), (o), (field), (n));     \
		size_t i_;                                                 \
		for (i_ = 0; m_ != NULL && i_ < (n) && !(c)->failed; i_++) \
			map_put((c), m_, (field), (arr)[i_]->key,          \
			    (arr)[i_]->value);                             \
	} while (0)

static void
put_meta(struct pb_ctx *c, struct ks_json *o, const Kssim__ObjectMeta *m)
{
	struct ks_json *j;

	if ((j = put_obj(c, o, "metadata")) == NULL || m == NULL)
		return;
	put_str(c, j, "name", m->name);
	put_str(c, j, "generateName", m->generatename);
	put_str(c, j, "namespace", m->namespace_);
	put_str(c, j, "resourceVersion", m->resourceversion);
	PUT_MAP(c, j, "labels", m->labels, m->n_labels);
	PUT_MAP(c, j, "annotations", m->annotations, m->n_annotations);
}

static void
put_intstr(struct pb_ctx *c, struct ks_json *o, const char *key,
    const Kssim__IntOrString *v)
{
	if (v == NULL)
		return;
	if (v->has_type && v->type == 1)
		put_str(c, o, key, v->strval ? v->strval : "");
	else
		put_int(c, o, key, v->has_intval ? v->intval : 0);
}

static void
put_container(struct pb_ctx *c, struct ks_json *a, const Kssim__Container *k)
{
	struct ks_json *j, *ports;
	size_t i;

	if (c->failed)
		return;
	if ((j = ks_json_new(KS_JSON_OBJECT)) == NULL ||
	    ks_json_append(a, j) != 0) {
		pb_fail(c, "out of memory");
		return;
	}
	put_str(c, j, "name", k->name);
	put_str(c, j, "image", k->image);
	put_strings(c, j, "command", k->command, k->n_command);
	put_strings(c, j, "args", k->args, k->n_args);
	put_str(c, j, "workingDir", k->workingdir);
	if (k->n_ports > 0 &&
	    (ports = put_arr(c, j, "ports", k->n_ports)) != NULL) {
		for (i = 0; i < k->n_ports && !c->failed; i++) {
			const Kssim__ContainerPort *p = k->ports[i];
			struct ks_json *pj;

			if ((pj = ks_json_new(KS_JSON_OBJECT)) == NULL ||
			    ks_json_append(ports, pj) != 0) {
				pb_fail(c, "out of memory");
				return;
			}
			put_str(c, pj, "name", p->name);
			if (p->has_hostport && p->hostport != 0)
				put_int(c, pj, "hostPort", p->hostport);
			put_int(c, pj, "containerPort",
			    p->has_containerport ? p->containerport : 0);
			put_str(c, pj, "protocol", p->protocol);
			put_str(c, pj, "hostIP", p->hostip);
		}
	}
	put_str(c, j, "terminationMessagePath", k->terminationmessagepath);
	put_str(c, j, "terminationMessagePolicy", k->terminationmessagepolicy);
	put_str(c, j, "imagePullPolicy", k->imagepullpolicy);
}

static void
put_template(
    struct pb_ctx *c, struct ks_json *o, const Kssim__PodTemplateSpec *t)
{
	struct ks_json *j, *s, *a;
	size_t i;

	if (t == NULL || (j = put_obj(c, o, "template")) == NULL)
		return;
	put_meta(c, j, t->metadata);
	if ((s = put_obj(c, j, "spec")) == NULL || t->spec == NULL)
		return;
	if ((a = put_arr(c, s, "containers", t->spec->n_containers)) == NULL)
		return;
	for (i = 0; i < t->spec->n_containers; i++)
		put_container(c, a, t->spec->containers[i]);
	put_str(c, s, "restartPolicy", t->spec->restartpolicy);
	if (t->spec->has_terminationgraceperiodseconds)
		put_int(c, s, "terminationGracePeriodSeconds",
		    t->spec->terminationgraceperiodseconds);
	put_str(c, s, "dnsPolicy", t->spec->dnspolicy);
	put_str(c, s, "schedulerName", t->spec->schedulername);
}

static void
put_deployment(struct pb_ctx *c, struct ks_json *o, const Kssim__Deployment *d)
{
	const Kssim__DeploymentSpec *sp = d->spec;
	struct ks_json *s, *sel, *st, *ru;

	put_meta(c, o, d->metadata);
	if ((s = put_obj(c, o, "spec")) == NULL || sp == NULL)
		return;
	if (sp->has_replicas)
		put_int(c, s, "replicas", sp->replicas);
	if (sp->selector != NULL && (sel = put_obj(c, s, "selector")) != NULL)
		PUT_MAP(c, sel, "matchLabels", sp->selector->matchlabels,
		    sp->selector->n_matchlabels);
	put_template(c, s, sp->template_);
	if (sp->strategy != NULL && (st = put_obj(c, s, "strategy")) != NULL) {
		put_str(c, st, "type", sp->strategy->type);
		if (sp->strategy->rollingupdate != NULL &&
		    (ru = put_obj(c, st, "rollingUpdate")) != NULL) {
			put_intstr(c, ru, "maxUnavailable",
			    sp->strategy->rollingupdate->maxunavailable);
			put_intstr(c, ru, "maxSurge",
			    sp->strategy->rollingupdate->maxsurge);
		}
	}
	if (sp->has_minreadyseconds && sp->minreadyseconds != 0)
		put_int(c, s, "minReadySeconds", sp->minreadyseconds);
	if (sp->has_revisionhistorylimit)
		put_int(c, s, "revisionHistoryLimit", sp->revisionhistorylimit);
	if (sp->has_paused && sp->paused)
		put_bool(c, s, "paused", 1);
	if (sp->has_progressdeadlineseconds)
		put_int(c, s, "progressDeadlineSeconds",
		    sp->progressdeadlineseconds);
}

/* binaryData values: bytes, base64 in JSON (Go's []byte marshalling). */
static void
put_bytes_map(struct pb_ctx *c, struct ks_json *o, const char *field,
    Kssim__ConfigMap__BinaryDataEntry **kv, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct ks_json *m = map_open(c, o, field, n), *v;
	size_t i, j, k, len;
	char *out;

	for (i = 0; m != NULL && i < n && !c->failed; i++) {
		const uint8_t *d = kv[i]->value.data;
		const char *key = kv[i]->key ? kv[i]->key : "";

		len = kv[i]->value.len;
		if (!utf8_ok((const unsigned char *)key, strlen(key))) {
			pb_fail(c, "invalid UTF-8 in a key of field %s", field);
			return;
		}
		if (len > KS_JSON_MAX_STRING / 4 * 3 ||
		    (out = malloc((len + 2) / 3 * 4 + 1)) == NULL) {
			pb_fail(c, "oversized value in field %s", field);
			return;
		}
		for (j = 0, k = 0; j < len; j += 3) {
			uint32_t w = (uint32_t)d[j] << 16;

			if (j + 1 < len)
				w |= (uint32_t)d[j + 1] << 8;
			if (j + 2 < len)
				w |= d[j + 2];
			out[k++] = b64[(w >> 18) & 63];
			out[k++] = b64[(w >> 12) & 63];
			out[k++] = j + 1 < len ? b64[(w >> 6) & 63] : '=';
			out[k++] = j + 2 < len ? b64[w & 63] : '=';
		}
		out[k] = '\0';
		v = ks_json_new_str(out, k);
		free(out);
		if (v == NULL || ks_json_set(m, key, v) != 0)
			pb_fail(c, "out of memory");
	}
}

static void
put_configmap(struct pb_ctx *c, struct ks_json *o, const Kssim__ConfigMap *cm)
{
	put_meta(c, o, cm->metadata);
	PUT_MAP(c, o, "data", cm->data, cm->n_data);
	put_bytes_map(c, o, "binaryData", cm->binarydata, cm->n_binarydata);
	if (cm->has_immutable && cm->immutable)
		put_bool(c, o, "immutable", 1);
}

static void
put_ssar(struct pb_ctx *c, struct ks_json *o,
    const Kssim__SelfSubjectAccessReview *r)
{
	struct ks_json *s, *a;

	put_meta(c, o, r->metadata);
	if ((s = put_obj(c, o, "spec")) == NULL || r->spec == NULL)
		return;
	if (r->spec->resourceattributes != NULL &&
	    (a = put_obj(c, s, "resourceAttributes")) != NULL) {
		const Kssim__ResourceAttributes *ra =
		    r->spec->resourceattributes;

		put_str(c, a, "namespace", ra->namespace_);
		put_str(c, a, "verb", ra->verb);
		put_str(c, a, "group", ra->group);
		put_str(c, a, "version", ra->version);
		put_str(c, a, "resource", ra->resource);
		put_str(c, a, "subresource", ra->subresource);
		put_str(c, a, "name", ra->name);
	}
	if (r->spec->nonresourceattributes != NULL &&
	    (a = put_obj(c, s, "nonResourceAttributes")) != NULL) {
		put_str(c, a, "path", r->spec->nonresourceattributes->path);
		put_str(c, a, "verb", r->spec->nonresourceattributes->verb);
	}
}

struct ks_json *
ks_pb_decode(const void *body, size_t len, const char *want_kind, char *err,
    size_t errlen)
{
	struct pb_ctx c = {err, errlen, 0};
	Kssim__Unknown *u = NULL;
	ProtobufCMessage *m = NULL;
	struct ks_json *o = NULL;
	const char *av, *kind;

	if (errlen > 0)
		err[0] = '\0';
	if (len < sizeof(pb_magic) ||
	    memcmp(body, pb_magic, sizeof(pb_magic)) != 0) {
		pb_fail(&c,
		    "provided data does not appear to be a protobuf message, "
		    "expected prefix [107 56 115 0]");
		return NULL;
	}
	if (len > KS_MAX_BODY) {
		pb_fail(&c, "body too large");
		return NULL;
	}
	u = kssim__unknown__unpack(NULL, len - sizeof(pb_magic),
	    (const uint8_t *)body + sizeof(pb_magic));
	if (u == NULL) {
		pb_fail(&c, "unable to decode the protobuf envelope");
		return NULL;
	}
	av = u->typemeta && u->typemeta->apiversion ? u->typemeta->apiversion
	                                            : "";
	kind = u->typemeta && u->typemeta->kind ? u->typemeta->kind : "";
	if ((u->contentencoding && u->contentencoding[0] != '\0') ||
	    (u->contenttype && u->contenttype[0] != '\0' &&
	        strcmp(u->contenttype, KS_PB_MEDIA) != 0)) {
		pb_fail(&c, "unsupported protobuf content encoding or type");
		goto out;
	}
	if (strcmp(kind, want_kind) != 0) {
		pb_fail(&c, "%.64s is not a %s (apiVersion %.64s)",
		    kind[0] ? kind : "object without kind", want_kind, av);
		goto out;
	}
	if ((o = ks_json_new(KS_JSON_OBJECT)) == NULL) {
		pb_fail(&c, "out of memory");
		goto out;
	}
	put_str(&c, o, "apiVersion", av);
	put_str(&c, o, "kind", kind);
	if (strcmp(kind, "Deployment") == 0 && strcmp(av, "apps/v1") == 0) {
		m = (ProtobufCMessage *)kssim__deployment__unpack(
		    NULL, u->raw.len, u->raw.data);
		if (m != NULL)
			put_deployment(&c, o, (Kssim__Deployment *)m);
	} else if (strcmp(kind, "ConfigMap") == 0 && strcmp(av, "v1") == 0) {
		m = (ProtobufCMessage *)kssim__config_map__unpack(
		    NULL, u->raw.len, u->raw.data);
		if (m != NULL)
			put_configmap(&c, o, (Kssim__ConfigMap *)m);
	} else if (strcmp(kind, "Scale") == 0 &&
	    strcmp(av, "autoscaling/v1") == 0) {
		Kssim__Scale *s;

		m = (ProtobufCMessage *)kssim__scale__unpack(
		    NULL, u->raw.len, u->raw.data);
		s = (Kssim__Scale *)m;
		if (s != NULL) {
			struct ks_json *sp;

			put_meta(&c, o, s->metadata);
			if ((sp = put_obj(&c, o, "spec")) != NULL &&
			    s->spec != NULL && s->spec->has_replicas)
				put_int(&c, sp, "replicas", s->spec->replicas);
		}
	} else if (strcmp(kind, "SelfSubjectAccessReview") == 0 &&
	    strcmp(av, "authorization.k8s.io/v1") == 0) {
		m = (ProtobufCMessage *)
		    kssim__self_subject_access_review__unpack(
		        NULL, u->raw.len, u->raw.data);
		if (m != NULL)
			put_ssar(&c, o, (Kssim__SelfSubjectAccessReview *)m);
	} else if (strcmp(kind, "SelfSubjectReview") == 0 &&
	    strcmp(av, "authentication.k8s.io/v1") == 0) {
		m = (ProtobufCMessage *)kssim__self_subject_review__unpack(
		    NULL, u->raw.len, u->raw.data);
		if (m != NULL)
			put_meta(
			    &c, o, ((Kssim__SelfSubjectReview *)m)->metadata);
	} else {
		pb_fail(&c,
		    "no kind \"%.64s\" is registered for version "
		    "\"%.64s\" in protobuf",
		    kind, av);
		goto out;
	}
	if (m == NULL)
		pb_fail(&c, "unable to decode %s from protobuf", want_kind);
out:
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	kssim__unknown__free_unpacked(u, NULL);
	if (c.failed) {
		ks_json_free(o);
		return NULL;
	}
	return o;
}
