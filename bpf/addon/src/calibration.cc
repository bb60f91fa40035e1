// Native calibration controls for the echo server (issue 14; workloads/calibrationWork.ts is the only caller,
// through bpf/bpfBindings.ts). Not BPF: the addon is simply the project's one native module.
// Why native: the Node versions of `connects`, `switches` and `copies` recovered their own cost but moved others too,
// because their mechanism ran through Node. Measured by the calibration profile (README "Calibration"):
// net.connect per connection cost +196 µs/req of application user space, +32 syscalls, +16 kernel-unclassified
// at connects=2; the Worker + Atomics hand-off cost +54 µs/req of application at switches=10; fs.writevSync and
// readSync around the copies' two calls cost +6.2 µs/req of application at copies=4. Here the work is
// the system calls themselves with a few instructions around them: socket/connect/accept/close for a
// connection (the kernel's cost of connection churn), futex wait/wake for a hand-off (the kernel's cost of a
// voluntary context switch, as futex(2) and the Linux futex paper, Drepper "Futexes Are Tricky", describe).
// Policy (when to use these, the Node fallback, counting) lives in TypeScript.
#include "handles.h"
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <linux/futex.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <thread>
#include <vector>
#include <unistd.h>

// ---- connects: a blocking loopback listener owned here ----
// The listener is ours, not a Node server's: libuv would watch a Node listener in epoll and race our accept
// (and its own accept + read of EOF + close is the user-space cost being removed). Blocking fds, so each
// call sleeps in the kernel as long as the kernel needs; SO_RCVTIMEO bounds accept at 1 s so a broken network
// stack cannot hang the event loop. connect is not bounded: a loopback connect to a listening socket whose
// backlog (4096) is never more than one deep completes or fails at once, and a per-socket SO_SNDTIMEO cost a
// setsockopt(2) per connection that the breakdown counted in `syscalls`.

struct Listener {
  int fd = -1;
  uint16_t port = 0;
};
static std::map<uint32_t, Listener> listeners;
static uint32_t nextListener = 1;

static void setTimeout(int fd, int option) {
  struct timeval tv = {1, 0};
  setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

// connectsListen() -> { handle, port }: a listener on 127.0.0.1, any port, backlog 4096.
static Napi::Value ConnectsListen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throwBpf(env, errnoName(errno), errno, "socket() for the connects listener failed");
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || listen(fd, 4096) != 0
      || getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) != 0) {
    int err = errno;
    close(fd);
    throwBpf(env, errnoName(err), err, "the connects listener on 127.0.0.1 failed");
  }
  setTimeout(fd, SO_RCVTIMEO);
  uint32_t h = nextListener++;
  listeners[h] = Listener{fd, ntohs(a.sin_port)};
  Napi::Object out = Napi::Object::New(env);
  out.Set("handle", Napi::Number::New(env, h));
  out.Set("port", Napi::Number::New(env, ntohs(a.sin_port)));
  return out;
}

// connects(handle, n) -> connections that failed (0 normally). Each of the n: socket, blocking connect,
// accept, close the client end (FIN first from the client, as the Node path does), close the accepted end;
// the client end is left in TIME_WAIT, reused on loopback (net.ipv4.tcp_tw_reuse=2).
static Napi::Value Connects(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto it = listeners.find(handleArg(info, 0, "listener handle"));
  if (it == listeners.end()) throwBpf(env, "EHANDLE", 0, "no open connects listener with that handle");
  uint32_t n = handleArg(info, 1, "connection count");
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(it->second.port);
  uint32_t failed = 0;
  for (uint32_t i = 0; i < n; i += 1) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0) { failed += 1; continue; }
    if (connect(c, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) { close(c); failed += 1; continue; }
    int s = accept4(it->second.fd, nullptr, nullptr, SOCK_CLOEXEC);
    close(c);
    if (s < 0) { failed += 1; continue; }
    close(s);
  }
  return Napi::Number::New(env, failed);
}

// connectsClose(handle): idempotent.
static Napi::Value ConnectsClose(const Napi::CallbackInfo &info) {
  auto it = listeners.find(handleArg(info, 0, "listener handle"));
  if (it != listeners.end()) {
    close(it->second.fd);
    listeners.erase(it);
  }
  return info.Env().Undefined();
}

