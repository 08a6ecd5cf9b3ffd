/*
 * server.h - the HTTP server: libmicrohttpd with its internal thread pool
 * (one network thread per core), request workers for the requests that may
 * wait, on a listening socket the caller chose.
 */
#ifndef FD_SERVER_H
#define FD_SERVER_H

#include "api/api.h"

typedef struct fd_server_config {
    const char *listen;  /* "host:port"; port 0 picks a free one */
    int threads;         /* request workers: writes and long reads run on them */
    const char *web_dir; /* static pages served for GET outside /v1/; NULL: none */
} fd_server_config;

/* Binds, starts serving and writes the bound port into *port. */
int fd_server_start(const fd_server_config *cfg, fd_store *store, fd_server **out, int *port);
void fd_server_stop(fd_server *s);

/* How many network threads the server runs (the cores online, at most 16):
 * each may hold a reader connection besides the workers'. */
int fd_server_network_threads(void);

/* Appends the HTTP metrics in Prometheus text format; caller frees. */
char *fd_server_metrics(fd_server *s);

#endif
