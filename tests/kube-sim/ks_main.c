/*
 * ks_main.c — kube-sim's command line, signals and event loop.
 *
 * kube-sim is a Kubernetes API server test double (see README.md).  It
 * prints "kube-sim: listening on URL" on stdout once bound (port 0 picks
 * a free port) and writes the URL to --ready-file if given.  SIGINT and
 * SIGTERM end watches cleanly, free everything and exit 0.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "tests/kube-sim/ks_limits.h"
#include "tests/kube-sim/ks_obj.h"
#include "tests/kube-sim/ks_server.h"
#include "tests/kube-sim/log.h"

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr,
	    "usage: kube-sim [--listen ADDR:PORT] [--tls-cert F --tls-key F]\n"
	    "         [--token T]... [--token-file F] [--namespace NS]\n"
	    "         [--deployments [ns/]a=3,b=2] [--generate N] [--history "
	    "N]\n"
	    "         [--bookmark-interval-ms MS] [--controller-delay-ms MS]\n"
	    "         [--controller-step N] [--watch-chunking MODE]\n"
	    "         [--deny VERB:RESOURCE[/SUB][@[NS]]]... [--user NAME]\n"
	    "         [--ready-file F] [--log-level error|warn|info|debug]\n"
	    "MODE: pack | line | split | bytes:N\n");
	exit(2);
}

static long
num_arg(const char *name, const char *v, long lo, long hi)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || v[0] == '\0' || n < lo || n > hi)
		fatalx("%s: want a number in %ld..%ld", name, lo, hi);
	return n;
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct ks_server *srv = arg;

	(void)what;
	log_info("signal %d: shutting down", (int)sig);
	ks_server_stop(srv);
	event_base_loopexit(srv->base, NULL);
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"tls-cert", required_argument, NULL, 'c'},
	    {"tls-key", required_argument, NULL, 'k'},
	    {"token", required_argument, NULL, 't'},
	    {"token-file", required_argument, NULL, 'T'},
	    {"namespace", required_argument, NULL, 'n'},
	    {"deployments", required_argument, NULL, 'd'},
	    {"generate", required_argument, NULL, 'g'},
	    {"history", required_argument, NULL, 'H'},
	    {"bookmark-interval-ms", required_argument, NULL, 'b'},
	    {"controller-delay-ms", required_argument, NULL, 'C'},
	    {"controller-step", required_argument, NULL, 'S'},
	    {"watch-chunking", required_argument, NULL, 'w'},
	    {"deny", required_argument, NULL, 'D'},
	    {"user", required_argument, NULL, 'u'},
	    {"ready-file", required_argument, NULL, 'r'},
	    {"log-level", required_argument, NULL, 'L'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ks_config cfg;
	struct event_base *base;
	struct ks_server *srv;
	struct event *sigint, *sigterm;
	enum log_level lvl;
	char user[128];
	FILE *f;
	int ch;

	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = "127.0.0.1:6443";
	cfg.ns = "default";
	cfg.history = KS_HISTORY_DEFAULT;
	cfg.bookmark_ms = KS_BOOKMARK_INTERVAL_DEF;
	cfg.ctrl_delay_ms = KS_CTRL_DELAY_DEF_MS;
	cfg.chunk_mode = KS_CHUNK_PACK;
	cfg.chunk_bytes = 7;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			cfg.listen = optarg;
			break;
		case 'c':
			cfg.tls_cert = optarg;
			break;
		case 'k':
			cfg.tls_key = optarg;
			break;
		case 't':
			if (cfg.ntokens >= 16 ||
			    strlen(optarg) > KS_MAX_TOKEN_LEN)
				fatalx("--token: at most 16, each <= %d bytes",
				    KS_MAX_TOKEN_LEN);
			cfg.tokens[cfg.ntokens++] = optarg;
			break;
		case 'T':
			cfg.token_file = optarg;
			break;
		case 'n':
			cfg.ns = optarg;
			break;
		case 'd':
			cfg.deployments = optarg;
			break;
		case 'g':
			cfg.generate =
			    num_arg("--generate", optarg, 0, KS_GENERATE_MAX);
			break;
		case 'H':
			cfg.history =
			    num_arg("--history", optarg, 1, KS_HISTORY_MAX);
			break;
		case 'b':
			cfg.bookmark_ms = num_arg(
			    "--bookmark-interval-ms", optarg, 10, 86400000);
			break;
		case 'C':
			cfg.ctrl_delay_ms = num_arg("--controller-delay-ms",
			    optarg, 0, KS_MAX_DELAY_MS);
			break;
		case 'S':
			cfg.ctrl_step = num_arg(
			    "--controller-step", optarg, 0, KS_REPLICAS_MAX);
			break;
		case 'w':
			if (strcmp(optarg, "pack") == 0)
				cfg.chunk_mode = KS_CHUNK_PACK;
			else if (strcmp(optarg, "line") == 0)
				cfg.chunk_mode = KS_CHUNK_LINE;
			else if (strcmp(optarg, "split") == 0)
				cfg.chunk_mode = KS_CHUNK_SPLIT;
			else if (strncmp(optarg, "bytes:", 6) == 0) {
				cfg.chunk_mode = KS_CHUNK_BYTES;
				cfg.chunk_bytes = num_arg(
				    "--watch-chunking", optarg + 6, 1, 65536);
			} else
				usage();
			break;
		case 'D':
			if (cfg.ndeny >= 16)
				fatalx("--deny: at most 16 rules");
			cfg.deny[cfg.ndeny++] = optarg;
			break;
		case 'u':
			cfg.user = optarg;
			break;
		case 'r':
			cfg.ready_file = optarg;
			break;
		case 'L':
			if (log_parse_level(optarg, &lvl) != 0)
				usage();
			log_set_level(lvl);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((cfg.tls_cert == NULL) != (cfg.tls_key == NULL))
		fatalx("--tls-cert and --tls-key go together");
	if (!ks_valid_dns_label(cfg.ns))
		fatalx("--namespace %s: not a DNS-1123 label", cfg.ns);
	if (cfg.user == NULL) {
		snprintf(user, sizeof(user),
		    "system:serviceaccount:%s:replicad", cfg.ns);
		cfg.user = user;
	}
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	signal(SIGPIPE, SIG_IGN);

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if ((srv = ks_server_new(base, &cfg)) == NULL)
		fatalx("cannot start");
	ks_server_listen(srv);
	if ((sigint = evsignal_new(base, SIGINT, signal_cb, srv)) == NULL ||
	    (sigterm = evsignal_new(base, SIGTERM, signal_cb, srv)) == NULL ||
	    evsignal_add(sigint, NULL) != 0 || evsignal_add(sigterm, NULL) != 0)
		fatalx("cannot install signal handlers");
	printf("kube-sim: listening on %s\n", srv->url);
	fflush(stdout);
	if (cfg.ready_file != NULL) {
		if ((f = fopen(cfg.ready_file, "w")) == NULL)
			fatal("%s", cfg.ready_file);
		fprintf(f, "%s\n", srv->url);
		if (fclose(f) != 0)
			fatal("%s", cfg.ready_file);
	}
	log_info("listening on %s (namespace %s, %zu deployments)", srv->url,
	    cfg.ns, (size_t)cfg.generate);
	event_base_dispatch(base);

	event_free(sigint);
	event_free(sigterm);
	ks_server_free(srv);
	event_base_free(base);
	log_info("stopped");
	return 0;
}
