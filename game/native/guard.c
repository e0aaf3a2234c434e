/* guard: calls into system code that cannot take the host down.
 *
 * `guard_call(fn, a, b, c, &ret)` calls `fn(a, b, c)` behind a jump point (sigsetjmp). A
 * fault inside the call (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP; a stack overflow
 * too, since the handlers run on an alternate stack) jumps back out and the call returns
 * the fault's kind; the host then sets the faulting build aside and repairs the world.
 * A watchdog thread turns a call that runs past its deadline (a hang) into a signal to the
 * calling thread, and SIGINT/SIGTERM during a call interrupt it (after passing the signal
 * on to whoever handled it before: Python, SDL), so Ctrl+C works during a hang too.
 *
 * Outside a guarded call every signal goes to the handler that was installed before
 * (Python's faulthandler, SDL, the default action): the guard changes nothing there.
 *
 * Every entry point of the ABI takes at most three integer or pointer arguments and
 * returns an integer, a pointer or nothing, so one trampoline calls them all through
 * `uint64_t (*)(uint64_t, uint64_t, uint64_t)`: on the x86-64 and AArch64 C calling
 * conventions a callee ignores the argument registers it does not take, and the caller
 * ignores the return register when the callee returns nothing.
 *
 * Also: `guard_alloc`/`guard_free`, memory with an inaccessible page on each side, so a
 * system that runs off the end of a column faults at once instead of writing over its
 * neighbour.
 *
 * Linux only (signals, pthreads, mmap). Built by game/native/guard.py with `zig cc`, linked
 * `-z nodelete`: the watchdog thread runs this library's code until the process ends, so it
 * must never be unmapped (cffi dlcloses its libraries during Python's exit).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { GUARD_OK = 0, GUARD_FAULT = 1, GUARD_TIMEOUT = 2, GUARD_INTERRUPTED = 3 };

#define KICK SIGUSR2 /* the watchdog's signal to a thread stuck in a call */
#define SLOTS 64
#define ALT_STACK (256 * 1024)

typedef struct {
    int32_t kind;      /* GUARD_* */
    int32_t signal;    /* the signal that ended the call */
    int32_t code;      /* its si_code */
    int32_t _reserved;
    uint64_t address;  /* si_addr: the faulting address for SIGSEGV/SIGBUS */
    uint64_t stack;    /* the stack pointer at the call: tells a stack overflow */
    double seconds;    /* how long the call ran */
} GuardResult;

typedef uint64_t (*entry3)(uint64_t, uint64_t, uint64_t);

/* One per thread that makes guarded calls; found by pthread_self() (async-signal-safe,
 * unlike thread-locals in a dlopened library). */
typedef struct {
    _Atomic int used;
    pthread_t thread;
    _Atomic uint64_t active; /* the sequence number of the call in progress, 0 when none */
    _Atomic uint64_t kicked; /* the call the watchdog kicked */
    _Atomic int kick_kind;
    _Atomic int64_t started_ns;
    _Atomic int64_t deadline_ns;
    sigjmp_buf jump;
    GuardResult result;
    void *alt_stack;
} Slot;

static Slot slots[SLOTS];
static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
static const int stop_signals[] = {SIGINT, SIGTERM};
static struct sigaction previous[65];
static _Atomic int64_t bound_ns = 1000000000;
static _Atomic int64_t stop_ns;   /* when SIGINT/SIGTERM last arrived */
static _Atomic uint64_t sequence; /* call numbers, never 0 */
static _Atomic int installed;
static pthread_key_t slot_key;
static pthread_t watchdog;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static Slot *find_slot(pthread_t self) {
    for (int i = 0; i < SLOTS; i++) {
        if (atomic_load(&slots[i].used) && pthread_equal(slots[i].thread, self)) return &slots[i];
    }
    return NULL;
}

/* Runs at the exit of a thread that made guarded calls: its slot and stack are freed. */
static void release_slot(void *p) {
    Slot *s = p;
    stack_t off = {.ss_flags = SS_DISABLE};
    sigaltstack(&off, NULL);
    free(s->alt_stack);
    s->alt_stack = NULL;
    atomic_store(&s->used, 0);
}

