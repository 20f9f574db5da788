/*
 * xnode-agent: what xnode's agent pods run besides the network tools.
 *
 *   xnode-agent pause            idle until SIGTERM/SIGINT. `sleep infinity`
 *                                as PID 1 ignores SIGTERM, so every rollout
 *                                would wait out the grace period per pod.
 *   xnode-agent respond [PORT]   answer every HTTP request on PORT (default
 *                                8080) with 200 and the node's name: the target
 *                                of xnode's pod-to-pod TCP check and of the
 *                                NodePort check. The debian image has no
 *                                server of its own, and this is all it takes.
 *   xnode-agent reach [--timeout SECONDS] [--concurrency N]
 *                                probe many targets from one process: reads
 *                                one target per line on stdin,
 *                                  <id> icmp <ipv4> [<iface>]
 *                                  <id> tcp <ipv4> <port> [<iface>]
 *                                keeps at most N (default 256) in flight with
 *                                poll(), and writes one JSON line per target
 *                                as it completes:
 *                                  {"id":"t1","ok":true,"rttMs":0.412}
 *                                  {"id":"t2","ok":false,"error":"timeout"}
 *                                error is timeout, refused, unreachable,
 *                                bad-target or "socket: <reason>". Targets
 *                                never pass through argv (the exec URL), and no
 *                                process is started per target. ICMP uses
 *                                datagram sockets (ping_group_range, the pod
 *                                agent) or raw ones (NET_RAW, the host agent).
 *
 * One process per connection (fork), so a client that connects and sends
 * nothing holds up no other check; children are reaped by SIG_IGN on SIGCHLD.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopping = 0;

static void on_stop(int sig) {
  (void)sig;
  stopping = 1;
}

/* No SA_RESTART: pause() and accept() return EINTR so the loops see `stopping`. */
static void catch_stop_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
}

static int run_pause(void) {
  catch_stop_signals();
  while (!stopping) pause();
  return 0;
}

/* Dual-stack when the kernel has IPv6, IPv4 only when it does not. */
static int listen_on(int port) {
  int one = 1, zero = 0;
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd >= 0) {
    struct sockaddr_in6 a6;
    memset(&a6, 0, sizeof a6);
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_any;
    a6.sin6_port = htons((unsigned short)port);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, (struct sockaddr *)&a6, sizeof a6) == 0 && listen(fd, 128) == 0) return fd;
    close(fd);
  }
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a4;
  memset(&a4, 0, sizeof a4);
  a4.sin_family = AF_INET;
  a4.sin_addr.s_addr = htonl(INADDR_ANY);
  a4.sin_port = htons((unsigned short)port);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&a4, sizeof a4) != 0 || listen(fd, 128) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void answer(int conn, const char *body) {
  char buf[4096];
  char head[256];
  struct timeval tv = {2, 0};
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  /* The request itself does not matter; reading it first keeps the close
   * below from turning into an RST that would eat our answer. */
  (void)!read(conn, buf, sizeof buf);
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                   strlen(body));
  (void)!write(conn, head, (size_t)n);
  (void)!write(conn, body, strlen(body));
  shutdown(conn, SHUT_WR);
  while (read(conn, buf, sizeof buf) > 0) {
  }
  close(conn);
}

static int run_respond(int port) {
  char body[300];
  const char *node = getenv("NODE_NAME");
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  snprintf(body, sizeof body, "xnode-pod-agent %s on %s\n", host, node && *node ? node : "?");

  int fd = listen_on(port);
  if (fd < 0) {
    fprintf(stderr, "xnode-agent: cannot listen on port %d: %s\n", port, strerror(errno));
    return 1;
  }
  signal(SIGCHLD, SIG_IGN);
  catch_stop_signals();
  fprintf(stderr, "xnode-agent: answering HTTP on port %d\n", port);
  while (!stopping) {
    int conn = accept(fd, NULL, NULL);
    if (conn < 0) continue; /* EINTR on SIGTERM, or a connection reset before accept */
    pid_t pid = fork();
    if (pid == 0) {
      close(fd);
      answer(conn, body);
      _exit(0);
    }
    if (pid < 0) answer(conn, body); /* out of processes: answer in line rather than drop */
    close(conn);
  }
  close(fd);
  return 0;
}

/* ---- reach ---- */

enum kind { ICMP, TCP };

struct target {
  char id[64];
  enum kind kind;
  struct in_addr addr;
  int port;
  char iface[16];
  const char *bad; /* why the line could not be read, or NULL */
};

