/* Calls that mediasoup's DepLibUring uses and Debian's liburing 2.3 does not have yet. */
#pragma once

#include <liburing.h>

#ifndef IO_URING_VERSION_MAJOR
static inline int io_uring_major_version(void) { return MS_SHIM_LIBURING_MAJOR; }
static inline int io_uring_minor_version(void) { return MS_SHIM_LIBURING_MINOR; }

/* sendto == send plus a destination address (liburing >= 2.4 does exactly this). */
static inline void io_uring_prep_sendto(
  struct io_uring_sqe *sqe, int sockfd, const void *buf, size_t len, int flags,
  const struct sockaddr *addr, socklen_t addrlen)
{
	io_uring_prep_send(sqe, sockfd, buf, len, flags);
	io_uring_prep_send_set_addr(sqe, addr, addrlen);
}
#endif
