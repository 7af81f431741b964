/*
 * kclient.c — libcurl multi on libevent, the token, per-request bounds.
 *
 * Shape after curl's hiperfifo.c: curl tells us which sockets to watch
 * (sock_cb) and when to call it back (multi_timer_cb); libevent tells curl
 * what happened (event_cb, timer_cb); after every curl_multi_socket_action
 * finished transfers are drained (check_done).  Unlike the demo, every
 * allocation is checked.
 *
 * Deliberately not here: what paths mean (reflector.c, scale.c), JSON of
 * 2xx bodies (callers stream them into kjson), retries other than the one
 * after a 401 with a changed token (backoff policy belongs to callers).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "core/core_limits.h"
#include "core/kube/kclient.h"
#include "core/kube/kjson.h"
#include "core/log.h"

struct kc_req {
	struct kc *kc;
	struct kc_req *prev, *next; /* kc->reqs */
	CURL *easy;
	struct curl_slist *headers;
	enum kc_verb verb;
	char *body;
	kc_data_cb data_cb;
	kc_done_cb done_cb;
	void *arg;
	int retried_401;
	int aborted;
	int in_done; /* done_cb running: kc_cancel() must not free */
	unsigned retry_after;
	char *err_body; /* non-2xx body, bounded */
	size_t err_len;
	char curl_err[CURL_ERROR_SIZE];
};

struct kc_sock {
	struct event *ev;
};

struct kc {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct kc_req *reqs;
	char *url_base;  /* scheme://host:port without trailing '/' */
	char *unix_path; /* unix:/path → the socket; NULL otherwise */
	char *token_file;
	char *ca_file;
	int https;
	char *token; /* NUL-terminated; wiped when replaced */
	size_t token_len;
	struct stat token_st; /* of the file it came from */
	unsigned long long stats[KC_VERB_MAX][KC_MAX_STATUS + 1];
};

static int curl_users;

static const char *const verb_names[KC_VERB_MAX] = {
    [KC_GET] = "GET",
    [KC_LIST] = "LIST",
    [KC_WATCH] = "WATCH",
    [KC_PATCH] = "PATCH",
    [KC_PUT] = "PUT",
    [KC_POST] = "POST",
};

static void check_done(struct kc *kc);

const char *
kc_verb_name(enum kc_verb verb)
{
	return verb < KC_VERB_MAX ? verb_names[verb] : "?";
}

static void
wipe_token(struct kc *kc)
{
	if (kc->token != NULL) {
		explicit_bzero(kc->token, kc->token_len);
		free(kc->token);
	}
	kc->token = NULL;
	kc->token_len = 0;
}

/*
 * Reads the token file if it is new or changed.  The file is opened anew
 * each time (projected volumes swap a symlink), bounded, trimmed, and the
 * token must be one header-safe word.  On any failure the old token stays.
 */
