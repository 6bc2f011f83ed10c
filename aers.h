/* The C ABI of the Rust core (rust/ffi.rs). Statuses: 0 success, a positive errno, or
 * AERS_PANICKED (message via aers_panic_message). */
#ifndef AERS_H
#define AERS_H
#include <stdint.h>
#include <stddef.h>

#define AERS_PANICKED (-1)

typedef struct aers_loop aers_loop;

typedef struct {
    void *cb;       /* the callback to call */
    int32_t owned;  /* 1: the reference is now the caller's to release */
    int32_t is_child;
    int32_t pid;
    int32_t status;
} aers_ready;

int aers_loop_new(aers_loop **out);
void aers_panic_message(char *buf, size_t len);

int aers_io_start(aers_loop *l, int fd, uint8_t poll, void *cb, uint64_t *key);
int aers_io_stop(aers_loop *l, uint64_t key, void **cb);
int aers_timer_start(aers_loop *l, double after, double interval, void *cb, uint64_t *key);
int aers_timer_stop(aers_loop *l, uint64_t key, void **cb);
int aers_idle_start(aers_loop *l, void *cb, uint64_t *key);
int aers_idle_stop(aers_loop *l, uint64_t key, void **cb);
int aers_signal_start(aers_loop *l, int signum, void *cb, uint64_t *key);
int aers_signal_stop(aers_loop *l, uint64_t key, void **cb);
int aers_child_start(aers_loop *l, int pid, void *cb, uint64_t *key);
int aers_child_stop(aers_loop *l, uint64_t key, void **cb);
int aers_postpone(aers_loop *l, void *cb);

int aers_poll(aers_loop *l, int block);
int aers_next_ready(aers_loop *l, aers_ready *out);
int aers_has_pending(aers_loop *l);

double aers_now(aers_loop *l);
void aers_now_update(aers_loop *l);
double aers_time(void);
int aers_backend_fd(aers_loop *l);
double aers_next_timeout(aers_loop *l);
int aers_is_active(aers_loop *l);

#endif