struct flight {
  struct target *t;
  int fd;
  int raw; /* ICMP over a raw socket: replies carry the IP header and every echo reply on the host */
  unsigned short ident, seq;
  double started;
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ids are xnode's own ([a-z0-9:._-]); anything else is escaped away rather than trusted */
static void emit(const struct target *t, int ok, double rtt, const char *error) {
  char id[sizeof t->id];
  size_t j = 0;
  for (size_t i = 0; t->id[i] && j + 1 < sizeof id; i++)
    if (t->id[i] != '"' && t->id[i] != '\\' && (unsigned char)t->id[i] >= 0x20) id[j++] = t->id[i];
  id[j] = 0;
  if (ok)
    printf("{\"id\":\"%s\",\"ok\":true,\"rttMs\":%.3f}\n", id, rtt);
  else
    printf("{\"id\":\"%s\",\"ok\":false,\"error\":\"%s\"}\n", id, error);
  fflush(stdout);
}

static int parse_target(char *line, struct target *t) {
  memset(t, 0, sizeof *t);
  char *save = NULL;
  char *id = strtok_r(line, " \t\r\n", &save);
  if (!id) return 0; /* blank line */
  snprintf(t->id, sizeof t->id, "%s", id);
  char *kind = strtok_r(NULL, " \t\r\n", &save);
  char *addr = strtok_r(NULL, " \t\r\n", &save);
  if (!kind || !addr || inet_pton(AF_INET, addr, &t->addr) != 1) {
    t->bad = "bad-target";
    return 1;
  }
  char *rest = strtok_r(NULL, " \t\r\n", &save);
  if (strcmp(kind, "icmp") == 0) {
    t->kind = ICMP;
  } else if (strcmp(kind, "tcp") == 0 && rest) {
    t->kind = TCP;
    t->port = atoi(rest);
    if (t->port < 1 || t->port > 65535) t->bad = "bad-target";
    rest = strtok_r(NULL, " \t\r\n", &save);
  } else {
    t->bad = "bad-target";
  }
  if (rest) {
    if (strlen(rest) >= sizeof t->iface || rest[0] == '-') t->bad = "bad-target";
    else snprintf(t->iface, sizeof t->iface, "%s", rest);
  }
  return 1;
}

static unsigned short checksum(const void *data, size_t len) {
  const unsigned char *p = data;
  unsigned long sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (unsigned)(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += (unsigned)(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons((unsigned short)~sum);
}

/* Opens the socket and sends the echo request or starts the connect; returns an error text or NULL. */
static const char *launch(struct flight *f, unsigned short ident) {
  struct target *t = f->t;
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_addr = t->addr;
  static char why[96];
  if (t->kind == ICMP) {
    f->raw = 0;
    f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_ICMP);
    if (f->fd < 0) {
      f->raw = 1;
      f->fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMP);
    }
  } else {
    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    to.sin_port = htons((unsigned short)t->port);
  }
  if (f->fd < 0) {
    snprintf(why, sizeof why, "socket: %s", strerror(errno));
    return why;
  }
  if (t->iface[0] && setsockopt(f->fd, SOL_SOCKET, SO_BINDTODEVICE, t->iface, (socklen_t)strlen(t->iface) + 1) != 0) {
    snprintf(why, sizeof why, "socket: %s: %s", t->iface, strerror(errno));
    return why;
  }
  f->started = now_ms();
  if (t->kind == TCP) {
    if (connect(f->fd, (struct sockaddr *)&to, sizeof to) == 0 || errno == EINPROGRESS) return NULL;
    return errno == ECONNREFUSED ? "refused" : (errno == EHOSTUNREACH || errno == ENETUNREACH) ? "unreachable" : strerror(errno);
  }
  unsigned char pkt[64];
  memset(pkt, 0, sizeof pkt);
  struct icmphdr *h = (struct icmphdr *)pkt;
  h->type = ICMP_ECHO;
  f->ident = ident;
  f->seq = 1;
  h->un.echo.id = htons(ident); /* a datagram socket replaces it with its own port */
  h->un.echo.sequence = htons(f->seq);
  for (size_t i = sizeof *h; i < sizeof pkt; i++) pkt[i] = (unsigned char)i;
  h->checksum = checksum(pkt, sizeof pkt);
  if (sendto(f->fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to) < 0)
    return errno == EHOSTUNREACH || errno == ENETUNREACH ? "unreachable" : strerror(errno);
  return NULL;
}

/* The socket is ready: 1 when the target answered (ok or error set), 0 to keep waiting. */
static int settle(struct flight *f, int *ok, const char **error) {
  if (f->t->kind == TCP) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    *ok = err == 0;
    *error = err == ECONNREFUSED ? "refused" : (err == EHOSTUNREACH || err == ENETUNREACH) ? "unreachable" : err ? strerror(err) : NULL;
    return 1;
  }
  unsigned char buf[1500];
  struct sockaddr_in from;
  socklen_t flen = sizeof from;
  ssize_t n;
  while ((n = recvfrom(f->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen)) > 0) {
    const unsigned char *p = buf;
    if (f->raw) {
      size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
      if ((size_t)n < ihl + sizeof(struct icmphdr)) continue;
      p += ihl;
      n -= (ssize_t)ihl;
    }
    const struct icmphdr *h = (const struct icmphdr *)p;
    if ((size_t)n < sizeof *h || h->type != ICMP_ECHOREPLY || from.sin_addr.s_addr != f->t->addr.s_addr) continue;
    if (f->raw && ntohs(h->un.echo.id) != f->ident) continue;
    *ok = 1;
    return 1;
  }
  return 0;
}