static int
load_token(struct kc *kc, int force)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, start, end;
	ssize_t n;
	int fd = -1, rc = -1;

	if (kc->token_file == NULL)
		return 0;
	if ((fd = open(kc->token_file, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("token file %s", kc->token_file);
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("token file %s", kc->token_file);
		goto out;
	}
	if (!force && kc->token != NULL && st.st_ino == kc->token_st.st_ino &&
	    st.st_dev == kc->token_st.st_dev &&
	    st.st_size == kc->token_st.st_size &&
	    st.st_mtim.tv_sec == kc->token_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == kc->token_st.st_mtim.tv_nsec) {
		rc = 0;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > KC_MAX_TOKEN) {
		log_warnx("token file %s: not a regular file of at most %d "
		          "bytes",
		    kc->token_file, KC_MAX_TOKEN);
		goto out;
	}
	if ((buf = malloc(KC_MAX_TOKEN + 1)) == NULL) {
		log_warn("token");
		goto out;
	}
	while (len < KC_MAX_TOKEN + 1) {
		n = read(fd, buf + len, KC_MAX_TOKEN + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("token file %s", kc->token_file);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > KC_MAX_TOKEN) {
		log_warnx("token file %s: longer than %d bytes", kc->token_file,
		    KC_MAX_TOKEN);
		goto out;
	}
	for (start = 0; start < len && isspace((unsigned char)buf[start]);
	     start++)
		;
	for (end = len; end > start && isspace((unsigned char)buf[end - 1]);
	     end--)
		;
	if (end == start) {
		log_warnx("token file %s: empty", kc->token_file);
		goto out;
	}
	for (size_t i = start; i < end; i++)
		if (buf[i] < 0x21 || buf[i] > 0x7e) {
			log_warnx("token file %s: token has bytes not allowed "
			          "in a header",
			    kc->token_file);
			goto out;
		}
	/* Only when there is leading space: valgrind mistakes glibc's
	 * fortified memmove of a buffer onto itself for an overlapping
	 * memcpy. */
	if (start > 0)
		memmove(buf, buf + start, end - start);
	buf[end - start] = '\0';
	if (kc->token != NULL && kc->token_len == end - start &&
	    memcmp(kc->token, buf, kc->token_len) == 0)
		rc = 0; /* touched but unchanged */
	else {
		wipe_token(kc);
		kc->token = buf;
		kc->token_len = end - start;
		buf = NULL;
		rc = 1;
		log_kv(LOG_LEVEL_INFO, 0,
		    (struct log_kv[]){LOG_BYTES("token", kc->token_len)}, 1,
		    "loaded API token from %s", kc->token_file);
	}
	kc->token_st = st;
out:
	if (buf != NULL) {
		explicit_bzero(buf, KC_MAX_TOKEN + 1);
		free(buf);
	}
	if (fd != -1)
		close(fd);
	return rc;
}

int
kc_reload_token(struct kc *kc)
{
	return load_token(kc, 0) < 0 ? -1 : 0;
}

static void
event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kc *kc = arg;
	int running, action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(kc->multi, fd, action, &running);
	check_done(kc);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kc *kc = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(kc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(kc);
}

/* curl: "call me back in timeout_ms" (-1: never, 0: soon). */
static int
multi_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct kc *kc = arg;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(kc->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(kc->timer, &tv) == 0 ? 0 : -1;
}

/* curl: "watch socket s for `what`". */
static int
sock_cb(CURL *easy, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct kc *kc = arg;
	struct kc_sock *ks = sockp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (ks != NULL) {
			event_free(ks->ev);
			free(ks);
		}
		return 0;
	}
	if (ks == NULL) {
		if ((ks = calloc(1, sizeof(*ks))) == NULL)
			return -1;
		if (curl_multi_assign(kc->multi, s, ks) != CURLM_OK) {
			free(ks);
			return -1;
		}
	} else if (ks->ev != NULL) {
		event_free(ks->ev);
		ks->ev = NULL;
	}
	kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
	if ((ks->ev = event_new(kc->base, s, kind, event_cb, kc)) == NULL ||
	    event_add(ks->ev, NULL) == -1)
		return -1;
	return 0;
}

static long
response_code(CURL *easy)
{
	long code = 0;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct kc_req *req = arg;
	size_t len = size * nmemb, take;
	long code = response_code(req->easy);

	if (code >= 200 && code < 300) {
		if (req->data_cb != NULL &&
		    req->data_cb(req->arg, data, len) != 0) {
			req->aborted = 1;
			return 0; /* curl stops with CURLE_WRITE_ERROR */
		}
		return len;
	}
	/* An error answer: keep the start of it for its Status. */
	if (req->err_body == NULL &&
	    (req->err_body = malloc(KC_MAX_ERROR_BODY)) == NULL)
		return len; /* no Status then, but still an answer */
	take = KC_MAX_ERROR_BODY - req->err_len;
	take = take < len ? take : len;
	memcpy(req->err_body + req->err_len, data, take);
	req->err_len += take;
	return len;
}

/* Keeps Retry-After (delta-seconds only; an HTTP date is ignored). */
static size_t
header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct kc_req *req = arg;
	size_t len = size * nmemb, i;
	static const char name[] = "retry-after:";
	unsigned long v = 0;

	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		req->retry_after = 0; /* a new response starts */
		return len;
	}
	if (len < sizeof(name) - 1 ||
	    strncasecmp(data, name, sizeof(name) - 1) != 0)
		return len;
	for (i = sizeof(name) - 1;
	     i < len && (data[i] == ' ' || data[i] == '\t'); i++)
		;
	for (; i < len && data[i] >= '0' && data[i] <= '9'; i++) {
		v = v * 10 + (unsigned long)(data[i] - '0');
		if (v > KC_MAX_RETRY_AFTER)
			v = KC_MAX_RETRY_AFTER;
	}
	req->retry_after = (unsigned)v;
	return len;
}

