/*
 * pins.c — the pin store (see pins.h).
 *
 * Two sorted arrays: `own` (the core's namespace, searched by name) and
 * `other` (every other namespace, kept only to be written back).  A change
 * builds the whole new document from a copy, writes it to PATH.tmp,
 * fsyncs it, renames it over PATH and fsyncs the directory; only then is
 * the copy swapped in.  The file is small (at most PIN_DOC_MAX_BYTES) and
 * changes are rare (a person pins a deployment), so doing this on the
 * event loop is a few milliseconds now and then.
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
#include "core/pin_doc.h"
#include "core/pins.h"
#include "proto-socket/ps_buf.h"

struct pins {
	char path[CORE_MAX_PATH + 1];
	char tmp[CORE_MAX_PATH + 8];
	char dir[CORE_MAX_PATH + 1];
	char namespace[PS_MAX_NAMESPACE + 1];
	uint32_t max_replicas;
	struct pin_entry *own; /* sorted by name; namespace == ours */
	size_t n_own;
	struct pin_entry *other; /* sorted by namespace, name */
	size_t n_other;
	struct pins_stats stats;
};

static int
by_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct pin_entry *)elem)->name);
}

/* Index of `name` in own, or where it would go (with *found = 0). */
static size_t
find(const struct pins *p, const char *name, int *found)
{
	size_t lo = 0, hi = p->n_own;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = by_name(name, &p->own[mid]);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = 0;
	return lo;
}

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

/*
 * Writes `own` (n entries) plus p->other as the document, atomically.
 * The merged array is sorted like a parsed document, so that the file
 * reads the same whichever core wrote it.
 */
static int
store(struct pins *p, const struct pin_entry *own, size_t n, char *err,
    size_t errsz)
{
	struct pin_entry *all;
	char *doc = NULL;
	size_t len = 0, total = n + p->n_other;
	int fd = -1, dfd = -1, rc = -1;
	const char *what = "write";

	if ((all = malloc((total != 0 ? total : 1) * sizeof(*all))) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	if (n != 0)
		memcpy(all, own, n * sizeof(*all));
	if (p->n_other != 0)
		memcpy(all + n, p->other, p->n_other * sizeof(*all));
	qsort(all, total, sizeof(*all), pin_entry_cmp);
	if (pin_doc_generate(all, total, &doc, &len) != 0) {
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
	if (rc != 0)
		p->stats.store_failures++;
	free(doc);
	free(all);
	return rc;
}

/* Reads the whole file; 1 when it does not exist. */
static int
load(const char *path, char **out, size_t *len, char *err, size_t errsz)
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

/* Splits parsed entries into own and other; -1 on a refused count. */
static int
adopt(struct pins *p, struct pin_entry *v, size_t n, char *err, size_t errsz)
{
	size_t no = 0, nt = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].replicas > p->max_replicas) {
			snprintf(err, errsz,
			    "deployment \"%s\" in namespace \"%s\" is pinned "
			    "to %u, above the core's --max-replicas %u",
			    v[i].name, v[i].namespace, v[i].replicas,
			    p->max_replicas);
			return -1;
		}
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].namespace, p->namespace) == 0)
			no++;
	if ((p->own = malloc((no != 0 ? no : 1) * sizeof(*p->own))) == NULL ||
	    (p->other = malloc(
	         (n - no != 0 ? n - no : 1) * sizeof(*p->other))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	/* v is sorted by namespace then name: each part stays sorted. */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].namespace, p->namespace) == 0)
			p->own[p->n_own++] = v[i];
		else
			p->other[nt++] = v[i];
	}
	p->n_other = nt;
	return 0;
}

