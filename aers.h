/* The C ABI of the Rust core: every function and type that rust/ffi/ exports, in one
 * header. t/abi.t checks it against the Rust source (signatures, struct fields, constants) and
 * fails on any difference; change both together.
 *
 * The contract (rust/ffi/contract.rs): every function returns a status, AERS_OK (0), a
 * positive errno value, or AERS_PANICKED; answers come back through out-parameters. A failure
 * with a message (AERS_PANICKED always; TLS and DNS errors) keeps it for aers_last_error. After
 * a panic the core refuses further work: every call returns AERS_PANICKED at once. errno is
 * left as the caller had it. */
#ifndef AERS_H
#define AERS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define AERS_OK 0
#define AERS_PANICKED (-1)

int aers_last_error(char *buf, size_t len);
int aers_test_panic(const char *what, size_t len);

/* --- The loop and its watchers (rust/ffi/watchers.rs) --- */

typedef struct aers_loop aers_loop;

/* A node of a flattened value, in pre-order: a list node is followed by its n children, a map
 * node by n pairs of (key bytes node, value subtree). */
typedef struct {
    uint32_t kind; /* 0 undef, 1 bytes, 2 integer, 3 list of n, 4 hash of n pairs, 5 boolean */
    uint32_t n;
    int64_t num;
    const char *ptr;
    size_t len;
} aers_dns_node;

typedef struct {
    void *cb;         /* the callback to call */
    int32_t owned;    /* 1: the reference is now the caller's to release */
    int32_t is_child; /* 1: pid and status are the callback's arguments */
    int32_t pid;
    int32_t status;
    const aers_dns_node *args; /* non-NULL: a list node, the arguments (a finished DNS request) */
    int32_t release;  /* 1: not to be called, only released (the reference is owned) */
} aers_ready;

int aers_loop_new(aers_loop **out);
int aers_io_start(aers_loop *l, int32_t fd, uint8_t poll, void *cb, uint64_t *key);
int aers_io_stop(aers_loop *l, uint64_t key, void **cb);
int aers_timer_start(aers_loop *l, double after, double interval, void *cb, uint64_t *key);
int aers_timer_stop(aers_loop *l, uint64_t key, void **cb);
int aers_idle_start(aers_loop *l, void *cb, uint64_t *key);
int aers_idle_stop(aers_loop *l, uint64_t key, void **cb);
int aers_signal_start(aers_loop *l, int32_t signum, void *cb, uint64_t *key);
int aers_signal_stop(aers_loop *l, uint64_t key, void **cb);
int aers_child_start(aers_loop *l, int32_t pid, void *cb, uint64_t *key);
int aers_child_stop(aers_loop *l, uint64_t key, void **cb);
int aers_child_foreign(aers_loop *l, int32_t pid, bool on);
int aers_postpone(aers_loop *l, void *cb);
int aers_poll(aers_loop *l, int32_t block);
int aers_next_ready(aers_loop *l, aers_ready *out, bool *found);
int aers_now(aers_loop *l, double *now);
int aers_set_embedded(aers_loop *l, bool on);
int aers_now_update(aers_loop *l);
int aers_time(double *now);
int aers_backend_fd(aers_loop *l, int32_t *fd);
int aers_next_timeout(aers_loop *l, double *secs);
int aers_is_active(aers_loop *l, bool *active);

/* --- Sockets and IDN (rust/ffi/socket.rs, rust/ffi/idn.rs) --- */

int aers_socket_open(int32_t domain, int32_t ty, int32_t protocol, int32_t *fd);
int aers_socket_connect(int32_t fd, const uint8_t *addr, size_t len);
int aers_socket_connect_result(int32_t fd, uint8_t *peer, size_t *len);
int aers_socket_bind(int32_t fd, const uint8_t *addr, size_t len, int32_t reuse_address, int32_t only_v6);
int aers_socket_listen(int32_t fd, int32_t backlog);
int aers_socket_accept(int32_t fd, int32_t *out_fd, uint8_t *peer, size_t *len);
int aers_socket_local_addr(int32_t fd, uint8_t *buf, size_t *len);

#define AERS_IDN_TO_ASCII 0
#define AERS_IDN_TO_UNICODE 1
#define AERS_IDN_PUNYCODE_ENCODE 2
#define AERS_IDN_PUNYCODE_DECODE 3

int aers_idn_convert(int32_t op, const uint8_t *input, size_t len, uint8_t **out, size_t *out_len);
int aers_idn_free(uint8_t *buf, size_t len);

/* --- The DNS resolver (rust/ffi/dns.rs) --- *
 * The loop owns the resolvers; the glue holds a resolver's key. Finished requests come back
 * through aers_next_ready (args). */