// ---- copies: bytes through a Unix socket pair, written and read back here ----
// The Node path (KernelCopier) made the same writev(2) and read(2) calls through Node's fs layer, and its user
// space around them (building the iovec array in JavaScript, fs.writevSync/readSync, libuv's fs request, the fd
// lookups) was measured at +6.2 µs/req of application at copies=4 of a 16 KiB reply (6 of 6 repetitions; README
// "Calibration"). Here the same calls on the same kind of socket pair are made with a few instructions around
// them. Both ends are non-blocking, as Node's were: a write that finds the send buffer full is finished after
// reading (it never waits on its own read).

struct Copier {
  int writer = -1;
  int reader = -1;
  std::vector<uint8_t> scratch;
};
static std::map<uint32_t, Copier> copiers;
static uint32_t nextCopier = 1;
// Largest batch of copies per writev + read: the Node path's KernelCopier.batchBytes (well under the Unix
// socket's send buffer, net.core.wmem_default 208 KiB).
static constexpr size_t copyBatchBytes = 128 * 1024;

// copierOpen() -> handle: socketpair(AF_UNIX, SOCK_STREAM), both ends non-blocking and close-on-exec.
static Napi::Value CopierOpen(const Napi::CallbackInfo &info) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
    throwBpf(info.Env(), errnoName(errno), errno, "socketpair() for the copies control failed");
  uint32_t h = nextCopier++;
  Copier &c = copiers[h];
  c.writer = fds[0];
  c.reader = fds[1];
  c.scratch.resize(copyBatchBytes);
  return Napi::Number::New(info.Env(), h);
}

// Writes k copies of [data, data+len) (k × len ≤ copyBatchBytes) and reads them back: one writev of k iovecs
// and one read while the socket takes it all at once, as the Node path did. Returns 0 or an errno.
static int transferCopies(Copier &c, const uint8_t *data, size_t len, size_t k) {
  const size_t total = k * len;
  size_t written = 0;
  size_t got = 0;
  // At most IOV_MAX (1024) iovecs a call, as libuv caps Node's writev: tiny buffers go in several calls.
  struct iovec iov[1024];
  while (got < total) {
    if (written < total) {
      int n = 0;
      size_t first = written % len;
      if (first != 0) iov[n++] = {const_cast<uint8_t *>(data) + first, len - first};
      for (size_t i = 0; i < (total - written) / len && n < 1024; i += 1) iov[n++] = {const_cast<uint8_t *>(data), len};
      ssize_t w = writev(c.writer, iov, n);
      if (w > 0) written += static_cast<size_t>(w);
      else if (w < 0 && errno != EAGAIN && errno != EINTR) return errno;
    }
    if (got < written) {
      ssize_t r = read(c.reader, c.scratch.data(), std::min(c.scratch.size(), written - got));
      if (r > 0) got += static_cast<size_t>(r);
      else if (r == 0) return EPIPE;
      else if (errno != EAGAIN && errno != EINTR) return errno;
    }
  }
  return 0;
}

// copies(handle, buffer, times) -> bytes copied into and out of the kernel (2 × times × buffer.length): the
// buffer passed `times` times through the pair, in batches of up to 128 KiB of whole copies (a buffer larger
// than that in 128 KiB pieces, each written and read back). Throws BpfError with the errno of a failed call.
static Napi::Value Copies(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto it = copiers.find(handleArg(info, 0, "copier handle"));
  if (it == copiers.end()) throwBpf(env, "EHANDLE", 0, "no open copier with that handle");
  if (info.Length() < 2 || !info[1].IsTypedArray()) throwBpf(env, "EARG", 0, "copies: the data must be a Buffer");
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  uint32_t times = handleArg(info, 2, "copy count");
  const uint8_t *bytes = data.Data();
  const size_t len = data.ByteLength();
  double copied = 0;
  if (len == 0 || times == 0) return Napi::Number::New(env, 0);
  int err = 0;
  if (len <= copyBatchBytes) {
    const size_t perBatch = copyBatchBytes / len;
    for (size_t left = times; left > 0 && err == 0;) {
      size_t k = std::min(perBatch, left);
      err = transferCopies(it->second, bytes, len, k);
      if (err == 0) copied += 2.0 * static_cast<double>(k * len);
      left -= k;
    }
  } else {
    for (uint32_t t = 0; t < times && err == 0; t += 1) {
      for (size_t off = 0; off < len && err == 0; off += copyBatchBytes) {
        size_t piece = std::min(copyBatchBytes, len - off);
        err = transferCopies(it->second, bytes + off, piece, 1);
        if (err == 0) copied += 2.0 * static_cast<double>(piece);
      }
    }
  }
  if (err != 0) throwBpf(env, errnoName(err), err, "copies: a write or read on the copy socket pair failed");
  return Napi::Number::New(env, copied);
}

