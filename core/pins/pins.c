/*
 * pins.c — the pin store (see pins.h): what both backends share (the set
 * in memory, change notifications, the audit line, the asynchronous
 * interface) and the file backend.  The ConfigMap backend is pins_cm.c.
 *
 * The file backend builds the whole new document from a copy of the set,
 * writes it to PATH.tmp, fsyncs it, renames it over PATH and fsyncs the
 * directory; only then is the copy installed.  The file is small (at most
 * PIN_DOC_MAX_BYTES) and changes are rare (a person pins a deployment), so
 * doing this on the event loop is a few milliseconds now and then.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core_limits.h"
#include "core/log.h"
#include "core/pins/pin_doc.h"
#include "core/pins/pin_set.h"
#include "core/pins/pins.h"
#include "core/pins/pins_cm.h"
#include "proto-socket/ps_buf.h"

enum backend { B_FILE, B_CONFIGMAP };

struct pins {
	enum backend backend;
	/* The served namespaces; cfg points into them. */
	char ns[PS_MAX_NAMESPACES][PS_MAX_NAMESPACE + 1];
	const char *ns_ptr[PS_MAX_NAMESPACES];
	struct pin_set_cfg cfg;
	struct pins_hooks hooks;
	struct pin_set *set; /* NULL until loaded */
	char where[CORE_MAX_PATH + 16];
	/* B_FILE */
	char path[CORE_MAX_PATH + 1];
	char tmp[CORE_MAX_PATH + 8];
	char dir[CORE_MAX_PATH + 1];
	/* B_CONFIGMAP */
	struct pins_cm *cm;
	struct pins_stats stats;
};

/* A change in progress (the ConfigMap backend answers later). */
struct pins_op {
	struct pins *p;
	pins_done_cb done; /* NULL once detached */
	void *arg;
	long peer_uid; /* who asked: socket peer uid */
	char identity[PS_MAX_IDENTITY + 1];
	char namespace[PS_MAX_NAMESPACE + 1];
	char name[PS_MAX_NAME + 1];
	int del;
	uint32_t replicas;
	int suspended; /* put: store the pin suspended */
	int in_call;   /* pins_put/pins_delete has not returned yet */
	int finished;  /* ...and the change is already done */
};

/* ------------------------------------------------------------ memory */

static void
changed(void *arg, const char *ns, const char *name)
{
	struct pins *p = arg;

	if (p->hooks.changed_cb != NULL)
		p->hooks.changed_cb(p->hooks.arg, ns, name);
}

/* `set` (taken) becomes the pins; every pin that differs is reported,
 * once the new set is in place (the hook reads it). */
static void
install(struct pins *p, struct pin_set *set)
{
	struct pin_set *old = p->set;

	p->set = set;
	pin_set_diff(old, set, changed, p);
	pin_set_free(old);
}

static const struct pin_set *
cm_current(void *arg)
{
	return ((struct pins *)arg)->set;
}

static void
cm_replace(void *arg, struct pin_set *set)
{
	install(arg, set);
}

size_t
pins_namespaces(const struct pins *p)
{
	return p->cfg.n_namespaces;
}

const char *
pins_namespace(const struct pins *p, size_t i)
{
	return i < p->cfg.n_namespaces ? p->ns[i] : "";
}

int
pins_serves(const struct pins *p, const char *ns)
{
	return pin_set_serves(&p->cfg, ns);
}

void
pins_not_served(const struct pins *p, const char *ns, char *buf, size_t bufsz)
{
	pin_set_not_served(&p->cfg, ns, buf, bufsz);
}

size_t
pins_count(const struct pins *p)
{
	return p->set != NULL ? pin_set_count(p->set) : 0;
}

size_t
pins_count_ns(const struct pins *p, const char *ns)
{
	return p->set != NULL && pin_set_serves(&p->cfg, ns)
	    ? pin_set_count_ns(p->set, ns)
	    : 0;
}

int
pins_get(
    const struct pins *p, const char *ns, const char *name, uint32_t *replicas)
{
	return p->set != NULL ? pin_set_get(p->set, ns, name, replicas) : -1;
}

int
pins_suspended(const struct pins *p, const char *ns, const char *name)
{
	return p->set != NULL && pin_set_suspended(p->set, ns, name);
}

int
pins_next(const struct pins *p, const char *ns_filter, const char *after_ns,
    const char *after_name, struct ps_pin *out)
{
	return p->set != NULL
	    ? pin_set_next(p->set, ns_filter, after_ns, after_name, out)
	    : 0;
}

