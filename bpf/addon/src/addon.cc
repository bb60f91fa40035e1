// Entry point of the native addon: argument helpers, libbpf log capture, teardown. The verbs live in
// objects.cc, links.cc, maps.cc, perf.cc, timers.cc and calibration.cc; bpf/bpfBindings.ts is the only caller.
#include "handles.h"
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <deque>

std::map<uint32_t, ObjectEntry> objects;
std::map<uint32_t, LinkEntry> links;

static std::deque<std::string> libbpfLog;

static int captureLibbpf(enum libbpf_print_level level, const char *format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[1024];
  vsnprintf(line, sizeof line, format, args);
  std::string s(line);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) return 0;
  libbpfLog.push_back(s);
  while (libbpfLog.size() > 40) libbpfLog.pop_front();
  return 0;
}

void resetLibbpfLog() { libbpfLog.clear(); }

std::string errnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case E2BIG: return "E2BIG";
    case ENOMEM: return "ENOMEM";
    case EEXIST: return "EEXIST";
    case EBUSY: return "EBUSY";
    case ENOSPC: return "ENOSPC";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ESRCH: return "ESRCH";
    case ENODEV: return "ENODEV";
    case ENOSYS: return "ENOSYS";
    case ENOTDIR: return "ENOTDIR";
    default: return "E" + std::to_string(err);
  }
}

void throwBpf(Napi::Env env, const std::string &code, int err, const std::string &message) {
  std::string full = message;
  if (err != 0) full += ": " + std::string(strerror(err));
  Napi::Error e = Napi::Error::New(env, full);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  std::string log;
  for (const auto &l : libbpfLog) log += l + "\n";
  e.Set("libbpfLog", Napi::String::New(env, log));
  throw e;
}

std::string stringArg(const Napi::CallbackInfo &info, size_t index, const char *what) {
  if (info.Length() <= index || !info[index].IsString()) throwBpf(info.Env(), "EARG", 0, std::string(what) + " must be a string");
  return info[index].As<Napi::String>().Utf8Value();
}

uint32_t handleArg(const Napi::CallbackInfo &info, size_t index, const char *what) {
  if (info.Length() <= index || !info[index].IsNumber()) throwBpf(info.Env(), "EARG", 0, std::string(what) + " must be a number");
  return info[index].As<Napi::Number>().Uint32Value();
}

ObjectEntry &objectArg(const Napi::CallbackInfo &info, size_t index) {
  uint32_t h = handleArg(info, index, "object handle");
  auto it = objects.find(h);
  if (it == objects.end()) throwBpf(info.Env(), "EHANDLE", 0, "no open BPF object with handle " + std::to_string(h));
  return it->second;
}

struct bpf_program *programArg(const Napi::CallbackInfo &info, ObjectEntry &entry, size_t index) {
  std::string name = stringArg(info, index, "program name");
  struct bpf_program *prog = bpf_object__find_program_by_name(entry.obj, name.c_str());
  if (prog == nullptr) throwBpf(info.Env(), "ENOPROG", 0, "BPF object " + entry.name + " has no program " + name);
  return prog;
}

struct bpf_map *mapArg(const Napi::CallbackInfo &info, ObjectEntry &entry, size_t index) {
  std::string name = stringArg(info, index, "map name");
  struct bpf_map *map = bpf_object__find_map_by_name(entry.obj, name.c_str());
  if (map == nullptr) throwBpf(info.Env(), "ENOMAP", 0, "BPF object " + entry.name + " has no map " + name);
  return map;
}

static void teardown(void *) {
  for (auto &[h, l] : links) destroyLink(l);
  links.clear();
  for (auto &[h, o] : objects) releaseObject(o);
  objects.clear();
  teardownTimers();
  teardownCalibration();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  libbpf_set_print(captureLibbpf);
  libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
  napi_add_env_cleanup_hook(env, teardown, nullptr);
  initObjects(env, exports);
  initLinks(env, exports);
  initMaps(env, exports);
  initPerf(env, exports);
  initTimers(env, exports);
  initCalibration(env, exports);
  return exports;
}

NODE_API_MODULE(meshbench_bpf, Init)
