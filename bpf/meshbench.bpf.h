/* Shared by every probe object: the registered-cgroup filter and log2 histograms (libbpf-tools' bits.bpf.h). */
#ifndef MESHBENCH_BPF_H
#define MESHBENCH_BPF_H

#define MAX_CGROUPS 1024
#define MAX_SLOTS 32

/* The cgroup v2 ids the session registers; everything else returns at the first lookup. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, MAX_CGROUPS);
  __type(key, __u64);
  __type(value, __u32);
} cgroups SEC(".maps");

static __always_inline bool cgroup_registered(__u64 id) {
  return bpf_map_lookup_elem(&cgroups, &id) != NULL;
}

static __always_inline __u32 log2_u32(__u32 v) {
  __u32 r, shift;
  r = (v > 0xFFFF) << 4; v >>= r;
  shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
  shift = (v > 0xF) << 2; v >>= shift; r |= shift;
  shift = (v > 0x3) << 1; v >>= shift; r |= shift;
  r |= (v >> 1);
  return r;
}

static __always_inline __u32 log2_u64(__u64 v) {
  __u32 hi = v >> 32;
  return hi ? log2_u32(hi) + 32 : log2_u32(v);
}

/* Slot s counts values in [2^s, 2^(s+1)); slot 0 also holds 0. */
static __always_inline __u32 hist_slot(__u64 v) {
  __u32 s = log2_u64(v);
  return s >= MAX_SLOTS ? MAX_SLOTS - 1 : s;
}

#endif