static void
unlink_req(struct kc_req *req)
{
	struct kc *kc = req->kc;

	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		kc->reqs = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
}

static void
free_req(struct kc_req *req)
{
	if (req == NULL)
		return;
	if (req->easy != NULL) {
		curl_multi_remove_handle(req->kc->multi, req->easy);
		curl_easy_cleanup(req->easy);
	}
	curl_slist_free_all(req->headers);
	free(req->body);
	free(req->err_body);
	free(req);
}

/* (Re)arms the token on a handle; curl keeps its own copy. */
static int
set_auth(struct kc_req *req)
{
	struct kc *kc = req->kc;

	if (kc->token == NULL)
		return 0;
	if (curl_easy_setopt(req->easy, CURLOPT_HTTPAUTH, CURLAUTH_BEARER) !=
	        CURLE_OK ||
	    curl_easy_setopt(req->easy, CURLOPT_XOAUTH2_BEARER, kc->token) !=
	        CURLE_OK)
		return -1;
	return 0;
}

static void
finish_req(struct kc *kc, struct kc_req *req, CURLcode cc)
{
	struct kc_result res;
	struct kjson *kj = NULL;
	long code = response_code(req->easy);

	memset(&res, 0, sizeof(res));
	res.status = code;
	res.retry_after = req->retry_after;
	res.aborted = req->aborted;
	res.error = "";
	if (cc != CURLE_OK && !req->aborted) {
		res.transport_error = 1;
		res.timed_out = cc == CURLE_OPERATION_TIMEDOUT;
		res.error = req->curl_err[0] != '\0' ? req->curl_err
		                                     : curl_easy_strerror(cc);
	}
	kc->stats[req->verb][code >= 0 && code <= KC_MAX_STATUS ? code : 0]++;

	/*
	 * A 401 may mean the kubelet rotated the token under us: re-read it
	 * and, if it changed, try once more (client-go does the same).
	 */
	if (code == 401 && !req->retried_401 && load_token(kc, 1) == 1) {
		req->retried_401 = 1;
		req->err_len = 0;
		req->retry_after = 0;
		curl_multi_remove_handle(kc->multi, req->easy);
		if (set_auth(req) == 0 &&
		    curl_multi_add_handle(kc->multi, req->easy) == CURLM_OK) {
			log_info("API answered 401; retrying with the "
			         "re-read token");
			return;
		}
	}
	if ((code < 200 || code >= 300) && req->err_len > 0 &&
	    (kj = kjson_new(KJSON_OBJECT, NULL, NULL)) != NULL &&
	    kjson_feed(kj, req->err_body, req->err_len) == 0 &&
	    kjson_finish(kj) == 0 && strcmp(kjson_top(kj)->kind, "Status") == 0)
		res.status_obj = kjson_top(kj);

	unlink_req(req);
	req->in_done = 1;
	if (req->done_cb != NULL)
		req->done_cb(req->arg, &res);
	kjson_free(kj);
	free_req(req);
}

