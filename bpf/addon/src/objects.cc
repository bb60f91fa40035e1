// Object verbs: open (embedded skeleton ELF bytes or a .o file), describe, autoload, rodata, load, close.
#include "handles.h"
#include <bpf/btf.h>
#include <bpf/bpf.h>
#include <cerrno>
#include <cstring>
#include "objects.gen.h"

static uint32_t nextObject = 1;

void releaseObject(ObjectEntry &entry) {
  for (auto &[name, rb] : entry.ringBuffers) {
    ring_buffer__free(rb->rb);
    delete rb;
  }
  entry.ringBuffers.clear();
  if (entry.obj != nullptr) bpf_object__close(entry.obj);
  entry.obj = nullptr;
}

static Napi::Value registerObject(Napi::Env env, struct bpf_object *obj, const std::string &name) {
  uint32_t h = nextObject++;
  ObjectEntry &e = objects[h];
  e.obj = obj;
  e.name = name;
  return Napi::Number::New(env, h);
}

// embeddedObjects() -> string[]: the objects compiled into this addon.
static Napi::Value EmbeddedObjects(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (auto *o = embeddedObjects; o->name != nullptr; o++) out.Set(i++, Napi::String::New(env, o->name));
  return out;
}

// openObject(name) -> handle
static Napi::Value OpenObject(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string name = stringArg(info, 0, "object name");
  for (auto *o = embeddedObjects; o->name != nullptr; o++) {
    if (name != o->name) continue;
    size_t size = 0;
    const void *bytes = o->elf(&size);
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = o->name);
    resetLibbpfLog();
    struct bpf_object *obj = bpf_object__open_mem(bytes, size, &opts);
    if (obj == nullptr) throwBpf(env, "EBPFOPEN", errno, "cannot open BPF object " + name);
    return registerObject(env, obj, name);
  }
  throwBpf(env, "ENOOBJECT", ENOENT, "no BPF object named " + name + " is built into the addon");
}

// openObjectFile(path) -> handle: for objects compiled after the addon was built.
static Napi::Value OpenObjectFile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = stringArg(info, 0, "object path");
  resetLibbpfLog();
  struct bpf_object *obj = bpf_object__open_file(path.c_str(), nullptr);
  if (obj == nullptr) throwBpf(env, errno == ENOENT ? "ENOOBJECT" : "EBPFOPEN", errno, "cannot open BPF object file " + path);
  return registerObject(env, obj, path);
}

// describeObject(h) -> { programs: [{name, section, autoload}], maps: [{name, type, keySize, valueSize, maxEntries}] }
static Napi::Value DescribeObject(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ObjectEntry &e = objectArg(info, 0);
  Napi::Array progs = Napi::Array::New(env);
  uint32_t i = 0;
  struct bpf_program *p;
  bpf_object__for_each_program(p, e.obj) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", bpf_program__name(p));
    o.Set("section", bpf_program__section_name(p));
    o.Set("autoload", bpf_program__autoload(p));
    progs.Set(i++, o);
  }
  Napi::Array maps = Napi::Array::New(env);
  i = 0;
  struct bpf_map *m;
  bpf_object__for_each_map(m, e.obj) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", bpf_map__name(m));
    o.Set("type", static_cast<double>(bpf_map__type(m)));
    o.Set("keySize", bpf_map__key_size(m));
    o.Set("valueSize", bpf_map__value_size(m));
    o.Set("maxEntries", bpf_map__max_entries(m));
    maps.Set(i++, o);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("programs", progs);
  out.Set("maps", maps);
  out.Set("loaded", e.loaded);
  return out;
}

// setAutoload(h, prog, bool)
static Napi::Value SetAutoload(const Napi::CallbackInfo &info) {
  ObjectEntry &e = objectArg(info, 0);
  struct bpf_program *p = programArg(info, e, 1);
  if (info.Length() < 3 || !info[2].IsBoolean()) throwBpf(info.Env(), "EARG", 0, "autoload must be a boolean");
  int err = bpf_program__set_autoload(p, info[2].As<Napi::Boolean>().Value());
  if (err != 0) throwBpf(info.Env(), "EBPFSTATE", -err, "cannot change autoload of " + std::string(bpf_program__name(p)) + " (object already loaded?)");
  return info.Env().Undefined();
}

