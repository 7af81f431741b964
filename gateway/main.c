/*
 * main.c — replicad-gateway entry point.
 *
 * The gateway (mutual TLS, HTTP, authorization, proto-socket client) is the
 * subject of issue #5; until it lands this binary only answers --version
 * and --help and refuses to start, so that nothing mistakes it for a
 * working front end.  It deliberately links neither libcurl nor any
 * Kubernetes client code, now or later.
 */
#include <stdio.h>
#include <string.h>

#include "proto-socket/ps.h"

#define GW_VERSION "0.1.0"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: replicad-gateway [--version | --help]\n"
	    "The mutual-TLS REST gateway is not built yet (issue #5)."
	    "\n");
}

int
main(int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("replicad-gateway %s (proto-socket v%d)\n", GW_VERSION,
		    PS_VERSION);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
