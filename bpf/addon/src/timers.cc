// timerfd bindings for the load client's timer (workloads/timerfdTimers.ts is the only caller, through
// bpf/bpfBindings.ts). A CLOCK_MONOTONIC timerfd armed with absolute deadlines (TFD_TIMER_ABSTIME) and
// watched by libuv with uv_poll on the main thread's own epoll set: when it expires, the sleeping event
// loop itself wakes (one wake-up, no helper thread, no uv_async hop) and the JS callback runs with
// the number of expirations. Policy (what to arm when, margins, names) lives in TypeScript.
// Why uv_poll rather than a thread blocked in read() plus a napi threadsafe function: the thread would
// cost a second wake-up and a uv_async_send per expiry, and its own scheduling lateness.
#include "handles.h"
#include <cerrno>
#include <cmath>
#include <map>
#include <csignal>
#include <memory>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

struct TimerEntry {
  int fd = -1;
  uv_poll_t *poll = nullptr;
  napi_env env = nullptr;
  Napi::FunctionReference callback;
  std::unique_ptr<Napi::AsyncContext> context;
};

static std::map<uint32_t, TimerEntry *> timers;
static uint32_t nextTimer = 1;

static void freePoll(uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); }

// Stops watching, closes the fd now (so /proc/self/fd shows it gone on return) and frees the handle
// on libuv's close callback. No callback can run after this: the poll is stopped and the reference dropped.
static void destroyTimer(TimerEntry *t) {
  uv_poll_stop(t->poll);
  close(t->fd);
  t->poll->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t *>(t->poll), freePoll);
  t->callback.Reset();
  t->context.reset();
  delete t;
}

static void onReadable(uv_poll_t *handle, int status, int) {
  auto *t = static_cast<TimerEntry *>(handle->data);
  if (t == nullptr || status < 0) return;
  uint64_t expirations = 0;
  // EAGAIN: disarmed or re-armed after epoll reported it (timerfd_settime clears the count).
  if (read(t->fd, &expirations, sizeof expirations) != sizeof expirations) return;
  uv_unref(reinterpret_cast<uv_handle_t *>(handle)); // expired: no longer keeps the process alive
  Napi::Env env(t->env);
  Napi::HandleScope scope(env);
  try {
    // MakeCallback, not Call: it drains process.nextTick and promise jobs afterwards, as libuv timers do.
    t->callback.MakeCallback(env.Global(), {Napi::Number::New(env, static_cast<double>(expirations))}, *t->context);
  } catch (const Napi::Error &e) {
    napi_fatal_exception(t->env, e.Value()); // the JS callback threw: surface it as an uncaught exception
  }
}

static TimerEntry *timerArg(const Napi::CallbackInfo &info) {
  uint32_t h = handleArg(info, 0, "timer handle");
  auto it = timers.find(h);
  if (it == timers.end()) throwBpf(info.Env(), "EHANDLE", 0, "no open timer with handle " + std::to_string(h));
  return it->second;
}

// timerCreate(onExpire: (expirations: number) => void) -> handle
static Napi::Value TimerCreate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) throwBpf(env, "EARG", 0, "timerCreate takes a callback");
  uv_loop_t *loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) throwBpf(env, "ENOLOOP", 0, "no libuv loop");
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) throwBpf(env, errnoName(errno), errno, "timerfd_create failed");
  auto *poll = new uv_poll_t;
  int rc = uv_poll_init(loop, poll, fd);
  if (rc == 0) rc = uv_poll_start(poll, UV_READABLE, onReadable);
  if (rc != 0) {
    close(fd);
    uv_close(reinterpret_cast<uv_handle_t *>(poll), freePoll);
    throwBpf(env, "EUVPOLL", -rc, std::string("uv_poll on the timerfd failed: ") + uv_strerror(rc));
  }
  uv_unref(reinterpret_cast<uv_handle_t *>(poll));
  auto *t = new TimerEntry;
  t->fd = fd;
  t->poll = poll;
  t->env = env;
  t->callback = Napi::Persistent(info[0].As<Napi::Function>());
  t->context = std::make_unique<Napi::AsyncContext>(env, "MeshbenchTimerfd");
  poll->data = t;
  uint32_t h = nextTimer++;
  timers[h] = t;
  return Napi::Number::New(env, h);
}

// timerArm(handle, deadlineNs): absolute CLOCK_MONOTONIC deadline in ns (a double: exact to the ns below
// 2^53 ns, 104 days of uptime). A deadline already past expires at once. While armed the timer keeps
// the process alive, as a libuv timer does.
static Napi::Value TimerArm(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  TimerEntry *t = timerArg(info);
  if (info.Length() < 2 || !info[1].IsNumber()) throwBpf(env, "EARG", 0, "deadline must be a number of ns");
  double ns = info[1].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(ns)) throwBpf(env, "EARG", 0, "deadline must be finite");
  if (ns < 1) ns = 1; // it_value 0 would disarm instead
  struct itimerspec spec = {};
  spec.it_value.tv_sec = static_cast<time_t>(ns / 1e9);
  spec.it_value.tv_nsec = static_cast<long>(ns - static_cast<double>(spec.it_value.tv_sec) * 1e9);
  if (spec.it_value.tv_nsec < 0) spec.it_value.tv_nsec = 0;
  if (spec.it_value.tv_nsec > 999999999) spec.it_value.tv_nsec = 999999999;
  if (timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) throwBpf(env, errnoName(errno), errno, "timerfd_settime failed");
  uv_ref(reinterpret_cast<uv_handle_t *>(t->poll));
  return env.Undefined();
}

