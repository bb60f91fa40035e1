import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseProfile } from '../../harness/profile/profileLoad';
import { checkProxyInstalled, onPath } from '../../harness/profile/proxyInstalled';
import { BadInputError } from '../../harness/errors';
import { runCli } from '../helpers/cli';

/*
 * Issue 13, found #5: `proxy: envoy` without envoy passed validation, then every proxy data plane was
 * skipped while the run said `complete`. Now the profile is refused before anything runs.
 */
describe('proxy kind validation', () => {
  const profile = (dataplanes: string, kind: string, platform = 'netns'): ReturnType<typeof parseProfile> =>
    parseProfile(`name: p\nplatform: ${platform}\ndataplanes: [${dataplanes}]\nduration: 1s\nproxy: {kind: ${kind}}\n${platform === 'kubernetes' ? 'kubernetes: {}\n' : ''}`, 'p.yaml');
  const none = (): boolean => false;
  const all = (): boolean => true;

  it('refuses a proxy kind that is not installed, naming the data planes and what to install', () => {
    assert.throws(() => checkProxyInstalled(profile('baseline, sidecar, kernel, dual', 'envoy'), 'p.yaml', none), (e: unknown) => {
      assert.ok(e instanceof BadInputError);
      assert.equal(e.exitCode, 2);
      assert.match(e.userLine(), /^p\.yaml: proxy\.kind: envoy is not installed \(no envoy on the PATH\), and sidecar, dual need it \(install Envoy/);
      return true;
    });
    assert.throws(() => checkProxyInstalled(profile('ambient', 'haproxy'), 'p.yaml', none), /haproxy is not installed.*ambient needs it/);
  });

  it('refuses envoy even when installed (the netns platform configures HAProxy only)', () => {
    assert.throws(() => checkProxyInstalled(profile('waypoint', 'envoy'), 'p.yaml', all), /envoy is not supported by the netns platform yet/);
  });

  it('lets through what needs no proxy, an installed haproxy, and the kubernetes platform', () => {
    checkProxyInstalled(profile('baseline, kernel', 'envoy'), 'p.yaml', none);
    checkProxyInstalled(profile('sidecar', 'haproxy'), 'p.yaml', all);
    checkProxyInstalled(profile('sidecar', 'envoy', 'kubernetes'), 'p.yaml', none);
  });

  it('finds executables on PATH only', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-path-'));
    try {
      fs.writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
      fs.writeFileSync(path.join(dir, 'data'), '', { mode: 0o644 });
      assert.equal(onPath('tool', dir), true);
      // root may execute nothing without an x bit either: X_OK needs one
      assert.equal(onPath('data', dir), false);
      assert.equal(onPath('absent', dir), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('meshbench run exits 2 with one line before touching the machine', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-envoy-'));
    try {
      const file = path.join(dir, 'envoy.yaml');
      fs.writeFileSync(file, 'name: envoy\ndataplanes: [baseline, sidecar]\nduration: 1s\nproxy:\n  kind: envoy\n');
      const r = await runCli(['run', file, '--output', path.join(dir, 'out')]);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? '', /proxy\.kind: envoy (is not installed|is not supported)/);
      assert.equal(fs.existsSync(path.join(dir, 'out')), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
