import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BpfError, calibrationVerbs } from '../../bpf/bpfBindings';
import { classifyStackWithRule } from '../../harness/attribution/stackClassifier';

/*
 * The addon's native calibration verbs (bpf/addon/src/calibration.cc) on their own, counted by the kernel:
 * TIME_WAIT sockets in /proc/net/tcp, this thread's voluntary switches, this process's fds and threads.
 */

const fdCount = (): number => fs.readdirSync('/proc/self/fd').length;
const threadCount = (): number => fs.readdirSync('/proc/self/task').length;
const voluntarySwitches = (): number => Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(fs.readFileSync('/proc/thread-self/status', 'utf8'))?.[1]);
const timeWaitTo = (port: number): number => fs.readFileSync('/proc/net/tcp', 'utf8').trim().split('\n').slice(1)
  .map((l) => l.trim().split(/\s+/)).filter((f) => f[3] === '06' && parseInt((f[2] as string).split(':')[1] as string, 16) === port).length;

describe('native calibration verbs (addon)', () => {
  it('connects(h, 25): 25 connections opened and closed client first (25 TIME_WAIT sockets to the listener), no fd left open', () => {
    const v = calibrationVerbs();
    const fds = fdCount();
    const l = v.connectsListen();
    assert.equal(fdCount(), fds + 1);
    assert.equal(v.connects(l.handle, 25), 0);
    assert.equal(timeWaitTo(l.port), 25);
    assert.equal(fdCount(), fds + 1);
    v.connectsClose(l.handle);
    v.connectsClose(l.handle); // idempotent
    assert.equal(fdCount(), fds);
    assert.throws(() => v.connects(l.handle, 1), (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'EHANDLE');
  });

  it('switches(h, 200): at least 200 voluntary switches of the calling thread; the helper thread goes on stop', () => {
    const v = calibrationVerbs();
    const threads = threadCount();
    const h = v.switcherStart();
    assert.equal(threadCount(), threads + 1);
    const before = voluntarySwitches();
    const handoffs = v.switches(h, 200);
    const switched = voluntarySwitches() - before;
    assert.ok(handoffs >= 200, `${handoffs} hand-offs`);
    // ≥ by construction (a hand-off counts only when FUTEX_WAIT slept); a few more from this thread's own page faults or I/O.
    assert.ok(switched >= 200 && switched <= 200 + 20, `${switched} voluntary switches for 200`);
    v.switcherStop(h);
    v.switcherStop(h); // idempotent
    assert.equal(threadCount(), threads);
  });

  it('the futex calls are made from the addon\'s named wrappers, which the classifier reads as scheduling', () => {
    // The breakdown can tell a hand-off's syscall entry/exit and its user-mode return samples from other calls
    // only by these names (stackClassifier rule futex-named-by-user-frame); renaming them would move that cost
    // back to kernel-unclassified and application without any test of the classifier noticing.
    const addonFile = path.join(__dirname, '..', '..', '..', 'bpf', 'addon', 'build', 'Release', 'meshbench_bpf.node');
    const symbols = execFileSync('nm', ['--defined-only', addonFile], { encoding: 'utf8' });
    for (const name of ['mb_futexWait', 'mb_futexWake']) {
      assert.match(symbols, new RegExp(`\\bT ${name}$`, 'm'));
      const r = classifyStackWithRule(['node', '[libstdc++.so.6.0.30]', 'helperLoop', name, 'entry_SYSCALL_64_after_hwframe_[k]', 'do_syscall_64_[k]']);
      assert.equal(r.rule.name, 'futex-named-by-user-frame');
      assert.equal(r.category, 'scheduling');
    }
  });

  it('copies(h, data, n): n copies written into a Unix socket pair and read back, exactly (this process\'s rchar/wchar), any size; no fd left open', () => {
    const v = calibrationVerbs();
    const io = (): Record<string, number> => Object.fromEntries(fs.readFileSync('/proc/self/io', 'utf8').trim().split('\n').map((l) => { const [k, n] = l.split(':'); return [k as string, Number(n)]; }));
    const fds = fdCount();
    const h = v.copierOpen();
    assert.equal(fdCount(), fds + 2);
    // 16,485 B × 4 (one batch), 1 B × 5000 (more than the 1024 iovecs a writev takes), 300,001 B × 2 (128 KiB pieces).
    for (const [size, times] of [[16_485, 4], [1, 5000], [300_001, 2]] as const) {
      const data = Buffer.alloc(size, 7);
      // Reading /proc/self/io is itself a read (~100 bytes of rchar): measured back to back, then taken off.
      const r0 = io();
      const r1 = io();
      const a = io();
      assert.equal(v.copies(h, data, times), 2 * times * size);
      const b = io();
      for (const k of ['rchar', 'wchar']) {
        const extra = (b[k] as number) - (a[k] as number) - ((r1[k] as number) - (r0[k] as number)) - times * size;
        // Node's own threads may read or write a few 8-byte eventfd wake-ups meanwhile.
        assert.ok(Math.abs(extra) <= 64, `${k} +${(b[k] as number) - (a[k] as number)} for ${times} × ${size}`);
      }
    }
    assert.equal(v.copies(h, Buffer.alloc(0), 3), 0);
    v.copierClose(h);
    v.copierClose(h); // idempotent
    assert.equal(fdCount(), fds);
    // Called unwrapped (per request, as switches): the addon's Error carries the code, not the BpfError class.
    assert.throws(() => v.copies(h, Buffer.alloc(1), 1), (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'EHANDLE');
  });

  it('closing an unknown handle does nothing; a handle that is not a number is a BpfError EARG', () => {
    const v = calibrationVerbs();
    v.connectsClose(12345 as never);
    v.switcherStop(12345 as never);
    v.copierClose(12345 as never);
    const c = v.copierOpen();
    assert.throws(() => v.copies(c, 'x' as never, 1), (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'EARG');
    v.copierClose(c);
    assert.throws(() => v.connectsClose('x' as never), (e: unknown) => e instanceof BpfError && e.code === 'EARG');
    assert.throws(() => v.switcherStop('x' as never), (e: unknown) => e instanceof BpfError && e.code === 'EARG');
  });
});