// copierClose(handle): idempotent.
static Napi::Value CopierClose(const Napi::CallbackInfo &info) {
  auto it = copiers.find(handleArg(info, 0, "copier handle"));
  if (it != copiers.end()) {
    close(it->second.writer);
    close(it->second.reader);
    copiers.erase(it);
  }
  return info.Env().Undefined();
}

// ---- switches: hand-offs to a native thread over a futex ----
// word: 0 token with the caller (the helper sleeps), 1 token with the helper, 2 stop. The caller sets 1, wakes
// the helper and sleeps until the helper sets 0 and wakes it back. A hand-off counts only if the caller's
// FUTEX_WAIT returned 0 (it slept and was woken), not EAGAIN (the helper was already done): the same rule as
// the Node path's Atomics.wait 'ok', so switches(n) costs the caller ≥ n voluntary context switches.
// Each side says when it is about to sleep (callerWaiting, helperWaiting) and the other calls FUTEX_WAKE only
// then (Drepper's "Futexes Are Tricky" §5: no wake system call without a waiter; sequentially consistent
// stores and loads, so a side about to sleep either sees the token moved or is woken). It matters because a
// woken helper often preempts the caller inside its FUTEX_WAKE on the same CPU and answers before the caller
// waits: that hand-off is repeated, and without the flags it cost a FUTEX_WAKE nobody waited for, whose
// system-call entry and exit the breakdown puts in `kernel-unclassified`.

// The futex calls are made by these two named functions, each with its own `syscall` instruction and frame,
// not by libc's generic syscall(2) wrapper. Why: the stack sampler (cpu-clock, frame-pointer user stacks)
// must be able to say which system call a sample belongs to. libc's `syscall` is a frameless leaf, so the
// frame-pointer walk skips its caller and a sample there reads `...;syscall`, naming no call; and because
// cpu-clock is an hrtimer, a sample whose timer expired while the kernel ran with interrupts off (the switch
// in __schedule, the exit path) is taken at the first user instruction after the `syscall` instruction, so
// half of a hand-off's exit cost read as user space of `syscall` (measured: +16 µs/req of application at
// switches=10). With a named frame, the classifier's `syscall-named-by-user-frame` rule reads `futexWait` or
// `futexWake` and counts those samples with the futex call (scheduling). Raw return: 0 or -errno.
// noinline and a frame of their own keep the name and the caller visible (node-gyp passes -fno-omit-frame-pointer,
// but GCC still leaves a leaf without a frame, -mno-omit-leaf-frame-pointer included; taking the frame address
// makes it set one up).
extern "C" __attribute__((noinline)) long mb_futexWait(std::atomic<int> *word, int expected) {
  asm volatile("" : : "r"(__builtin_frame_address(0)));  // makes GCC set up the frame in this leaf
  long ret;
  register void *timeout asm("r10") = nullptr;
  asm volatile("syscall"
               : "=a"(ret)
               : "0"(static_cast<long>(SYS_futex)), "D"(reinterpret_cast<int *>(word)),
                 "S"(static_cast<long>(FUTEX_WAIT | FUTEX_PRIVATE_FLAG)), "d"(static_cast<long>(expected)), "r"(timeout)
               : "rcx", "r11", "memory");
  return ret;
}

extern "C" __attribute__((noinline)) long mb_futexWake(std::atomic<int> *word, int count) {
  asm volatile("" : : "r"(__builtin_frame_address(0)));
  long ret;
  asm volatile("syscall"
               : "=a"(ret)
               : "0"(static_cast<long>(SYS_futex)), "D"(reinterpret_cast<int *>(word)),
                 "S"(static_cast<long>(FUTEX_WAKE | FUTEX_PRIVATE_FLAG)), "d"(static_cast<long>(count))
               : "rcx", "r11", "memory");
  return ret;
}

// A hand-off in which the caller does not sleep is repeated; on a machine where the helper always answers
// before the caller waits, that would never end. Measured: 3 to 13 hand-offs per requested switch depending
// on load (README, meshbench echo), but runs of thousands happen: on two otherwise idle CPUs both threads stay
// awake and ping-pong the word (~0.2 µs a hand-off) until one is preempted, and a cap of 1000 per switch threw
// in a CI run (the request's connection closed, its client waited 60 s). So the cap only bounds a kernel that
// never switches at all: 1,000,000 per switch, ~0.2 s of hand-offs.
static constexpr uint32_t maxHandoffsPerSwitch = 1000000;