#define AERS_DNS_FOUND 1
#define AERS_DNS_ASK 2
#define AERS_DNS_NEXT_NAME 3

typedef struct {
    const char *const *servers;
    const size_t *server_lens;
    size_t nservers;
    const double *timeouts;
    size_t ntimeouts;
    const char *const *search;
    const size_t *search_lens;
    size_t nsearch;
    uint32_t ndots;
    uint32_t max_outstanding;
    double reuse;
    uint32_t edns_payload;
    int32_t cache;
} aers_dns_settings;

typedef struct {
    const char *name; /* NULL: no name at all */
    size_t name_len;
    uint16_t qtype;
    uint16_t qclass;
    int32_t has_search;
    const char *const *search;
    const size_t *search_lens;
    size_t nsearch;
    const uint16_t *accept;
    ptrdiff_t naccept; /* -1: the query type only */
    const char *hosts;
    size_t hosts_len;
} aers_dns_lookup;

typedef struct {
    uint16_t id;
    uint16_t opcode;
    uint16_t rcode;
    uint8_t qr; /* the header flags: non-zero for set */
    uint8_t aa;
    uint8_t tc;
    uint8_t rd;
    uint8_t ra;
    uint8_t ad;
    uint8_t cd;
    uint32_t edns_payload;
    const char *const *names;
    const size_t *name_lens;
    const uint16_t *types;
    const uint16_t *classes;
    size_t nquestions;
} aers_dns_pack_req;

typedef struct {
    uint64_t dropped;
    uint64_t outstanding;
    uint64_t queued;
    uint64_t cached;
    uint64_t tcp;
    int32_t has_slot;
} aers_dns_stats_t;

typedef struct {
    const char *owner;
    size_t owner_len;
    const char *rtype; /* the type field: a name or a number, as text */
    size_t rtype_len;
    const char *target; /* the first data field */
    size_t target_len;
    int32_t has_target;
} aers_dns_answer;

typedef struct {
    const aers_dns_answer *answers;
    size_t nanswers;
    const char *name;
    size_t name_len;
    int32_t depth; /* CNAME links left; negative: a new name */
    uint16_t qtype;
    const uint16_t *accept;
    ptrdiff_t naccept; /* -1: the query type only */
} aers_dns_examine_args;

int aers_dns_new(aers_loop *l, uint64_t *key);
int aers_dns_free(aers_loop *l, uint64_t key);
int aers_dns_take_callback(aers_loop *l, void **cb);
int aers_dns_configure(aers_loop *l, uint64_t key, const aers_dns_settings *s);
int aers_dns_resolve(aers_loop *l, uint64_t key, void *cb, const aers_dns_lookup *look);
int aers_dns_request(aers_loop *l, uint64_t key, void *cb, const char *pkt, size_t len);
int aers_dns_set_slot_callback(aers_loop *l, uint64_t key, void *cb, void **old);
int aers_dns_stats(aers_loop *l, uint64_t key, aers_dns_stats_t *out);
int aers_dns_clear_cache(aers_loop *l, uint64_t key);
int aers_dns_sockets(aers_loop *l, uint64_t key, const aers_dns_node **nodes, size_t *count);
int aers_dns_search_names(aers_loop *l, uint64_t key, const aers_dns_lookup *look, const aers_dns_node **nodes, size_t *count);
int aers_dns_examine(const aers_dns_examine_args *ex, uint32_t *verdict, const aers_dns_node **nodes, size_t *count);
int aers_dns_tables(const aers_dns_node **nodes, size_t *count);
int aers_dns_parse_hosts(const char *text, size_t len, const aers_dns_node **nodes, size_t *count);
int aers_dns_unpack(const char *pkt, size_t len, const aers_dns_node **nodes, size_t *count);
int aers_dns_pack(const aers_dns_pack_req *r, const aers_dns_node **nodes, size_t *count);
int aers_dns_parse_resolv_conf(const char *text, size_t len, const aers_dns_node **nodes, size_t *count);
int aers_dns_ptr_name(const char *text, size_t len, const aers_dns_node **nodes, size_t *count);

/* --- AnyEvent::Handle's netstring parser (rust/ffi/stream.rs) --- */

#define AERS_NETSTRING_INCOMPLETE 0
#define AERS_NETSTRING_COMPLETE 1
#define AERS_NETSTRING_MALFORMED 2

int aers_parse_netstring(const char *buf, size_t len, size_t max, int32_t *state, size_t *start, size_t *dlen);

/* --- TLS (rust/ffi/tls.rs) --- */

typedef struct aers_tls_ctx aers_tls_ctx;
typedef struct aers_tls aers_tls;

