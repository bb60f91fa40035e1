// Map verbs: raw key/value bytes in and out (layouts are decoded in TypeScript), plus ring buffers.
// Per-CPU maps take and return every CPU's value concatenated, each padded to 8 bytes (the kernel's layout).
#include "handles.h"
#include <bpf/bpf.h>
#include <cerrno>
#include <cstring>

static bool isPerCpu(enum bpf_map_type t) {
  return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
         t == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

static bool isArray(enum bpf_map_type t) {
  return t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

static size_t fullValueSize(struct bpf_map *m) {
  size_t v = bpf_map__value_size(m);
  if (!isPerCpu(bpf_map__type(m))) return v;
  return ((v + 7) / 8) * 8 * static_cast<size_t>(libbpf_num_possible_cpus());
}

static int loadedMapFd(Napi::Env env, ObjectEntry &e, struct bpf_map *m) {
  int fd = bpf_map__fd(m);
  if (fd < 0 || !e.loaded) throwBpf(env, "EBPFSTATE", 0, "map " + std::string(bpf_map__name(m)) + " of " + e.name + " exists only after load");
  return fd;
}

static Napi::Buffer<uint8_t> bufferArg(const Napi::CallbackInfo &info, size_t index, size_t expected, const char *what) {
  if (info.Length() <= index || !info[index].IsBuffer()) throwBpf(info.Env(), "EARG", 0, std::string(what) + " must be a Buffer");
  auto b = info[index].As<Napi::Buffer<uint8_t>>();
  if (b.Length() != expected) {
    throwBpf(info.Env(), "EARG", 0, std::string(what) + " must be " + std::to_string(expected) + " bytes, got " + std::to_string(b.Length()));
  }
  return b;
}

// mapUpdate(h, map, key, value, flags = BPF_ANY)
static Napi::Value MapUpdate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ObjectEntry &e = objectArg(info, 0);
  struct bpf_map *m = mapArg(info, e, 1);
  int fd = loadedMapFd(env, e, m);
  auto key = bufferArg(info, 2, bpf_map__key_size(m), "key");
  auto value = bufferArg(info, 3, fullValueSize(m), "value");
  uint64_t flags = info.Length() > 4 && info[4].IsNumber() ? info[4].As<Napi::Number>().Int64Value() : static_cast<int64_t>(BPF_ANY);
  if (bpf_map_update_elem(fd, key.Data(), value.Data(), flags) != 0) {
    throwBpf(env, errnoName(errno), errno, "cannot update map " + std::string(bpf_map__name(m)));
  }
  return env.Undefined();
}

// mapLookup(h, map, key) -> Buffer | null
static Napi::Value MapLookup(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ObjectEntry &e = objectArg(info, 0);
  struct bpf_map *m = mapArg(info, e, 1);
  int fd = loadedMapFd(env, e, m);
  auto key = bufferArg(info, 2, bpf_map__key_size(m), "key");
  auto value = Napi::Buffer<uint8_t>::New(env, fullValueSize(m));
  if (bpf_map_lookup_elem(fd, key.Data(), value.Data()) != 0) {
    if (errno == ENOENT) return env.Null();
    throwBpf(env, errnoName(errno), errno, "cannot look up map " + std::string(bpf_map__name(m)));
  }
  return value;
}

// mapDelete(h, map, key) -> boolean (false when the key was absent)
static Napi::Value MapDelete(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ObjectEntry &e = objectArg(info, 0);
  struct bpf_map *m = mapArg(info, e, 1);
  int fd = loadedMapFd(env, e, m);
  auto key = bufferArg(info, 2, bpf_map__key_size(m), "key");
  if (bpf_map_delete_elem(fd, key.Data()) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    throwBpf(env, errnoName(errno), errno, "cannot delete from map " + std::string(bpf_map__name(m)));
  }
  return Napi::Boolean::New(env, true);
}

// mapDump(h, map) -> [key, value][]
static Napi::Value MapDump(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ObjectEntry &e = objectArg(info, 0);
  struct bpf_map *m = mapArg(info, e, 1);
  int fd = loadedMapFd(env, e, m);
  size_t ks = bpf_map__key_size(m), vs = fullValueSize(m);
  std::vector<uint8_t> cur(ks), next(ks), value(vs);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  const void *prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
    if (bpf_map_lookup_elem(fd, next.data(), value.data()) == 0) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, Napi::Buffer<uint8_t>::Copy(env, next.data(), ks));
      pair.Set(1u, Napi::Buffer<uint8_t>::Copy(env, value.data(), vs));
      out.Set(n++, pair);
    }
    cur.swap(next);
    prev = cur.data();
  }
  return out;
}