struct Switcher {
  std::atomic<int> word{0};
  std::atomic<int> callerWaiting{0};
  std::atomic<int> helperWaiting{0};
  std::thread helper;
};
static std::map<uint32_t, Switcher *> switchers;
static uint32_t nextSwitcher = 1;

static void helperLoop(Switcher *s) {
  // Signals go to Node's threads, never to this one (its only job is the futex).
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  for (;;) {
    int v = s->word.load();
    if (v == 2) return;
    if (v == 1) {
      s->word.store(0);
      if (s->callerWaiting.load()) mb_futexWake(&s->word, 1);
      continue;
    }
    s->helperWaiting.store(1);
    if (s->word.load() == 0) mb_futexWait(&s->word, 0);
    s->helperWaiting.store(0);
  }
}

static void stopSwitcher(Switcher *s) {
  s->word.store(2);
  mb_futexWake(&s->word, INT_MAX);
  s->helper.join();
  delete s;
}

// switcherStart() -> handle: starts the helper thread (it sleeps until the first hand-off).
static Napi::Value SwitcherStart(const Napi::CallbackInfo &info) {
  auto *s = new Switcher;
  try {
    s->helper = std::thread(helperLoop, s);
  } catch (const std::system_error &e) {
    delete s;
    throwBpf(info.Env(), "ETHREAD", e.code().value(), "the context-switch helper thread did not start");
  }
  uint32_t h = nextSwitcher++;
  switchers[h] = s;
  return Napi::Number::New(info.Env(), h);
}

// switches(handle, n) -> hand-offs made (≥ n; ones where the caller did not sleep are repeated, up to
// maxHandoffsPerSwitch × n, then BpfError ENOSWITCH).
static Napi::Value Switches(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto it = switchers.find(handleArg(info, 0, "switcher handle"));
  if (it == switchers.end()) throwBpf(env, "EHANDLE", 0, "no running switcher with that handle");
  uint32_t n = handleArg(info, 1, "switch count");
  Switcher *s = it->second;
  uint32_t slept = 0;
  double handoffs = 0;
  const double cap = static_cast<double>(n) * maxHandoffsPerSwitch;
  while (slept < n) {
    if (handoffs >= cap)
      throwBpf(env, "ENOSWITCH", 0,
               "switches: " + std::to_string(static_cast<uint64_t>(handoffs)) + " hand-offs made only " + std::to_string(slept)
                   + " of " + std::to_string(n) + " sleeping context switches (cap: 1,000,000 hand-offs per switch): the calling thread never had to wait for the helper");
    handoffs += 1;
    s->word.store(1);
    if (s->helperWaiting.load()) mb_futexWake(&s->word, 1);
    bool sleptThisTime = false;
    s->callerWaiting.store(1);
    while (s->word.load() == 1) {
      if (mb_futexWait(&s->word, 1) == 0) sleptThisTime = true;
    }
    s->callerWaiting.store(0);
    if (sleptThisTime) slept += 1;
  }
  return Napi::Number::New(env, handoffs);
}

// switcherStop(handle): stops and joins the helper; idempotent.
static Napi::Value SwitcherStop(const Napi::CallbackInfo &info) {
  auto it = switchers.find(handleArg(info, 0, "switcher handle"));
  if (it != switchers.end()) {
    stopSwitcher(it->second);
    switchers.erase(it);
  }
  return info.Env().Undefined();
}

void teardownCalibration() {
  for (auto &[h, l] : listeners) close(l.fd);
  listeners.clear();
  for (auto &[h, s] : switchers) stopSwitcher(s);
  switchers.clear();
  for (auto &[h, c] : copiers) {
    close(c.writer);
    close(c.reader);
  }
  copiers.clear();
}

void initCalibration(Napi::Env env, Napi::Object exports) {
  exports.Set("connectsListen", Napi::Function::New(env, ConnectsListen));
  exports.Set("connects", Napi::Function::New(env, Connects));
  exports.Set("connectsClose", Napi::Function::New(env, ConnectsClose));
  exports.Set("switcherStart", Napi::Function::New(env, SwitcherStart));
  exports.Set("switches", Napi::Function::New(env, Switches));
  exports.Set("switcherStop", Napi::Function::New(env, SwitcherStop));
  exports.Set("copierOpen", Napi::Function::New(env, CopierOpen));
  exports.Set("copies", Napi::Function::New(env, Copies));
  exports.Set("copierClose", Napi::Function::New(env, CopierClose));
}
