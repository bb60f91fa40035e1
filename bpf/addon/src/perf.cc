// perf_event_open bindings: counters (read as bigint) and samplers (for attachPerfEvent). Only fds opened
// here can be read or closed through the addon, so a wrong number never closes someone else's fd.
#include "handles.h"
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <unistd.h>

static std::set<int> perfFds;

static int64_t numberField(Napi::Object o, const char *key, int64_t fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (v.IsBigInt()) {
    bool lossless = false;
    return static_cast<int64_t>(v.As<Napi::BigInt>().Uint64Value(&lossless));
  }
  if (!v.IsNumber()) throwBpf(o.Env(), "EARG", 0, std::string(key) + " must be a number");
  return v.As<Napi::Number>().Int64Value();
}

// perfEventOpen({type, config, pid, cpu, cgroupPath?, sampleFreqHz?, inherit?}) -> fd
static Napi::Value PerfEventOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throwBpf(env, "EARG", 0, "perfEventOpen takes an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = static_cast<uint32_t>(numberField(o, "type", PERF_TYPE_SOFTWARE));
  attr.config = static_cast<uint64_t>(numberField(o, "config", 0));
  int64_t freq = numberField(o, "sampleFreqHz", 0);
  if (freq > 0) {
    attr.freq = 1;
    attr.sample_freq = static_cast<uint64_t>(freq);
  }
  attr.inherit = numberField(o, "inherit", 0) != 0 ? 1 : 0;
  int pid = static_cast<int>(numberField(o, "pid", -1));
  int cpu = static_cast<int>(numberField(o, "cpu", -1));
  unsigned long flags = PERF_FLAG_FD_CLOEXEC;
  int cgroupFd = -1;
  Napi::Value cg = o.Get("cgroupPath");
  if (cg.IsString()) {
    std::string path = cg.As<Napi::String>().Utf8Value();
    cgroupFd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroupFd < 0) throwBpf(env, errno == ENOENT ? "ENOCGROUP" : errnoName(errno), errno, "cannot open cgroup " + path);
    pid = cgroupFd;
    flags |= PERF_FLAG_PID_CGROUP;
  }
  int fd = static_cast<int>(syscall(__NR_perf_event_open, &attr, pid, cpu, -1, flags));
  int err = errno;
  if (cgroupFd >= 0) close(cgroupFd);
  if (fd < 0) {
    // ENOENT/EOPNOTSUPP: the event does not exist here (no PMU in a VM); EACCES/EPERM: paranoid or not root.
    std::string code = err == ENOENT || err == EOPNOTSUPP || err == ENODEV ? "ENOTSUPPORTED" : errnoName(err);
    throwBpf(env, code, err, "perf_event_open(type " + std::to_string(attr.type) + ", config " + std::to_string(attr.config) + ") failed");
  }
  perfFds.insert(fd);
  return Napi::Number::New(env, fd);
}

// perfEventRead(fd) -> bigint
static Napi::Value PerfEventRead(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(handleArg(info, 0, "perf fd"));
  if (perfFds.count(fd) == 0) throwBpf(env, "EBADF", EBADF, "perf fd " + std::to_string(fd) + " was not opened by perfEventOpen");
  uint64_t value = 0;
  if (read(fd, &value, sizeof value) != sizeof value) throwBpf(env, errnoName(errno), errno, "cannot read perf counter");
  return Napi::BigInt::New(env, value);
}

// perfEventClose(fd): idempotent.
static Napi::Value PerfEventClose(const Napi::CallbackInfo &info) {
  int fd = static_cast<int>(handleArg(info, 0, "perf fd"));
  if (perfFds.erase(fd) > 0) close(fd);
  return info.Env().Undefined();
}

// enableStats() -> fd: BPF_ENABLE_STATS(run time) while the fd is open; closed with perfEventClose(fd).
static Napi::Value EnableStats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) throwBpf(env, errnoName(errno), errno, "cannot enable BPF run-time statistics");
  perfFds.insert(fd);
  return Napi::Number::New(env, fd);
}

static Napi::Value OpenPerfFds(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), static_cast<double>(perfFds.size()));
}

void initPerf(Napi::Env env, Napi::Object exports) {
  exports.Set("perfEventOpen", Napi::Function::New(env, PerfEventOpen));
  exports.Set("perfEventRead", Napi::Function::New(env, PerfEventRead));
  exports.Set("perfEventClose", Napi::Function::New(env, PerfEventClose));
  exports.Set("enableStats", Napi::Function::New(env, EnableStats));
  exports.Set("openPerfFds", Napi::Function::New(env, OpenPerfFds));
}