int
pins_loaded(const struct pins *p)
{
	return p->set != NULL;
}

const char *
pins_not_loaded(const struct pins *p)
{
	if (p->set != NULL)
		return "loaded";
	return p->backend == B_CONFIGMAP ? pins_cm_not_loaded(p->cm)
	                                 : "not loaded";
}

const char *
pins_where(const struct pins *p)
{
	return p->where;
}

void
pins_get_stats(const struct pins *p, struct pins_stats *st)
{
	*st = p->stats;
	st->loaded = p->set != NULL;
	if (p->backend == B_CONFIGMAP) {
		struct pins_cm_stats cs;

		pins_cm_get_stats(p->cm, &cs);
		st->conflicts = cs.conflicts;
		st->invalid_documents = cs.invalid_documents;
		st->invalid = cs.invalid;
	}
}

/* ------------------------------------------------------------- audit */

void
pins_audit(const char *what, const char *identity, long peer_uid,
    const char *ns, const char *name, int had, uint32_t old, int has_new,
    uint32_t new, const char *outcome)
{
	char o[16] = "none", n[16] = "none";

	if (had)
		snprintf(o, sizeof(o), "%u", old);
	if (has_new)
		snprintf(n, sizeof(n), "%u", new);
	log_kv(LOG_LEVEL_INFO, 0,
	    (struct log_kv[]){LOG_S("audit", what), LOG_S("identity", identity),
	        LOG_I("peer_uid", peer_uid), LOG_S("deployment", name),
	        LOG_S("old", o), LOG_S("new", n), LOG_S("outcome", outcome),
	        LOG_S("namespace", ns)},
	    8, "%s %s/%s %s -> %s: %s", what, ns, name, o, n, outcome);
}

/* The end of a change: message, audit, counters, answer. */
static void
complete(struct pins_op *op, struct pins_result *res)
{
	const char *outcome = res->rc == 0 ? "ok"
	    : res->rc == PINS_NO_PIN       ? "not_found"
	    : res->rc == PINS_NOT_SERVED   ? "not_served"
	                                   : "failed";
	char msg[PS_MAX_MESSAGE + 32];

	snprintf(res->namespace, sizeof(res->namespace), "%s", op->namespace);
	snprintf(res->name, sizeof(res->name), "%s", op->name);
	if (res->rc < 0) {
		snprintf(msg, sizeof(msg), "%s: %s",
		    op->del ? "pin not removed" : "pin not stored",
		    res->message);
		/* Cut to the wire's limit. */
		msg[PS_MAX_MESSAGE] = '\0';
		memcpy(res->message, msg, sizeof(res->message));
	}
	/* The message goes on the wire: printable ASCII only. */
	for (char *c = res->message; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
	if (res->rc == PINS_STORE_FAILED)
		op->p->stats.store_failures++;
	/* had/old are known once the change met its base (else 0). */
	pins_audit(op->del ? "unpin" : "pin", op->identity, op->peer_uid,
	    op->namespace, op->name, res->had, res->old, !op->del, op->replicas,
	    outcome);
	if (res->rc < 0)
		log_warnx("%s", res->message);
	if (op->done != NULL)
		op->done(op->arg, res);
}

/* -------------------------------------------------------------- file */

/* write(2) all of it, through EINTR and short writes. */
static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Writes `s` as the document, atomically. */
static int
file_store(struct pins *p, const struct pin_set *s, char *err, size_t errsz)
{
	char *doc = NULL;
	size_t len = 0;
	int fd = -1, dfd = -1, rc = -1;
	const char *what = "write";

	if (pin_set_generate(s, &doc, &len) != 0) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	if ((fd = open(p->tmp,
	         O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	         0600)) == -1) {
		what = "create";
		goto io;
	}
	if (write_all(fd, doc, len) != 0 || write_all(fd, "\n", 1) != 0)
		goto io;
	what = "fsync";
	if (fsync(fd) != 0)
		goto io;
	what = "close";
	if (close(fd) != 0) {
		fd = -1;
		goto io;
	}
	fd = -1;
	what = "rename";
	if (rename(p->tmp, p->path) != 0)
		goto io;
	/* The rename is durable once the directory is. */
	if ((dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		(void)close(dfd);
	}
	rc = 0;
	goto out;
io:
	snprintf(err, errsz, "cannot store the pins file %s (%s): %s", p->path,
	    what, strerror(errno));
	if (fd != -1)
		(void)close(fd);
	(void)unlink(p->tmp);
out:
	free(doc);
	return rc;
}

/* Reads the whole file; 1 when it does not exist. */
static int
file_load(const char *path, char **out, size_t *len, char *err, size_t errsz)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errsz, "cannot open the pins file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(
		    err, errsz, "the pins file %s is not a regular file", path);
		(void)close(fd);
		return -1;
	}
	if (st.st_size > PIN_DOC_MAX_BYTES) {
		snprintf(err, errsz, "the pins file %s is larger than %d bytes",
		    path, PIN_DOC_MAX_BYTES);
		(void)close(fd);
		return -1;
	}
	/* One byte more than fstat said, to notice a file that grew. */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errsz, "out of memory");
		(void)close(fd);
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errsz, "cannot read the pins file %s: %s",
			    path, strerror(errno));
			break;
		}
		if (r == 0) {
			(void)close(fd);
			*out = buf;
			*len = got;
			return 0;
		}
		got += (size_t)r;
		if (got > (size_t)st.st_size) {
			snprintf(err, errsz,
			    "the pins file %s changed while it was read", path);
			break;
		}
	}
	free(buf);
	(void)close(fd);
	return -1;
}

