// Shared state of the addon: objects, links and perf fds by handle, and how native errors reach JS.
// Handles are small integers; everything is released on detach/close, at env teardown, and (held by fds,
// never pinned) by the kernel when the process dies.
#pragma once
#include <napi.h>
#include <bpf/libbpf.h>
#include <map>
#include <string>
#include <vector>
#include <cstdint>

struct RingBufferEntry {
  struct ring_buffer *rb = nullptr;
  std::vector<std::vector<uint8_t>> pending;
};

struct ObjectEntry {
  struct bpf_object *obj = nullptr;
  std::string name;
  bool loaded = false;
  std::map<std::string, RingBufferEntry *> ringBuffers;
};

struct LinkEntry {
  uint32_t object = 0;
  struct bpf_link *link = nullptr;
  // sk_msg/sk_skb attach to a map instead of a link: detach needs both fds (dups, owned here).
  int progFd = -1;
  int mapFd = -1;
  int attachType = -1;
};

extern std::map<uint32_t, ObjectEntry> objects;
extern std::map<uint32_t, LinkEntry> links;

// Throws a JS Error carrying `code` (e.g. "ENOENT", "EBPFLOAD"), `errno` and the tail of libbpf's log.
[[noreturn]] void throwBpf(Napi::Env env, const std::string &code, int err, const std::string &message);
// Clears libbpf's captured log before an operation whose failure should quote it.
void resetLibbpfLog();
std::string errnoName(int err);

ObjectEntry &objectArg(const Napi::CallbackInfo &info, size_t index);
struct bpf_program *programArg(const Napi::CallbackInfo &info, ObjectEntry &entry, size_t index);
struct bpf_map *mapArg(const Napi::CallbackInfo &info, ObjectEntry &entry, size_t index);
std::string stringArg(const Napi::CallbackInfo &info, size_t index, const char *what);
uint32_t handleArg(const Napi::CallbackInfo &info, size_t index, const char *what);

void destroyLink(LinkEntry &entry);
void releaseObject(ObjectEntry &entry);

void initObjects(Napi::Env env, Napi::Object exports);
void initLinks(Napi::Env env, Napi::Object exports);
void initMaps(Napi::Env env, Napi::Object exports);
void initPerf(Napi::Env env, Napi::Object exports);
void initTimers(Napi::Env env, Napi::Object exports);
// Closes every timerfd (env teardown).
void teardownTimers();
void initCalibration(Napi::Env env, Napi::Object exports);
// Closes the connects listeners and stops the switch helper threads (env teardown).
void teardownCalibration();