// timerDisarm(handle): also drops an expiry not yet delivered.
static Napi::Value TimerDisarm(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  TimerEntry *t = timerArg(info);
  struct itimerspec spec = {};
  if (timerfd_settime(t->fd, 0, &spec, nullptr) != 0) throwBpf(env, errnoName(errno), errno, "timerfd_settime failed");
  uv_unref(reinterpret_cast<uv_handle_t *>(t->poll));
  return env.Undefined();
}

// timerClose(handle): idempotent; the fd is closed before it returns.
static Napi::Value TimerClose(const Napi::CallbackInfo &info) {
  uint32_t h = handleArg(info, 0, "timer handle");
  auto it = timers.find(h);
  if (it != timers.end()) {
    destroyTimer(it->second);
    timers.erase(it);
  }
  return info.Env().Undefined();
}

// setTimerSlackNs(ns) -> previous slack in ns, for the calling (main) thread.
static Napi::Value SetTimerSlackNs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint32_t ns = handleArg(info, 0, "timer slack");
  int previous = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  if (previous < 0) throwBpf(env, errnoName(errno), errno, "prctl(PR_GET_TIMERSLACK) failed");
  if (prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(ns), 0, 0, 0) != 0) throwBpf(env, errnoName(errno), errno, "prctl(PR_SET_TIMERSLACK) failed");
  return Napi::Number::New(env, previous);
}

// The thread setRealtimeWait last promoted (its tid), for the SIGXCPU handler; 0: none.
static volatile sig_atomic_t realtimeTid = 0;

// RLIMIT_RTTIME's soft limit sends SIGXCPU when a realtime thread has run that long without blocking. The
// handler demotes the promoted thread back to SCHED_OTHER (sched_setscheduler is a plain system call, safe in a
// handler), so a realtime loop that stopped sleeping (a bug, a runaway callback) loses its priority instead of
// starving the data plane on its CPU; the hard limit (SIGKILL) is the backstop if that failed.
static void onRealtimeOverrun(int) {
  int saved = errno;
  pid_t tid = realtimeTid;
  if (tid != 0) {
    struct sched_param p = {};
    syscall(SYS_sched_setscheduler, tid, SCHED_OTHER, &p);
  }
  errno = saved;
}

// setRealtimeWait(priority, rtTimeSoftUs, rtTimeHardUs): priority 1..99 makes the calling (main) thread
// SCHED_FIFO at that priority, with SCHED_RESET_ON_FORK (children start as SCHED_OTHER), after setting
// RLIMIT_RTTIME to the given limits and installing the SIGXCPU demotion above; priority 0 returns it to
// SCHED_OTHER (its nice value is kept). Throws BpfError EPERM/EINVAL when the kernel refuses (no CAP_SYS_NICE
// nor RLIMIT_RTPRIO, or a cgroup with no realtime budget); the thread's policy is then unchanged.
static Napi::Value SetRealtimeWait(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint32_t priority = handleArg(info, 0, "realtime priority");
  struct sched_param p = {};
  if (priority == 0) {
    if (sched_setscheduler(0, SCHED_OTHER, &p) != 0) throwBpf(env, errnoName(errno), errno, "sched_setscheduler(SCHED_OTHER) failed");
    return env.Undefined();
  }
  uint32_t softUs = handleArg(info, 1, "RLIMIT_RTTIME soft limit");
  uint32_t hardUs = handleArg(info, 2, "RLIMIT_RTTIME hard limit");
  if (priority > 99 || softUs == 0 || hardUs < softUs) throwBpf(env, "EARG", 0, "realtime priority must be 1..99 and 0 < soft ≤ hard");
  struct sigaction sa = {};
  sa.sa_handler = onRealtimeOverrun;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGXCPU, &sa, nullptr) != 0) throwBpf(env, errnoName(errno), errno, "sigaction(SIGXCPU) failed");
  struct rlimit lim = {softUs, hardUs};
  if (setrlimit(RLIMIT_RTTIME, &lim) != 0) throwBpf(env, errnoName(errno), errno, "setrlimit(RLIMIT_RTTIME) failed");
  realtimeTid = static_cast<sig_atomic_t>(syscall(SYS_gettid));
  p.sched_priority = static_cast<int>(priority);
  if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &p) != 0) throwBpf(env, errnoName(errno), errno, "sched_setscheduler(SCHED_FIFO) failed");
  return env.Undefined();
}

// schedPolicy() -> the calling thread's policy: "fifo", "other" or another name (tests, the bench).
static Napi::Value SchedPolicy(const Napi::CallbackInfo &info) {
  int policy = sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
  const char *name = policy == SCHED_FIFO ? "fifo" : policy == SCHED_OTHER ? "other" : policy == SCHED_RR ? "rr" : "other-class";
  return Napi::String::New(info.Env(), name);
}

static Napi::Value OpenTimers(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), static_cast<double>(timers.size()));
}

void teardownTimers() {
  for (auto &[h, t] : timers) destroyTimer(t);
  timers.clear();
}

void initTimers(Napi::Env env, Napi::Object exports) {
  exports.Set("timerCreate", Napi::Function::New(env, TimerCreate));
  exports.Set("timerArm", Napi::Function::New(env, TimerArm));
  exports.Set("timerDisarm", Napi::Function::New(env, TimerDisarm));
  exports.Set("timerClose", Napi::Function::New(env, TimerClose));
  exports.Set("setTimerSlackNs", Napi::Function::New(env, SetTimerSlackNs));
  exports.Set("setRealtimeWait", Napi::Function::New(env, SetRealtimeWait));
  exports.Set("schedPolicy", Napi::Function::New(env, SchedPolicy));
  exports.Set("openTimers", Napi::Function::New(env, OpenTimers));
}