/* The served set is valid: 1..PS_MAX_NAMESPACES labels, no duplicates. */
static int
valid_served(const char *const *namespaces, size_t n, char *err, size_t errsz)
{
	if (namespaces == NULL || n == 0 || n > PS_MAX_NAMESPACES) {
		snprintf(err, errsz, "the pins store serves 1 to %d namespaces",
		    PS_MAX_NAMESPACES);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (namespaces[i] == NULL ||
		    ps_valid_namespace(namespaces[i],
		        strnlen(namespaces[i], PS_MAX_NAMESPACE + 1)) !=
		        PS_OK) {
			snprintf(err, errsz,
			    "served namespace %zu is not a DNS-1123 label",
			    i + 1);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(namespaces[i], namespaces[j]) == 0) {
				snprintf(err, errsz,
				    "namespace \"%s\" is served twice",
				    namespaces[i]);
				return -1;
			}
	}
	return 0;
}

static struct pins *
pins_alloc(enum backend b, const char *const *namespaces, size_t n,
    uint32_t max_replicas, const struct pins_hooks *hooks)
{
	struct pins *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->backend = b;
	for (size_t i = 0; i < n; i++) {
		snprintf(p->ns[i], sizeof(p->ns[i]), "%s", namespaces[i]);
		p->ns_ptr[i] = p->ns[i];
	}
	p->cfg.namespaces = p->ns_ptr;
	p->cfg.n_namespaces = n;
	p->cfg.max_replicas = max_replicas;
	p->cfg.max_per_namespace = CORE_MAX_PINS_PER_NAMESPACE;
	p->cfg.max_total = CORE_MAX_PINS;
	if (hooks != NULL)
		p->hooks = *hooks;
	return p;
}

