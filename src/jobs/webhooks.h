/*
 * webhooks.h - the delivery worker: sends the outbox's deliveries with
 * libcurl, signed, in order per member and webhook, retried with
 * exponential backoff and jitter, dead-lettered after the last attempt.
 * At least once: a receiver may see a delivery again (same
 * Fidelis-Delivery id) after a crash or a lost reply; it never misses one.
 */
#ifndef FD_JOBS_WEBHOOKS_H
#define FD_JOBS_WEBHOOKS_H

#include <stdint.h>

#include <stdbool.h>

#include "store/store.h"

typedef struct fd_webhook_settings {
    int interval_ms;    /* idle poll interval */
    int timeout_ms;     /* per request, connection included */
    int backoff_ms;     /* first retry delay; doubles each attempt, capped at 1 hour */
    int max_attempts;   /* then the delivery is dead-lettered */
    bool allow_private; /* deliver to loopback and private networks too (off: refused) */
} fd_webhook_settings;

/* True for addresses a webhook must not reach unless allowed: loopback,
 * private (RFC 1918, unique local), link-local, carrier-grade NAT,
 * unspecified, and IPv4 mapped into IPv6 from those. ip is numeric text. */
bool fd_address_private(const char *ip);

void fd_webhook_settings_default(fd_webhook_settings *s);

/* Sends what is due now, at most one round; *sent counts attempts made. */
int fd_webhooks_run_once(fd_store *s, const fd_webhook_settings *cfg, int *sent);

typedef struct fd_webhook_worker fd_webhook_worker;
int fd_webhook_worker_start(fd_store *s, const fd_webhook_settings *cfg, fd_webhook_worker **out);
void fd_webhook_worker_stop(fd_webhook_worker *w);

/* "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>" into out (>= 100 bytes). */
void fd_webhook_signature(const char *secret, int64_t t, const char *body, char *out, size_t n);

#endif
