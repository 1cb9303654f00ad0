/*
 * nfq-netem: a stand-in for netem (this kernel has no sch_netem). Packets that iptables sends
 * to NFQUEUE <queue> are held for a fixed delay and dropped at random, then let through.
 *
 *   nfq-netem <queue> <delay-ms> <loss-percent> [<mean-burst-length>]
 *
 * Loss is independent per packet, or, with a mean burst length above 1, bursty: a two-state
 * Gilbert model whose long-run loss is <loss-percent> and whose lost runs average that length.
 * It prints "ready" once the queue is bound, and counts on SIGUSR1 (to stderr).
 * Built by the tests with Debian's libnetfilter-queue-dev; used only inside test namespaces.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnfnetlink/libnfnetlink.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_HELD 65536

static struct { uint32_t id; uint64_t due; } held[MAX_HELD];
static size_t head, count;
static uint64_t delay_us;
static double loss, p_enter_bad, p_leave_bad;
static int bad;
static unsigned long seen, dropped, overflow;
static volatile sig_atomic_t report;

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double uniform(void) { return (double)random() / ((double)RAND_MAX + 1.0); }

/* Whether this packet is lost: independent, or from the Gilbert model's bad state. */
static int lose(void) {
  if (p_leave_bad <= 0) return uniform() < loss;
  if (bad) { if (uniform() < p_leave_bad) bad = 0; }
  else if (uniform() < p_enter_bad) bad = 1;
  return bad;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
  (void)msg; (void)data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  if (!ph) return 0;
  uint32_t id = ntohl(ph->packet_id);
  seen++;
  if (lose()) { dropped++; return nfq_set_verdict(qh, id, NF_DROP, 0, NULL); }
  if (delay_us == 0) return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
  if (count == MAX_HELD) { overflow++; return nfq_set_verdict(qh, id, NF_DROP, 0, NULL); }
  size_t tail = (head + count) % MAX_HELD;
  held[tail].id = id;
  held[tail].due = now_us() + delay_us;
  count++;
  return 0;
}

static void on_usr1(int sig) { (void)sig; report = 1; }

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s <queue> <delay-ms> <loss-percent> [<mean-burst-length>]\n", argv[0]); return 64; }
  int queue = atoi(argv[1]);
  delay_us = (uint64_t)(atof(argv[2]) * 1000.0);
  loss = atof(argv[3]) / 100.0;
  double burst = argc > 4 ? atof(argv[4]) : 1.0;
  if (burst > 1.0 && loss > 0 && loss < 1) { p_leave_bad = 1.0 / burst; p_enter_bad = loss * p_leave_bad / (1.0 - loss); }
  srandom((unsigned)(now_us() ^ (uint64_t)getpid()));
  signal(SIGUSR1, on_usr1);

  struct nfq_handle *h = nfq_open();
  if (!h) { perror("nfq_open"); return 1; }
  struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)queue, &on_packet, NULL);
  if (!qh) { perror("nfq_create_queue"); return 1; }
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) { perror("nfq_set_mode"); return 1; }
  nfq_set_queue_maxlen(qh, MAX_HELD);
  int fd = nfq_fd(h);
  nfnl_rcvbufsiz(nfq_nfnlh(h), 16 * 1024 * 1024);
  printf("ready\n");
  fflush(stdout);

  char buf[4096] __attribute__((aligned));
  for (;;) {
    uint64_t t = now_us();
    while (count && held[head].due <= t) {
      nfq_set_verdict(qh, held[head].id, NF_ACCEPT, 0, NULL);
      head = (head + 1) % MAX_HELD;
      count--;
    }
    if (report) {
      report = 0;
      fprintf(stderr, "seen=%lu dropped=%lu overflow=%lu held=%zu\n", seen, dropped, overflow, count);
    }
    int timeout = count ? (int)((held[head].due - t + 999) / 1000) : 1000;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r = poll(&p, 1, timeout);
    if (r < 0 && errno != EINTR) { perror("poll"); return 1; }
    if (r > 0) {
      ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      while (n > 0) {
        nfq_handle_packet(h, buf, (int)n);
        n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      }
    }
  }
}
