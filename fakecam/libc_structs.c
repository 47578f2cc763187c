/* Prints the layout of the libc and kernel structs VideoEdge passes to system
 * calls (sendmsg, poll, clock_gettime, statx, getsockopt TCP_INFO), in the same
 * "<struct>.<field> <offset>" / "<struct>.size <bytes>" lines as structs.c.
 * tcp_info has no size line: the kernel only appends to it and reports how many
 * bytes it filled, so only the offsets of the fields read must agree. */
#define _GNU_SOURCE
#include <linux/stat.h>
#include <linux/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#define S(t) printf(#t ".size %zu\n", sizeof(struct t))
#define F(t, f) printf(#t "." #f " %zu\n", offsetof(struct t, f))

int main(void)
{
	S(iovec);
	F(iovec, iov_base);
	F(iovec, iov_len);

	S(msghdr);
	F(msghdr, msg_name);
	F(msghdr, msg_namelen);
	F(msghdr, msg_iov);
	F(msghdr, msg_iovlen);
	F(msghdr, msg_control);
	F(msghdr, msg_controllen);
	F(msghdr, msg_flags);

	S(pollfd);
	F(pollfd, fd);
	F(pollfd, events);
	F(pollfd, revents);

	S(timespec);
	F(timespec, tv_sec);
	F(timespec, tv_nsec);

	S(rlimit);
	F(rlimit, rlim_cur);
	F(rlimit, rlim_max);

	S(statx_timestamp);
	F(statx_timestamp, tv_sec);
	F(statx_timestamp, tv_nsec);

	S(statx);
	F(statx, stx_mask);
	F(statx, stx_mode);
	F(statx, stx_ino);
	F(statx, stx_size);
	F(statx, stx_atime);
	F(statx, stx_mtime);
	F(statx, stx_rdev_major);
	F(statx, stx_dev_minor);
	F(statx, stx_mnt_id);
	F(statx, stx_dio_offset_align);

	F(tcp_info, tcpi_state);
	F(tcp_info, tcpi_rto);
	F(tcp_info, tcpi_snd_mss);
	F(tcp_info, tcpi_unacked);
	F(tcp_info, tcpi_lost);
	F(tcp_info, tcpi_retrans);
	F(tcp_info, tcpi_rtt);
	F(tcp_info, tcpi_rttvar);
	F(tcp_info, tcpi_snd_cwnd);
	F(tcp_info, tcpi_total_retrans);
	F(tcp_info, tcpi_pacing_rate);
	F(tcp_info, tcpi_bytes_acked);
	F(tcp_info, tcpi_notsent_bytes);
	F(tcp_info, tcpi_min_rtt);
	F(tcp_info, tcpi_delivery_rate);
	F(tcp_info, tcpi_busy_time);
	F(tcp_info, tcpi_sndbuf_limited);
	F(tcp_info, tcpi_delivered);
	F(tcp_info, tcpi_bytes_sent);
	F(tcp_info, tcpi_bytes_retrans);
	F(tcp_info, tcpi_snd_wnd);
	return 0;
}