static Slot *claim_slot(void) {
    Slot *s = pthread_getspecific(slot_key);
    if (s) return s;
    for (int i = 0; i < SLOTS; i++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&slots[i].used, &expected, 1)) {
            s = &slots[i];
            s->thread = pthread_self();
            atomic_store(&s->active, 0);
            s->alt_stack = malloc(ALT_STACK);
            if (s->alt_stack) {
                stack_t st = {.ss_sp = s->alt_stack, .ss_size = ALT_STACK, .ss_flags = 0};
                sigaltstack(&st, NULL);
            }
            pthread_setspecific(slot_key, s);
            return s;
        }
    }
    return NULL;
}

/* Hands a signal the guard does not take to the handler installed before it. */
static void pass_on(int sig, siginfo_t *info, void *context) {
    struct sigaction *old = &previous[sig];
    if (old->sa_flags & SA_SIGINFO) {
        if (old->sa_sigaction) old->sa_sigaction(sig, info, context);
        return;
    }
    if (old->sa_handler == SIG_IGN) return;
    if (old->sa_handler == SIG_DFL) {
        /* Die the way the process would have without us: the default action, re-raised
         * (still blocked in this handler, so it lands as soon as the handler returns). */
        sigaction(sig, old, NULL);
        raise(sig);
        return;
    }
    old->sa_handler(sig);
}

static void on_fault(int sig, siginfo_t *info, void *context) {
    Slot *s = find_slot(pthread_self());
    uint64_t call = s ? atomic_load(&s->active) : 0;
    if (call != 0 && (sig != KICK || atomic_load(&s->kicked) == call)) {
        atomic_store(&s->active, 0);
        s->result.kind = sig == KICK ? atomic_load(&s->kick_kind) : GUARD_FAULT;
        s->result.signal = sig;
        s->result.code = info ? info->si_code : 0;
        s->result.address = info ? (uint64_t)(uintptr_t)info->si_addr : 0;
        siglongjmp(s->jump, 1);
    }
    if (sig == KICK) return; /* the call it was meant for already returned */
    pass_on(sig, info, context);
}

static struct sigaction stop_action; /* ours, for SIGINT and SIGTERM */

static void on_stop(int sig, siginfo_t *info, void *context) {
    atomic_store(&stop_ns, now_ns());
    pass_on(sig, info, context);
    /* A handler that re-arms itself with signal() (SDL's does) has just replaced us: take the
     * signal back, and pass it on to that handler next time. Not after the default action,
     * which pass_on re-raised to end the process. */
    struct sigaction now;
    if (sigaction(sig, NULL, &now) != 0) return;
    int ours = (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_stop;
    if (!ours && !(now.sa_flags & SA_SIGINFO) && (now.sa_handler == SIG_DFL || now.sa_handler == SIG_IGN)) return;
    if (!ours) {
        previous[sig] = now;
        sigaction(sig, &stop_action, NULL);
    }
}

/* Every 5 ms: a call past its deadline, or one that began before a SIGINT/SIGTERM, is kicked. */
static void *watch(void *unused) {
    (void)unused;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are for the threads that run code */
    struct timespec tick = {.tv_sec = 0, .tv_nsec = 5000000};
    for (;;) {
        nanosleep(&tick, NULL);
        int64_t now = now_ns();
        int64_t stop = atomic_load(&stop_ns);
        for (int i = 0; i < SLOTS; i++) {
            Slot *s = &slots[i];
            if (!atomic_load(&s->used)) continue;
            uint64_t call = atomic_load(&s->active);
            if (call == 0 || atomic_load(&s->kicked) == call) continue;
            int kind = 0;
            if (stop != 0 && atomic_load(&s->started_ns) < stop)
                kind = GUARD_INTERRUPTED;
            else if (now > atomic_load(&s->deadline_ns))
                kind = GUARD_TIMEOUT;
            if (!kind) continue;
            atomic_store(&s->kick_kind, kind);
            atomic_store(&s->kicked, call);
            pthread_kill(s->thread, KICK);
        }
    }
    return NULL;
}

/* Installs the handlers and starts the watchdog; `seconds` bounds every call. Idempotent.
 * Returns 0, or -1 when a handler or the watchdog cannot be set up. */
int32_t guard_install(double seconds) {
    atomic_store(&bound_ns, (int64_t)(seconds * 1e9));
    int expected = 0;
    if (!atomic_compare_exchange_strong(&installed, &expected, 1)) return 0;
    if (pthread_key_create(&slot_key, release_slot) != 0) return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fault_signals / sizeof *fault_signals; i++) {
        if (sigaction(fault_signals[i], &sa, &previous[fault_signals[i]]) != 0) return -1;
    }
    if (sigaction(KICK, &sa, &previous[KICK]) != 0) return -1;
    sa.sa_sigaction = on_stop;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    stop_action = sa;
    for (size_t i = 0; i < sizeof stop_signals / sizeof *stop_signals; i++) {
        if (sigaction(stop_signals[i], &sa, &previous[stop_signals[i]]) != 0) return -1;
    }
    if (pthread_create(&watchdog, NULL, watch, NULL) != 0) return -1;
    pthread_detach(watchdog);
    return 0;
}