static int run_reach(int argc, char **argv) {
  double timeout_ms = 2000;
  int concurrency = 256;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) timeout_ms = atof(argv[++i]) * 1000;
    else if (strcmp(argv[i], "--concurrency") == 0 && i + 1 < argc) concurrency = atoi(argv[++i]);
    else {
      fprintf(stderr, "xnode-agent reach: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (timeout_ms <= 0 || timeout_ms > 60000 || concurrency < 1 || concurrency > 900) {
    fprintf(stderr, "xnode-agent reach: --timeout must be 0-60 s and --concurrency 1-900\n");
    return 2;
  }
  size_t cap = 1024, count = 0;
  struct target *targets = malloc(cap * sizeof *targets);
  char line[256];
  while (targets && fgets(line, sizeof line, stdin)) {
    if (count == cap) targets = realloc(targets, (cap *= 2) * sizeof *targets);
    if (targets && parse_target(line, &targets[count])) count++;
  }
  struct flight *fl = calloc((size_t)concurrency, sizeof *fl);
  struct pollfd *pfd = calloc((size_t)concurrency, sizeof *pfd);
  if (!targets || !fl || !pfd) {
    fprintf(stderr, "xnode-agent reach: out of memory\n");
    return 1;
  }
  size_t next = 0, active = 0;
  unsigned short ident = (unsigned short)getpid();
  while (next < count || active > 0) {
    while (next < count && active < (size_t)concurrency) {
      struct target *t = &targets[next++];
      if (t->bad) {
        emit(t, 0, 0, t->bad);
        continue;
      }
      struct flight *f = &fl[active];
      f->t = t;
      const char *error = launch(f, ident++);
      if (error) {
        if (f->fd >= 0) close(f->fd);
        emit(t, 0, 0, error);
        continue;
      }
      active++;
    }
    double now = now_ms(), wait = timeout_ms;
    for (size_t i = 0; i < active; i++) {
      pfd[i].fd = fl[i].fd;
      pfd[i].events = fl[i].t->kind == TCP ? POLLOUT : POLLIN;
      pfd[i].revents = 0;
      double left = fl[i].started + timeout_ms - now;
      if (left < wait) wait = left;
    }
    if (active > 0 && poll(pfd, active, wait > 0 ? (int)wait + 1 : 0) < 0 && errno != EINTR) break;
    now = now_ms();
    for (size_t i = 0; i < active;) {
      int ok = 0, done = 0;
      const char *error = NULL;
      if (pfd[i].revents) done = settle(&fl[i], &ok, &error);
      if (!done && now - fl[i].started >= timeout_ms) {
        done = 1;
        error = "timeout";
      }
      if (!done) {
        i++;
        continue;
      }
      emit(fl[i].t, ok, now - fl[i].started, error ? error : "error");
      close(fl[i].fd);
      /* the last flight takes this slot */
      fl[i] = fl[active - 1];
      pfd[i] = pfd[active - 1];
      active--;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "pause") == 0) return run_pause();
  if (argc >= 2 && strcmp(argv[1], "respond") == 0) {
    int port = argc >= 3 ? atoi(argv[2]) : 8080;
    if (port < 1 || port > 65535) {
      fprintf(stderr, "xnode-agent: bad port %s\n", argv[2]);
      return 2;
    }
    return run_respond(port);
  }
  if (argc >= 2 && strcmp(argv[1], "reach") == 0) return run_reach(argc, argv);
  fprintf(stderr, "usage: xnode-agent pause | xnode-agent respond [PORT] | xnode-agent reach [--timeout S] [--concurrency N] <targets\n");
  return 2;
}
