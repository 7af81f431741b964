/*
 * ipc_sock.c — the socket file of the core's socket server: refuse a path
 * that is not a stale socket of ours, bind it 0660 (by the umask, never a
 * chmod by path), listen, and remove it at shutdown only if it is still
 * the file we bound.
 *
 * Not here: what happens to an accepted client (ipc_accept.c).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/listener.h>

#include "core/core_limits.h"
#include "core/ipc/ipc_server.h"
#include "core/ipc/ipc_server_int.h"
#include "core/log.h"

static int
sock_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

/*
 * Makes `path` free for bind: absent is fine; a socket nobody answers on
 * is stale and removed; anything else is refused.  The directory is ours
 * (an emptyDir in the pod), which is what makes check-then-unlink safe.
 */
static int
sock_clear(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc, err;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx(
		    "%s exists and is not a socket; not replacing it", path);
		errno = EEXIST;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		log_warn("socket");
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	err = errno;
	close(fd);
	if (rc == 0) {
		log_warnx("%s: another server is answering on it", path);
		errno = EADDRINUSE;
		return -1;
	}
	if (err == ENOENT)
		return 0;
	if (err != ECONNREFUSED) {
		errno = err;
		log_warn("%s: probing the existing socket", path);
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		log_warn("%s: removing the stale socket", path);
		return -1;
	}
	log_info("%s: removed a stale socket", path);
	return 0;
}

int
sock_listen(struct ipcs *srv)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd = -1, rc, err;

	if (sock_addr(srv->path, &sun) != 0) {
		log_warn("%s", srv->path);
		return -1;
	}
	if (sock_clear(srv->path, &sun) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("socket");
		return -1;
	}
	/* Created 0660 by the umask: never wider, and no chmod by path
	 * afterwards, which another writer of the directory could aim at
	 * a file of its own choosing by renaming in between. */
	old = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	err = errno;
	umask(old);
	if (rc != 0) {
		errno = err;
		log_warn("bind %s", srv->path);
		goto fail;
	}
	if (lstat(srv->path, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    (st.st_mode & 07777) != 0660) {
		log_warnx("%s: not the socket just bound (mode %o)", srv->path,
		    (unsigned)(st.st_mode & 07777));
		goto fail_unlink;
	}
	srv->sock_dev = st.st_dev;
	srv->sock_ino = st.st_ino;
	if (listen(fd, CORE_LISTEN_BACKLOG) != 0) {
		log_warn("listen %s", srv->path);
		goto fail_unlink;
	}
	/* backlog 0: already listening. */
	srv->lev = evconnlistener_new(srv->base, accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (srv->lev == NULL) {
		log_warn("listener");
		goto fail_unlink;
	}
	evconnlistener_set_error_cb(srv->lev, accept_error_cb);
	return 0;

fail_unlink:
	err = errno;
	(void)unlink(srv->path);
	errno = err;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* Removes the socket file if it is still the one we bound. */
void
sock_remove(struct ipcs *srv)
{
	struct stat st;

	if (srv->path == NULL)
		return;
	if (lstat(srv->path, &st) == 0 && st.st_dev == srv->sock_dev &&
	    st.st_ino == srv->sock_ino)
		(void)unlink(srv->path);
	free(srv->path);
	srv->path = NULL;
}