struct pins *
pins_open_file(const char *path, const char *namespace, uint32_t max_replicas,
    char *err, size_t errsz)
{
	struct pins *p;
	struct pin_entry *v = NULL;
	char *buf = NULL, dircopy[CORE_MAX_PATH + 1];
	size_t len = 0, n = 0;
	int r;

	if (strlen(path) > CORE_MAX_PATH ||
	    ps_valid_namespace(namespace, strlen(namespace)) != PS_OK) {
		snprintf(
		    err, errsz, "pins file path too long or bad namespace");
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	snprintf(p->path, sizeof(p->path), "%s", path);
	snprintf(p->tmp, sizeof(p->tmp), "%s.tmp", path);
	snprintf(dircopy, sizeof(dircopy), "%s", path);
	snprintf(p->dir, sizeof(p->dir), "%s", dirname(dircopy));
	snprintf(p->namespace, sizeof(p->namespace), "%s", namespace);
	p->max_replicas = max_replicas;

	if ((r = load(path, &buf, &len, err, errsz)) < 0)
		goto fail;
	if (r == 0) {
		char why[256];

		if (pin_doc_parse(buf, len, &v, &n, why, sizeof(why)) != 0) {
			snprintf(err, errsz, "the pins file %s is invalid: %s",
			    path, why);
			goto fail;
		}
	}
	if (adopt(p, v, n, err, errsz) != 0)
		goto fail;
	/* A new store is written now: an unwritable path fails at start. */
	if (r == 1 && store(p, NULL, 0, err, errsz) != 0)
		goto fail;
	free(v);
	free(buf);
	return p;
fail:
	free(v);
	free(buf);
	pins_free(p);
	return NULL;
}

void
pins_free(struct pins *p)
{
	if (p == NULL)
		return;
	free(p->own);
	free(p->other);
	free(p);
}

size_t
pins_count(const struct pins *p)
{
	return p->n_own;
}

int
pins_get(const struct pins *p, const char *name, uint32_t *replicas)
{
	int found;
	size_t i = find(p, name, &found);

	if (!found)
		return -1;
	*replicas = p->own[i].replicas;
	return 0;
}

int
pins_next(const struct pins *p, const char *after, struct ps_pin *out)
{
	int found;
	size_t i = find(p, after, &found);

	if (found)
		i++;
	if (i >= p->n_own)
		return 0;
	memcpy(out->name, p->own[i].name, sizeof(out->name));
	out->replicas = p->own[i].replicas;
	return 1;
}

/*
 * The array that a change produces: a copy of own with room for one more
 * (the copy is what gets stored; it replaces own only once stored).
 */
static struct pin_entry *
copy_own(const struct pins *p)
{
	struct pin_entry *c;

	if ((c = malloc((p->n_own + 1) * sizeof(*c))) == NULL)
		return NULL;
	if (p->n_own != 0)
		memcpy(c, p->own, p->n_own * sizeof(*c));
	return c;
}

int
pins_put(struct pins *p, const char *name, uint32_t replicas, int *had,
    uint32_t *old, char *err, size_t errsz)
{
	struct pin_entry *c;
	size_t i, n = p->n_own;
	int found;

	if (ps_valid_name(name, strlen(name)) != PS_OK) {
		snprintf(err, errsz, "not a DNS-1123 subdomain");
		return PINS_REFUSED;
	}
	if (replicas > p->max_replicas) {
		snprintf(err, errsz, "replicas %u above the maximum %u",
		    replicas, p->max_replicas);
		return PINS_REFUSED;
	}
	i = find(p, name, &found);
	if (!found && p->n_own + p->n_other >= PIN_DOC_MAX_ENTRIES) {
		snprintf(err, errsz, "too many pins (at most %d)",
		    PIN_DOC_MAX_ENTRIES);
		return PINS_REFUSED;
	}
	*had = found;
	*old = found ? p->own[i].replicas : 0;
	if (found && p->own[i].replicas == replicas)
		return 0; /* already stored: nothing to write */
	if ((c = copy_own(p)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return PINS_STORE_FAILED;
	}
	if (!found) {
		memmove(&c[i + 1], &c[i], (n - i) * sizeof(*c));
		memset(&c[i], 0, sizeof(c[i]));
		snprintf(c[i].name, sizeof(c[i].name), "%s", name);
		memcpy(c[i].namespace, p->namespace, sizeof(c[i].namespace));
		n++;
	}
	c[i].replicas = replicas;
	if (store(p, c, n, err, errsz) != 0) {
		free(c);
		return PINS_STORE_FAILED;
	}
	free(p->own);
	p->own = c;
	p->n_own = n;
	return 0;
}

int
pins_delete(
    struct pins *p, const char *name, uint32_t *old, char *err, size_t errsz)
{
	struct pin_entry *c;
	size_t i;
	int found;

	i = find(p, name, &found);
	if (!found)
		return PINS_NO_PIN;
	if ((c = copy_own(p)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return PINS_STORE_FAILED;
	}
	memmove(&c[i], &c[i + 1], (p->n_own - i - 1) * sizeof(*c));
	if (store(p, c, p->n_own - 1, err, errsz) != 0) {
		free(c);
		return PINS_STORE_FAILED;
	}
	*old = p->own[i].replicas;
	free(p->own);
	p->own = c;
	p->n_own--;
	return 0;
}

void
pins_get_stats(const struct pins *p, struct pins_stats *st)
{
	*st = p->stats;
}