static void
check_done(struct kc *kc)
{
	CURLMsg *msg;
	int left;
	struct kc_req *req;

	while ((msg = curl_multi_info_read(kc->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		req = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &req);
		if (req != NULL)
			finish_req(kc, req, msg->data.result);
	}
}

struct kc *
kc_new(struct event_base *base, const struct kc_config *cfg)
{
	struct kc *kc;
	const char *url = cfg->api_url;
	size_t len;

	if ((kc = calloc(1, sizeof(*kc))) == NULL)
		return NULL;
	kc->base = base;
	if (curl_users++ == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_warnx("curl_global_init failed");
		goto fail;
	}
	if (strncmp(url, "unix:/", 6) == 0) {
		if ((kc->unix_path = strdup(url + 5)) == NULL ||
		    (kc->url_base = strdup("http://localhost")) == NULL)
			goto fail;
	} else if (strncmp(url, "https://", 8) == 0 ||
	    strncmp(url, "http://", 7) == 0) {
		kc->https = url[4] == 's';
		if ((kc->url_base = strdup(url)) == NULL)
			goto fail;
		len = strlen(kc->url_base);
		while (len > 0 && kc->url_base[len - 1] == '/')
			kc->url_base[--len] = '\0';
	} else {
		log_warnx("API URL must be https://, http:// or unix:/");
		goto fail;
	}
	if ((cfg->token_file != NULL &&
	        (kc->token_file = strdup(cfg->token_file)) == NULL) ||
	    (cfg->ca_file != NULL &&
	        (kc->ca_file = strdup(cfg->ca_file)) == NULL))
		goto fail;
	if (kc->token_file != NULL && load_token(kc, 1) < 0)
		goto fail;
	if ((kc->timer = evtimer_new(base, timer_cb, kc)) == NULL ||
	    (kc->multi = curl_multi_init()) == NULL)
		goto fail;
	if (curl_multi_setopt(kc->multi, CURLMOPT_SOCKETFUNCTION, sock_cb) !=
	        CURLM_OK ||
	    curl_multi_setopt(kc->multi, CURLMOPT_SOCKETDATA, kc) != CURLM_OK ||
	    curl_multi_setopt(kc->multi, CURLMOPT_TIMERFUNCTION,
	        multi_timer_cb) != CURLM_OK ||
	    curl_multi_setopt(kc->multi, CURLMOPT_TIMERDATA, kc) != CURLM_OK)
		goto fail;
	return kc;
fail:
	kc_free(kc);
	return NULL;
}

void
kc_free(struct kc *kc)
{
	if (kc == NULL)
		return;
	while (kc->reqs != NULL)
		kc_cancel(kc->reqs);
	if (kc->multi != NULL)
		curl_multi_cleanup(kc->multi);
	if (kc->timer != NULL)
		event_free(kc->timer);
	wipe_token(kc);
	free(kc->url_base);
	free(kc->unix_path);
	free(kc->token_file);
	free(kc->ca_file);
	free(kc);
	if (--curl_users == 0)
		curl_global_cleanup();
}

static const char *
method_of(enum kc_verb verb)
{
	switch (verb) {
	case KC_PATCH:
		return "PATCH";
	case KC_PUT:
		return "PUT";
	case KC_POST:
		return "POST";
	default:
		return "GET";
	}
}

#define SETOPT(o, v)                                                   \
	do {                                                           \
		if (curl_easy_setopt(req->easy, (o), (v)) != CURLE_OK) \
			goto fail;                                     \
	} while (0)

struct kc_req *
kc_start(struct kc *kc, enum kc_verb verb, const char *path,
    const char *content_type, const char *body, size_t body_len,
    kc_data_cb data_cb, kc_done_cb done_cb, void *arg)
{
	struct kc_req *req;
	struct curl_slist *h;
	char *url = NULL, ctype[128];
	size_t ulen;

	if (verb >= KC_VERB_MAX || path[0] != '/' || strlen(path) > KC_MAX_PATH)
		return NULL;
	if ((req = calloc(1, sizeof(*req))) == NULL)
		return NULL;
	req->kc = kc;
	req->verb = verb;
	req->data_cb = data_cb;
	req->done_cb = done_cb;
	req->arg = arg;
	(void)load_token(kc, 0); /* rotated since the last request? */

	ulen = strlen(kc->url_base) + strlen(path) + 1;
	if ((url = malloc(ulen)) == NULL ||
	    (req->easy = curl_easy_init()) == NULL)
		goto fail;
	snprintf(url, ulen, "%s%s", kc->url_base, path);

	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PRIVATE, req);
	SETOPT(CURLOPT_ERRORBUFFER, req->curl_err);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, req);
	SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(CURLOPT_HEADERDATA, req);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_PROTOCOLS_STR, kc->https ? "https" : "http");
	SETOPT(CURLOPT_USERAGENT, "replicad-core");
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)KC_CONNECT_TIMEOUT_MS);
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	/* Verification is not optional: there is no flag to turn it off. */
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	if (kc->ca_file != NULL)
		SETOPT(CURLOPT_CAINFO, kc->ca_file);
	if (kc->unix_path != NULL)
		SETOPT(CURLOPT_UNIX_SOCKET_PATH, kc->unix_path);
	if (verb == KC_WATCH) {
		/* The server ends a watch; we only cut one that went silent. */
		SETOPT(CURLOPT_TIMEOUT_MS, 0L);
		SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
		SETOPT(CURLOPT_LOW_SPEED_TIME, (long)KC_WATCH_STALL_S);
	} else
		SETOPT(CURLOPT_TIMEOUT_MS, (long)KC_REQUEST_TIMEOUT_MS);
	SETOPT(CURLOPT_CUSTOMREQUEST, method_of(verb));
	if (body != NULL) {
		if ((req->body = malloc(body_len + 1)) == NULL)
			goto fail;
		memcpy(req->body, body, body_len);
		req->body[body_len] = '\0';
		SETOPT(CURLOPT_POSTFIELDS, req->body);
		SETOPT(CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	if ((h = curl_slist_append(NULL, "Accept: application/json")) == NULL)
		goto fail;
	req->headers = h;
	if (content_type != NULL) {
		snprintf(
		    ctype, sizeof(ctype), "Content-Type: %s", content_type);
		if ((h = curl_slist_append(req->headers, ctype)) == NULL)
			goto fail;
		req->headers = h;
	}
	/* No "Expect: 100-continue" round trip for small bodies. */
	if ((h = curl_slist_append(req->headers, "Expect:")) == NULL)
		goto fail;
	req->headers = h;
	SETOPT(CURLOPT_HTTPHEADER, req->headers);
	if (set_auth(req) == -1)
		goto fail;
	if (curl_multi_add_handle(kc->multi, req->easy) != CURLM_OK)
		goto fail;
	free(url);
	req->next = kc->reqs;
	if (kc->reqs != NULL)
		kc->reqs->prev = req;
	kc->reqs = req;
	log_debug("API %s %s", kc_verb_name(verb), path);
	return req;
fail:
	log_warnx("cannot start API request %s %s", kc_verb_name(verb), path);
	free(url);
	free_req(req);
	return NULL;
}

long
kc_req_status(const struct kc_req *req)
{
	return response_code(req->easy);
}

void
kc_cancel(struct kc_req *req)
{
	if (req == NULL || req->in_done)
		return;
	unlink_req(req);
	free_req(req);
}

void
kc_stats(const struct kc *kc, kc_stat_cb cb, void *arg)
{
	for (int v = 0; v < KC_VERB_MAX; v++)
		for (long s = 0; s <= KC_MAX_STATUS; s++)
			if (kc->stats[v][s] != 0)
				cb(arg, (enum kc_verb)v, s, kc->stats[v][s]);
}
