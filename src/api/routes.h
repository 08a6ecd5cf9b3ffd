/*
 * routes.h - the route table: method, path pattern, roles allowed, handler.
 */
#ifndef FD_ROUTES_H
#define FD_ROUTES_H

#include "api/api.h"

#define ROUTE_PUBLIC 0x1u /* no key needed */
#define ROUTE_SELF 0x2u   /* member keys may call it for their own member ({id} first) */
#define ROUTE_RAW 0x4u    /* the body is not JSON: the handler reads r->raw */
#define ROUTE_KEY 0x8u    /* about the calling key itself: member keys may call it too */
/* A GET that writes, or reads at length (reports, exports): it runs on a
 * request worker like the other methods, not on a network thread. */
#define ROUTE_WORKER 0x10u
/* A write that runs on the network thread: its handler validates and hands
 * its write to the store (fd_reply_after_write), which resumes the
 * connection when the write is durable; no request worker waits for it. */
#define ROUTE_NETWORK 0x20u

typedef struct fd_route {
    const char *method;
    const char *pattern; /* segments; "{}" matches one parameter */
    unsigned roles;      /* FD_ROLE_BIT mask */
    unsigned flags;
    void (*handler)(fd_req *r);
} fd_route;

extern const fd_route fd_routes[];
extern const int fd_nroutes;

#endif
