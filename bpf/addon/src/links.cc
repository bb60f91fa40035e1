// Link verbs: attach by section, to a cgroup, to a sockmap (sk_msg), to a perf event; detach.
// Links are fd-held bpf_links (never pinned), so the kernel drops them when the process dies.
#include "handles.h"
#include <bpf/bpf.h>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

static uint32_t nextLink = 1;

void destroyLink(LinkEntry &entry) {
  if (entry.link != nullptr) bpf_link__destroy(entry.link);
  entry.link = nullptr;
  if (entry.progFd >= 0) {
    bpf_prog_detach2(entry.progFd, entry.mapFd, static_cast<enum bpf_attach_type>(entry.attachType));
    close(entry.progFd);
    close(entry.mapFd);
  }
  entry.progFd = entry.mapFd = -1;
}

static Napi::Value registerLink(Napi::Env env, uint32_t object, LinkEntry entry) {
  entry.object = object;
  uint32_t h = nextLink++;
  links[h] = entry;
  return Napi::Number::New(env, h);
}

static void requireLoaded(Napi::Env env, ObjectEntry &e) {
  if (!e.loaded) throwBpf(env, "EBPFSTATE", 0, "BPF object " + e.name + " must be loaded before attaching");
}

static void throwAttach(Napi::Env env, int err, const std::string &what) {
  throwBpf(env, err == EPERM || err == EACCES ? errnoName(err) : "EBPFATTACH", err, what);
}

// attach(h, prog) -> link: auto-attach by section (tracepoint/, raw_tp/, tp_btf/, kprobe/, fentry/...).
static Napi::Value Attach(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ObjectEntry &e = objectArg(info, 0);
  struct bpf_program *p = programArg(info, e, 1);
  requireLoaded(env, e);
  resetLibbpfLog();
  struct bpf_link *l = bpf_program__attach(p);
  if (l == nullptr) throwAttach(env, errno, "cannot attach " + std::string(bpf_program__name(p)) + " (" + bpf_program__section_name(p) + ")");
  LinkEntry entry;
  entry.link = l;
  return registerLink(env, handleArg(info, 0, "object handle"), entry);
}

// attachCgroup(h, prog, cgroupPath) -> link: cgroup/connect4, sockops, cgroup_skb… on a cgroup v2 directory.
static Napi::Value AttachCgroup(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ObjectEntry &e = objectArg(info, 0);
  struct bpf_program *p = programArg(info, e, 1);
  std::string path = stringArg(info, 2, "cgroup path");
  requireLoaded(env, e);
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throwBpf(env, errno == ENOENT ? "ENOCGROUP" : errnoName(errno), errno, "cannot open cgroup " + path);
  resetLibbpfLog();
  struct bpf_link *l = bpf_program__attach_cgroup(p, fd);
  int err = errno;
  close(fd);
  if (l == nullptr) throwAttach(env, err, "cannot attach " + std::string(bpf_program__name(p)) + " to cgroup " + path);
  LinkEntry entry;
  entry.link = l;
  return registerLink(env, handleArg(info, 0, "object handle"), entry);
}

// attachSockmap(h, prog, mapName, attachType) -> link: sk_msg / sk_skb programs attach to a sockmap or
// sockhash, not through a bpf_link (libbpf 1.1 has none); detach runs bpf_prog_detach2.
static Napi::Value AttachSockmap(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ObjectEntry &e = objectArg(info, 0);
  struct bpf_program *p = programArg(info, e, 1);
  struct bpf_map *m = mapArg(info, e, 2);
  uint32_t type = handleArg(info, 3, "attach type");
  requireLoaded(env, e);
  // CLOEXEC: a plain dup() would be inherited by every process spawned afterwards, which would keep the map
  // and the program alive after detach/close (and after this process dies).
  int progFd = fcntl(bpf_program__fd(p), F_DUPFD_CLOEXEC, 3);
  int mapFd = fcntl(bpf_map__fd(m), F_DUPFD_CLOEXEC, 3);
  if (progFd < 0 || mapFd < 0) throwBpf(env, errnoName(errno), errno, "cannot duplicate program/map fd");
  if (bpf_prog_attach(progFd, mapFd, static_cast<enum bpf_attach_type>(type), 0) != 0) {
    int err = errno;
    close(progFd);
    close(mapFd);
    throwAttach(env, err, "cannot attach " + std::string(bpf_program__name(p)) + " to map " + bpf_map__name(m));
  }
  LinkEntry entry;
  entry.progFd = progFd;
  entry.mapFd = mapFd;
  entry.attachType = static_cast<int>(type);
  return registerLink(env, handleArg(info, 0, "object handle"), entry);
}

// attachPerfEvent(h, prog, perfFd) -> link. The link owns a dup of the fd, so perfEventClose stays the caller's.
static Napi::Value AttachPerfEvent(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ObjectEntry &e = objectArg(info, 0);
  struct bpf_program *p = programArg(info, e, 1);
  int perfFd = static_cast<int>(handleArg(info, 2, "perf fd"));
  requireLoaded(env, e);
  int fd = fcntl(perfFd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) throwBpf(env, "EBADF", errno, "perf fd " + std::to_string(perfFd) + " is not open");
  resetLibbpfLog();
  struct bpf_link *l = bpf_program__attach_perf_event(p, fd);
  if (l == nullptr) {
    int err = errno;
    close(fd);
    throwAttach(env, err, "cannot attach " + std::string(bpf_program__name(p)) + " to perf event");
  }
  LinkEntry entry;
  entry.link = l;
  return registerLink(env, handleArg(info, 0, "object handle"), entry);
}

// detach(link): idempotent.
static Napi::Value Detach(const Napi::CallbackInfo &info) {
  uint32_t h = handleArg(info, 0, "link handle");
  auto it = links.find(h);
  if (it != links.end()) {
    destroyLink(it->second);
    links.erase(it);
  }
  return info.Env().Undefined();
}

void initLinks(Napi::Env env, Napi::Object exports) {
  exports.Set("attach", Napi::Function::New(env, Attach));
  exports.Set("attachCgroup", Napi::Function::New(env, AttachCgroup));
  exports.Set("attachSockmap", Napi::Function::New(env, AttachSockmap));
  exports.Set("attachPerfEvent", Napi::Function::New(env, AttachPerfEvent));
  exports.Set("detach", Napi::Function::New(env, Detach));
}