void guard_set_bound(double seconds) { atomic_store(&bound_ns, (int64_t)(seconds * 1e9)); }

/* Calls fn(a, b, c); GUARD_OK with its return value in *ret, or the kind of fault (details
 * from guard_result). A nested guarded call on the same thread runs unguarded inside the
 * outer one (the outer jump point catches its faults). */
int32_t guard_call(void *fn, uint64_t a, uint64_t b, uint64_t c, uint64_t *ret) {
    Slot *volatile s = claim_slot();
    if (s == NULL || atomic_load(&s->active) != 0) {
        *ret = ((entry3)fn)(a, b, c);
        return GUARD_OK;
    }
    int64_t start = now_ns();
    uint64_t call = atomic_fetch_add(&sequence, 1) + 1;
    atomic_store(&s->started_ns, start);
    atomic_store(&s->deadline_ns, start + atomic_load(&bound_ns));
    s->result.stack = (uint64_t)(uintptr_t)&start;
    if (sigsetjmp(s->jump, 0) == 0) {
        atomic_store(&s->active, call);
        uint64_t r = ((entry3)fn)(a, b, c);
        atomic_store(&s->active, 0);
        *ret = r;
        return GUARD_OK;
    }
    /* Back from a handler: the signal that got us here is still blocked (the jump did not
     * restore the mask, which saves a syscall on every call); unblock them all. */
    sigset_t unblock;
    sigemptyset(&unblock);
    for (size_t i = 0; i < sizeof fault_signals / sizeof *fault_signals; i++) sigaddset(&unblock, fault_signals[i]);
    sigaddset(&unblock, KICK);
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
    s->result.seconds = (double)(now_ns() - atomic_load(&s->started_ns)) / 1e9;
    *ret = 0;
    return s->result.kind;
}

/* The hot path for `run(Frame *) i32`, with nothing to convert on the caller's side: 0 when
 * it returned 0, its status (the low 32 bits) when it returned another, the kind of fault
 * shifted left by 32 when it faulted. */
int64_t guard_run(void *fn, void *frame) {
    uint64_t ret;
    int32_t kind = guard_call(fn, (uint64_t)(uintptr_t)frame, 0, 0, &ret);
    if (kind != GUARD_OK) return (int64_t)kind << 32;
    return (int64_t)(uint32_t)ret;
}

/* The details of the calling thread's last fault. */
void guard_result(GuardResult *out) {
    Slot *s = find_slot(pthread_self());
    if (s) *out = s->result;
}

/* `bytes` of zeroed memory between two inaccessible pages; NULL when mmap fails. */
void *guard_alloc(uint64_t bytes) {
    long page = sysconf(_SC_PAGESIZE);
    uint64_t inner = (bytes + page - 1) / page * page;
    if (inner == 0) inner = page;
    uint8_t *base = mmap(NULL, inner + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return NULL;
    if (mprotect(base + page, inner, PROT_READ | PROT_WRITE) != 0) {
        munmap(base, inner + 2 * page);
        return NULL;
    }
    return base + page;
}

void guard_free(void *p, uint64_t bytes) {
    if (p == NULL) return;
    long page = sysconf(_SC_PAGESIZE);
    uint64_t inner = (bytes + page - 1) / page * page;
    if (inner == 0) inner = page;
    munmap((uint8_t *)p - page, inner + 2 * page);
}
