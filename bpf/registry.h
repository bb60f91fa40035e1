/* The registered cgroups of a session, the first global of every probe object's .bss; mirrored by
 * harness/probes/registry.ts. */
#ifndef REGISTRY_H
#define REGISTRY_H
#define REGISTRY_SIZE 32
struct registry {
  __u64 ids[REGISTRY_SIZE];   /* cgroup v2 ids, slot = index */
  __u32 netns[REGISTRY_SIZE]; /* private netns inode of the slot's cgroup, 0 = none (receive-side packets) */
  __u32 count;
  __u32 netns_count;
};
#endif
