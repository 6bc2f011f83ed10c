/* Line echo load client for bench/echo.pl (issue 7, workload 3).
 *
 * Opens CONNS TCP connections to HOST:PORT and keeps DEPTH lines in flight on each: it sends
 * DEPTH lines of 32 bytes at first, and for every echoed line that comes back it sends one new
 * line (all lines echoed by one read are answered with one write). Echoed bytes are checked
 * against what was sent. One process, one epoll loop, TCP_NODELAY on every socket. Stops after
 * SECONDS and prints on stdout
 *   lines=N errors=E cpu_us_per_line=C
 * (N: echoed lines received; C: this process's user+system CPU per line).
 *
 * build: cc -O2 -o echo_client echo_client.c
 * usage: echo_client HOST PORT CONNS DEPTH SECONDS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE 32
static const char line[LINE + 1] = "echo benchmark line 0123456789a\n";
static char txbuf[LINE * 128];

struct conn {
    int fd;
    long tx_pending;  /* bytes still to send */
    long tx_off;      /* bytes sent so far (position in the repeated line) */
    long rx_off;      /* bytes received so far */
    int want_out;
};

static int ep;
static long lines, errors;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(struct conn *c, const char *what) {
    if (errors++ < 3) fprintf(stderr, "echo_client: %s: %s\n", what, strerror(errno));
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
}

static void set_out(struct conn *c, int want) {
    if (c->want_out == want) return;
    c->want_out = want;
    struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void flush(struct conn *c) {
    while (c->tx_pending > 0) {
        long off = c->tx_off % LINE;
        long n = c->tx_pending;
        if (n > (long)sizeof txbuf - LINE) n = sizeof txbuf - LINE;
        ssize_t w = write(c->fd, txbuf + off, n);
        if (w < 0) {
            if (errno == EAGAIN) { set_out(c, 1); return; }
            fail(c, "write");
            return;
        }
        c->tx_pending -= w;
        c->tx_off += w;
    }
    set_out(c, 0);
}

static void readable(struct conn *c) {
    char buf[65536];
    for (;;) {
        ssize_t r = read(c->fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EAGAIN) break;
            fail(c, "read");
            return;
        }
        if (r == 0) { errno = 0; fail(c, "server closed the connection"); return; }
        long k = 0;
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] != line[(c->rx_off + i) % LINE]) { errno = 0; fail(c, "echo differs"); return; }
            if (buf[i] == '\n') k++;
        }
        c->rx_off += r;
        lines += k;
        c->tx_pending += k * LINE;
        if (r < (ssize_t)sizeof buf) break;
    }
    flush(c);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s HOST PORT CONNS DEPTH SECONDS\n", argv[0]);
        return 2;
    }
    int conns = atoi(argv[3]), depth = atoi(argv[4]);
    double until = now() + atof(argv[5]);
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < sizeof txbuf; i++) txbuf[i] = line[i % LINE];
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) { fprintf(stderr, "bad host\n"); return 2; }

    ep = epoll_create1(EPOLL_CLOEXEC);
    struct conn *all = calloc(conns, sizeof *all);
    for (int i = 0; i < conns; i++) {
        struct conn *c = &all[i];
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0) { perror("socket"); return 1; }
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
            perror("connect");
            return 1;
        }
        c->want_out = 1;
        c->tx_pending = (long)depth * LINE;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    }

    struct epoll_event evs[512];
    while (now() < until) {
        int n = epoll_wait(ep, evs, 512, 50);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->fd < 0) continue;
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) readable(c);
            else if (evs[i].events & EPOLLOUT) flush(c);
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    printf("lines=%ld errors=%ld cpu_us_per_line=%.2f\n", lines, errors, lines ? 1e6 * cpu / lines : 0.0);
    return 0;
}
