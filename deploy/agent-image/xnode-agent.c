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
 *
 * One process per connection (fork), so a client that connects and sends
 * nothing holds up no other check; children are reaped by SIG_IGN on SIGCHLD.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
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
  fprintf(stderr, "usage: xnode-agent pause | xnode-agent respond [PORT]\n");
  return 2;
}