// mapClear(h, map) -> entries removed (arrays: entries zeroed)
static Napi::Value MapClear(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ObjectEntry &e = objectArg(info, 0);
  struct bpf_map *m = mapArg(info, e, 1);
  int fd = loadedMapFd(env, e, m);
  size_t ks = bpf_map__key_size(m);
  std::vector<uint8_t> key(ks), next(ks);
  uint32_t n = 0;
  if (isArray(bpf_map__type(m))) {
    std::vector<uint8_t> zero(fullValueSize(m), 0);
    for (uint32_t i = 0; i < bpf_map__max_entries(m); i++) {
      if (bpf_map_update_elem(fd, &i, zero.data(), BPF_ANY) == 0) n++;
    }
    return Napi::Number::New(env, n);
  }
  // Collect first, then delete: deleting while walking a hash restarts the walk.
  std::vector<std::vector<uint8_t>> keys;
  const void *prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
    keys.push_back(next);
    key = next;
    prev = key.data();
  }
  for (auto &k : keys) {
    if (bpf_map_delete_elem(fd, k.data()) == 0) n++;
  }
  return Napi::Number::New(env, n);
}

static int collectSample(void *ctx, void *data, size_t size) {
  auto *rb = static_cast<RingBufferEntry *>(ctx);
  const uint8_t *p = static_cast<const uint8_t *>(data);
  rb->pending.emplace_back(p, p + size);
  return 0;
}

// ringBufferPoll(h, map) -> Buffer[]: never blocks (ring_buffer__consume).
static Napi::Value RingBufferPoll(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ObjectEntry &e = objectArg(info, 0);
  struct bpf_map *m = mapArg(info, e, 1);
  int fd = loadedMapFd(env, e, m);
  std::string name = bpf_map__name(m);
  RingBufferEntry *rb;
  auto it = e.ringBuffers.find(name);
  if (it == e.ringBuffers.end()) {
    rb = new RingBufferEntry();
    rb->rb = ring_buffer__new(fd, collectSample, rb, nullptr);
    if (rb->rb == nullptr) {
      int err = errno;
      delete rb;
      throwBpf(env, errnoName(err), err, "map " + name + " is not a ring buffer");
    }
    e.ringBuffers[name] = rb;
  } else {
    rb = it->second;
  }
  rb->pending.clear();
  if (ring_buffer__consume(rb->rb) < 0) throwBpf(env, errnoName(errno), errno, "cannot read ring buffer " + name);
  Napi::Array out = Napi::Array::New(env, rb->pending.size());
  for (uint32_t i = 0; i < rb->pending.size(); i++) out.Set(i, Napi::Buffer<uint8_t>::Copy(env, rb->pending[i].data(), rb->pending[i].size()));
  rb->pending.clear();
  return out;
}

void initMaps(Napi::Env env, Napi::Object exports) {
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate));
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete));
  exports.Set("mapDump", Napi::Function::New(env, MapDump));
  exports.Set("mapClear", Napi::Function::New(env, MapClear));
  exports.Set("ringBufferPoll", Napi::Function::New(env, RingBufferPoll));
}