// setRodata(h, varName, bytes): writes a `const volatile` global before load (libbpf-tools' configuration style).
static Napi::Value SetRodata(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ObjectEntry &e = objectArg(info, 0);
  std::string var = stringArg(info, 1, "variable name");
  if (info.Length() < 3 || !info[2].IsBuffer()) throwBpf(env, "EARG", 0, "value must be a Buffer");
  Napi::Buffer<uint8_t> value = info[2].As<Napi::Buffer<uint8_t>>();
  if (e.loaded) throwBpf(env, "EBPFSTATE", 0, "rodata of " + e.name + " can only be set before load");
  struct btf *btf = bpf_object__btf(e.obj);
  struct bpf_map *m;
  bpf_object__for_each_map(m, e.obj) {
    const char *mname = bpf_map__name(m);
    size_t len = strlen(mname);
    if (!bpf_map__is_internal(m) || len < 7 || strcmp(mname + len - 7, ".rodata") != 0) continue;
    const struct btf_type *sec = btf__type_by_id(btf, bpf_map__btf_value_type_id(m));
    if (sec == nullptr) continue;
    const struct btf_var_secinfo *vs = btf_var_secinfos(sec);
    for (int i = 0; i < btf_vlen(sec); i++, vs++) {
      const struct btf_type *vt = btf__type_by_id(btf, vs->type);
      if (var != btf__name_by_offset(btf, vt->name_off)) continue;
      if (value.Length() != vs->size) throwBpf(env, "EARG", 0, var + " is " + std::to_string(vs->size) + " bytes, got " + std::to_string(value.Length()));
      size_t size = 0;
      const void *init = bpf_map__initial_value(m, &size);
      std::vector<uint8_t> data(static_cast<const uint8_t *>(init), static_cast<const uint8_t *>(init) + size);
      memcpy(data.data() + vs->offset, value.Data(), vs->size);
      int err = bpf_map__set_initial_value(m, data.data(), data.size());
      if (err != 0) throwBpf(env, "EBPFSTATE", -err, "cannot set " + var);
      return env.Undefined();
    }
  }
  throwBpf(env, "ENOVAR", 0, "BPF object " + e.name + " has no const volatile variable " + var);
}

// load(h): verifies and loads every autoloaded program and creates the maps.
static Napi::Value Load(const Napi::CallbackInfo &info) {
  ObjectEntry &e = objectArg(info, 0);
  resetLibbpfLog();
  int err = bpf_object__load(e.obj);
  if (err != 0) throwBpf(info.Env(), err == -EPERM || err == -EACCES ? errnoName(-err) : "EBPFLOAD", -err, "cannot load BPF object " + e.name);
  e.loaded = true;
  return info.Env().Undefined();
}

// close(h): destroys the object's links, ring buffers, programs and maps.
static Napi::Value Close(const Napi::CallbackInfo &info) {
  uint32_t h = handleArg(info, 0, "object handle");
  for (auto it = links.begin(); it != links.end();) {
    if (it->second.object == h) {
      destroyLink(it->second);
      it = links.erase(it);
    } else {
      ++it;
    }
  }
  auto it = objects.find(h);
  if (it != objects.end()) {
    releaseObject(it->second);
    objects.erase(it);
  }
  return info.Env().Undefined();
}

// programStats(h) -> [{name, runTimeNs, runCount}]: the kernel's per-program cost counters (filled only while
// enableStats() is held).
static Napi::Value ProgramStats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ObjectEntry &e = objectArg(info, 0);
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  struct bpf_program *p;
  bpf_object__for_each_program(p, e.obj) {
    int fd = bpf_program__fd(p);
    if (fd < 0) continue;
    struct bpf_prog_info pi;
    memset(&pi, 0, sizeof pi);
    __u32 len = sizeof pi;
    if (bpf_obj_get_info_by_fd(fd, &pi, &len) != 0) throwBpf(env, errnoName(errno), errno, "cannot read program info");
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", bpf_program__name(p));
    o.Set("runTimeNs", Napi::BigInt::New(env, static_cast<uint64_t>(pi.run_time_ns)));
    o.Set("runCount", Napi::BigInt::New(env, static_cast<uint64_t>(pi.run_cnt)));
    out.Set(i++, o);
  }
  return out;
}

static Napi::Value NumPossibleCpus(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), libbpf_num_possible_cpus());
}

// openHandles() -> { objects, links }: lets tests prove nothing is left open.
static Napi::Value OpenHandles(const Napi::CallbackInfo &info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("objects", static_cast<double>(objects.size()));
  out.Set("links", static_cast<double>(links.size()));
  return out;
}

void initObjects(Napi::Env env, Napi::Object exports) {
  exports.Set("embeddedObjects", Napi::Function::New(env, EmbeddedObjects));
  exports.Set("openObject", Napi::Function::New(env, OpenObject));
  exports.Set("openObjectFile", Napi::Function::New(env, OpenObjectFile));
  exports.Set("describeObject", Napi::Function::New(env, DescribeObject));
  exports.Set("setAutoload", Napi::Function::New(env, SetAutoload));
  exports.Set("setRodata", Napi::Function::New(env, SetRodata));
  exports.Set("load", Napi::Function::New(env, Load));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("programStats", Napi::Function::New(env, ProgramStats));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus));
  exports.Set("openHandles", Napi::Function::New(env, OpenHandles));
}