#define AERS_TLS12 1u
#define AERS_TLS13 2u
#define AERS_TLS_VERIFY 4u
#define AERS_TLS_REQUIRE_CLIENT_CERT 8u
#define AERS_TLS_CHECK_PEERNAME 16u
#define AERS_TLS_DEFER_VERDICT 32u
#define AERS_TLS_CLIENT_TICKETS 64u
#define AERS_TLS_SERVER_TICKETS 128u

#define AERS_TLS_RECORDS 0
#define AERS_TLS_WOULD_BLOCK 1
#define AERS_TLS_EOF 2

#define AERS_TLS_HANDSHAKING 1
#define AERS_TLS_WANTS_WRITE 2

#define AERS_TLS_VERDICT_NONE 0
#define AERS_TLS_VERDICT_PASSED 1
#define AERS_TLS_VERDICT_FAILED 2

int aers_tls_ctx_new(uint32_t flags, const char *alpn, size_t alpn_len, aers_tls_ctx **out);
int aers_tls_ctx_free(aers_tls_ctx *c);
int aers_tls_ctx_add_trusted(aers_tls_ctx *c, const char *pem, size_t len, size_t *count);
int aers_tls_ctx_set_chain(aers_tls_ctx *c, const char *pem, size_t len, size_t *count);
int aers_tls_ctx_set_key(aers_tls_ctx *c, const char *pem, size_t len);
int aers_tls_new(aers_tls_ctx *c, int32_t server, const char *name, size_t name_len, aers_tls **out);
int aers_tls_free(aers_tls *s);
int aers_tls_receive(aers_tls *s, int32_t fd, int32_t *what);
int aers_tls_feed(aers_tls *s, const char *buf, size_t len);
int aers_tls_read(aers_tls *s, char *buf, size_t len, size_t *got);
int aers_tls_write(aers_tls *s, const char *buf, size_t len, size_t *put);
int aers_tls_flush(aers_tls *s, int32_t fd, bool *done);
int aers_tls_state(aers_tls *s, int32_t *state);
int aers_tls_take_verdict(aers_tls *s, int32_t *verdict);
int aers_tls_alpn(aers_tls *s, const char **out, size_t *len);
int aers_tls_version(aers_tls *s, int32_t *version);
int aers_tls_peer_cert(aers_tls *s, size_t idx, const char **out, size_t *len);
int aers_tls_close_notify(aers_tls *s);

/* --- AnyEvent::IO's worker pool (rust/ffi/fileio.rs) --- */

typedef struct aers_fio aers_fio;

#define AERS_FIO_LOAD 0
#define AERS_FIO_OPEN 1
#define AERS_FIO_CLOSE 2
#define AERS_FIO_READ 3
#define AERS_FIO_WRITE 4
#define AERS_FIO_SEEK 5
#define AERS_FIO_TRUNCATE 6
#define AERS_FIO_UTIME 7
#define AERS_FIO_CHOWN 8
#define AERS_FIO_CHMOD 9
#define AERS_FIO_STAT 10
#define AERS_FIO_LSTAT 11
#define AERS_FIO_LINK 12
#define AERS_FIO_SYMLINK 13
#define AERS_FIO_READLINK 14
#define AERS_FIO_RENAME 15
#define AERS_FIO_UNLINK 16
#define AERS_FIO_MKDIR 17
#define AERS_FIO_RMDIR 18
#define AERS_FIO_READDIR 19

typedef struct {
    uint32_t op;
    int32_t use_fd;
    int32_t fd;
    const char *path;
    size_t path_len;
    const char *path2;
    size_t path2_len;
    const char *data;
    size_t data_len;
    int64_t a;
    int64_t b;
    double t1;
    double t2;
    int32_t now;
} aers_fio_req;

typedef struct {
    void *cb;
    uint32_t op;
    int32_t err;
    int64_t value;
    int64_t aux;
    const char *data;
    size_t len;
    size_t count;
    const struct stat *stat;
} aers_fio_done;

int aers_fio_new(uint32_t max_threads, aers_fio **out);
int aers_fio_dup(int32_t fd, int32_t *out);
int aers_fio_submit(aers_fio *p, const aers_fio_req *r, void *cb, int32_t *watch_fd);
int aers_fio_watched(aers_fio *p);
int aers_fio_collect(aers_fio *p, int32_t *watch_fd);
int aers_fio_next(aers_fio *p, aers_fio_done *out, bool *found);
int aers_fio_take_bytes(aers_fio *p, char **ptr, size_t *len, size_t *cap);
int aers_fio_recycle(aers_fio *p, char *ptr, size_t cap);
int aers_fio_delivered(aers_fio *p);
int aers_fio_outstanding(aers_fio *p, uint64_t *out);
int aers_fio_wait(aers_fio *p, double timeout, bool *ready);

#endif