struct pins *
pins_open_file(const char *path, const char *const *namespaces, size_t n,
    uint32_t max_replicas, const struct pins_hooks *hooks, char *err,
    size_t errsz)
{
	struct pins *p;
	char *buf = NULL, dircopy[CORE_MAX_PATH + 1];
	size_t len = 0;
	int r;

	if (strlen(path) > CORE_MAX_PATH) {
		snprintf(err, errsz, "pins file path too long");
		return NULL;
	}
	if (valid_served(namespaces, n, err, errsz) != 0)
		return NULL;
	if ((p = pins_alloc(B_FILE, namespaces, n, max_replicas, hooks)) ==
	    NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	snprintf(p->path, sizeof(p->path), "%s", path);
	snprintf(p->tmp, sizeof(p->tmp), "%s.tmp", path);
	snprintf(dircopy, sizeof(dircopy), "%s", path);
	snprintf(p->dir, sizeof(p->dir), "%s", dirname(dircopy));
	snprintf(p->where, sizeof(p->where), "file %s", path);

	if ((r = file_load(path, &buf, &len, err, errsz)) < 0)
		goto fail;
	if (r == 0) {
		char why[256];

		if (pin_set_parse(
		        buf, len, &p->cfg, &p->set, why, sizeof(why)) != 0) {
			snprintf(err, errsz, "the pins file %s is invalid: %s",
			    path, why);
			goto fail;
		}
	} else if ((p->set = pin_set_new()) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	/* A new store is written now: an unwritable path fails at start. */
	if (r == 1 && file_store(p, p->set, err, errsz) != 0)
		goto fail;
	free(buf);
	return p;
fail:
	free(buf);
	pins_free(p);
	return NULL;
}

/*
 * The answer for a pin_set_apply() outcome other than a change to store
 * (`*res` holds had/old and, for a refusal, the message).  1 when the
 * outcome needs nothing stored (PIN_SET_SAME), 0 when it was answered as
 * an error, -1 for PIN_SET_CHANGED.
 */
static int
apply_outcome(enum pin_set_result rc, const char *ns, const char *name,
    struct pins_result *res)
{
	switch (rc) {
	case PIN_SET_CHANGED:
		return -1;
	case PIN_SET_SAME:
		return 1;
	case PIN_SET_NO_PIN:
		res->rc = PINS_NO_PIN;
		res->code = PS_E_NOT_FOUND;
		snprintf(res->message, sizeof(res->message),
		    "deployment \"%s\" has no pin in namespace \"%s\"", name,
		    ns);
		return 0;
	case PIN_SET_NOT_SERVED:
		res->rc = PINS_NOT_SERVED;
		res->code = PS_E_NOT_FOUND;
		return 0;
	case PIN_SET_REFUSED:
		res->rc = PINS_REFUSED;
		res->code = PS_E_INVALID;
		return 0;
	case PIN_SET_NOMEM:
		res->rc = PINS_STORE_FAILED;
		res->code = PS_E_INTERNAL;
		return 0;
	}
	return 0;
}

/* A change of the file store: stored, then installed; at once. */
static void
file_change(struct pins_op *op, struct pins_result *res)
{
	struct pins *p = op->p;
	struct pin_change c = {
	    op->namespace, op->name, op->del, op->replicas, op->suspended};
	struct pin_set *next = NULL;
	enum pin_set_result rc;

	rc = pin_set_apply(p->set, &p->cfg, &c, &next, &res->had, &res->old,
	    res->message, sizeof(res->message));
	if (apply_outcome(rc, op->namespace, op->name, res) == 0)
		return;
	if (rc == PIN_SET_CHANGED) {
		if (file_store(p, next, res->message, sizeof(res->message)) !=
		    0) {
			pin_set_free(next);
			res->rc = PINS_STORE_FAILED;
			res->code = PS_E_INTERNAL;
			return;
		}
		install(p, next);
	}
	res->rc = 0;
	res->replicas = op->del ? res->old : op->replicas;
}

void
pins_try(struct pins *p, const char *ns, const char *name, int del,
    uint32_t replicas, int suspended, struct pins_result *res)
{
	struct pin_change c = {ns, name, del, replicas, suspended};
	struct pin_set *next = NULL;
	enum pin_set_result rc;

	memset(res, 0, sizeof(*res));
	snprintf(res->namespace, sizeof(res->namespace), "%.*s",
	    PS_MAX_NAMESPACE, ns);
	snprintf(res->name, sizeof(res->name), "%.*s", PS_MAX_NAME, name);
	/* The same read-modify-write as a change, on the pins in memory;
	 * the result is thrown away. */
	rc = pin_set_apply(p->set, &p->cfg, &c, &next, &res->had, &res->old,
	    res->message, sizeof(res->message));
	pin_set_free(next);
	if (apply_outcome(rc, ns, name, res) == 0)
		return;
	res->rc = 0;
	res->replicas = del ? res->old : replicas;
}

/* -------------------------------------------------------- ConfigMap */

struct pins *
pins_open_configmap(struct event_base *base, struct kc *kc, const char *home,
    const char *name, const char *const *namespaces, size_t n,
    uint32_t max_replicas, const struct pins_hooks *hooks, char *err,
    size_t errsz)
{
	struct pins *p;
	struct pins_cm_config cfg;
	struct pins_cm_hooks ch;

	if (ps_valid_namespace(home, strlen(home)) != PS_OK ||
	    ps_valid_name(name, strlen(name)) != PS_OK) {
		snprintf(err, errsz,
		    "the ConfigMap name is not a DNS-1123 subdomain or the "
		    "namespace not a label");
		return NULL;
	}
	if (valid_served(namespaces, n, err, errsz) != 0)
		return NULL;
	if ((p = pins_alloc(B_CONFIGMAP, namespaces, n, max_replicas, hooks)) ==
	    NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.base = base;
	cfg.kc = kc;
	cfg.namespace = home;
	cfg.name = name;
	cfg.set = &p->cfg;
	ch.current = cm_current;
	ch.replace = cm_replace;
	ch.arg = p;
	if ((p->cm = pins_cm_new(&cfg, &ch)) == NULL) {
		snprintf(err, errsz, "out of memory");
		free(p);
		return NULL;
	}
	snprintf(p->where, sizeof(p->where), "%s", pins_cm_where(p->cm));
	return p;
}

static void
cm_done(void *arg, const struct pins_result *r)
{
	struct pins_op *op = arg;
	struct pins_result res = *r;

	complete(op, &res);
	if (op->in_call)
		op->finished = 1; /* freed when pins_put/delete returns */
	else
		free(op);
}

/* ------------------------------------------------------------ common */

static struct pins_op *
change(struct pins *p, const char *ns, const char *name, int del,
    uint32_t replicas, int suspended, const char *identity, long peer_uid,
    pins_done_cb done, void *arg)
{
	struct pins_op *op;
	struct pins_result res;
	size_t ns_len = strnlen(ns, PS_MAX_NAMESPACE + 1);
	size_t name_len = strnlen(name, PS_MAX_NAME + 1);
	size_t id_len = strnlen(identity, PS_MAX_IDENTITY + 1);

	memset(&res, 0, sizeof(res));
	if ((op = calloc(1, sizeof(*op))) == NULL) {
		res.rc = PINS_STORE_FAILED;
		res.code = PS_E_INTERNAL;
		snprintf(res.message, sizeof(res.message), "out of memory");
		snprintf(res.namespace, sizeof(res.namespace), "%.*s",
		    PS_MAX_NAMESPACE, ns);
		snprintf(res.name, sizeof(res.name), "%.*s",
		    (int)(name_len < PS_MAX_NAME ? name_len : PS_MAX_NAME),
		    name);
		done(arg, &res);
		return NULL;
	}
	op->p = p;
	op->done = done;
	op->arg = arg;
	op->del = del;
	op->replicas = replicas;
	op->suspended = suspended;
	op->peer_uid = peer_uid;
	/* Untrusted (gateway): re-validated before any use. */
	if (ps_valid_str(PS_STR_IDENTITY, identity, id_len) == PS_OK)
		memcpy(op->identity, identity, id_len + 1);
	else
		snprintf(op->identity, sizeof(op->identity), "(invalid)");
	if (ps_valid_namespace(ns, ns_len) == PS_OK)
		memcpy(op->namespace, ns, ns_len + 1);
	else
		snprintf(op->namespace, sizeof(op->namespace), "(invalid)");
	if (ps_valid_name(name, name_len) == PS_OK)
		memcpy(op->name, name, name_len + 1);
	else
		snprintf(op->name, sizeof(op->name), "(invalid)");
	/* A namespace not served is refused before the store is asked: it
	 * is never written. */
	if (!pin_set_serves(&p->cfg, op->namespace)) {
		res.rc = PINS_NOT_SERVED;
		res.code = PS_E_NOT_FOUND;
		pin_set_not_served(
		    &p->cfg, ns, res.message, sizeof(res.message));
		complete(op, &res);
		free(op);
		return NULL;
	}
	if (op->name[0] == '(' || op->identity[0] == '(') {
		res.rc = PINS_REFUSED;
		res.code = PS_E_INVALID;
		snprintf(res.message, sizeof(res.message), "%s",
		    op->name[0] == '(' ? "not a DNS-1123 subdomain"
		                       : "invalid client identity");
		complete(op, &res);
		free(op);
		return NULL;
	}
	if (p->backend == B_FILE) {
		file_change(op, &res);
		complete(op, &res);
		free(op);
		return NULL;
	}
	op->in_call = 1;
	pins_cm_write(p->cm,
	    &(struct pin_change){
	        op->namespace, op->name, del, replicas, suspended},
	    cm_done, op);
	op->in_call = 0;
	if (op->finished) {
		free(op);
		return NULL;
	}
	return op;
}

struct pins_op *
pins_put(struct pins *p, const char *ns, const char *name, uint32_t replicas,
    int suspended, const char *identity, long peer_uid, pins_done_cb done,
    void *arg)
{
	return change(
	    p, ns, name, 0, replicas, suspended, identity, peer_uid, done, arg);
}

struct pins_op *
pins_delete(struct pins *p, const char *ns, const char *name,
    const char *identity, long peer_uid, pins_done_cb done, void *arg)
{
	return change(p, ns, name, 1, 0, 0, identity, peer_uid, done, arg);
}

void
pins_detach(struct pins_op *op)
{
	if (op != NULL)
		op->done = NULL;
}

int
pins_start(struct pins *p)
{
	return p->backend == B_CONFIGMAP ? pins_cm_start(p->cm) : 0;
}

void
pins_free(struct pins *p)
{
	if (p == NULL)
		return;
	pins_cm_free(p->cm); /* completes (and frees) its changes first */
	pin_set_free(p->set);
	free(p);
}
