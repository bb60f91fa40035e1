import assert from 'node:assert/strict';
import { flameGraphs } from '../../reports/charts/flameGraphs';
import { flameGraphSvg, parseFolded } from '../../reports/charts/flameGraphSvg';
import { flameTreeJson, strippedBinariesIn, strippedNote } from '../../reports/charts/flameGraphTree';
import { syntheticRun } from '../helpers/syntheticRun';

describe('flame graphs', () => {
  it('builds the frame tree from folded stacks: inclusive counts', () => {
    const t = parseFolded('a;b;c 3\na;b 2\na;d 5\n\nbad line\n');
    assert.equal(t.value, 10);
    assert.equal(t.children.get('a')?.value, 10);
    assert.equal(t.children.get('a')?.children.get('b')?.value, 5);
    assert.equal(t.children.get('a')?.children.get('b')?.children.get('c')?.value, 3);
  });

  it('renders one rect per visible frame, widths proportional to samples, escaped names, deterministic', () => {
    const t = parseFolded('main;<lambda>&co 1\nmain;work 3');
    const svg = flameGraphSvg(t, { title: 'x', widthPx: 420 });
    assert.equal((svg.match(/<g class="frame">/g) ?? []).length, 4);
    assert.match(svg, /&lt;lambda&gt;&amp;co/);
    const widths = [...svg.matchAll(/<g class="frame"><title>[^<]*<\/title><rect x="[\d.]+" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(widths, [400, 400, 100, 300]);
    assert.equal(svg, flameGraphSvg(parseFolded('main;<lambda>&co 1\nmain;work 3'), { title: 'x', widthPx: 420 }));
  });

  it('colours a differential graph red where the frame grew and blue where it shrank', () => {
    const head = parseFolded('main;proxy 10\nmain;app 2');
    const base = parseFolded('main;app 4');
    const svg = flameGraphSvg(head, { title: 'diff', versus: base });
    assert.match(svg, /<title>proxy \(10 samples, 83\.33%, \+10 vs baseline \(new\)\)<\/title><rect [^>]*fill="rgb\(255,0,0\)"/);
    assert.match(svg, /<title>app \(2 samples, 16\.67%, -2 vs baseline\)<\/title><rect [^>]*fill="rgb\(128,128,255\)"/);
  });

  it('per component and differential graphs for every data plane of a sampled run; none without samples', () => {
    const run = syntheticRun({ runId: 'f', dataplanes: ['baseline', 'sidecar'], repetitions: 2, samplesPerStep: 50 });
    const graphs = flameGraphs(run.steps);
    assert.deepEqual(graphs.map((g) => g.id), ['flame-baseline-client', 'flame-baseline-server', 'flame-sidecar-client', 'flame-sidecar-client-proxy', 'flame-sidecar-server', 'flame-sidecar-server-proxy', 'flame-diff-sidecar']);
    const unsampled = syntheticRun({ runId: 'g', dataplanes: ['baseline', 'sidecar'], repetitions: 1, samplesPerStep: 50, withStacks: false });
    assert.deepEqual(flameGraphs(unsampled.steps), []);
  });

  it('gives d3-flame-graph the same frames: inclusive values, children by name, inclusive deltas against the baseline', () => {
    const head = parseFolded('main;proxy 10\nmain;app 2');
    const base = parseFolded('main;app 4\nmain;gone 1');
    assert.deepEqual(flameTreeJson(parseFolded('a;c 1\na;b 2')), {
      name: 'all', value: 3, children: [{ name: 'a', value: 3, children: [{ name: 'b', value: 2, children: [] }, { name: 'c', value: 1, children: [] }] }],
    });
    const diff = flameTreeJson(head, base);
    assert.equal(diff.delta, 12 - 5);
    const main = diff.children[0];
    assert.equal(main?.delta, 7);
    assert.deepEqual(main?.children.map((c) => [c.name, c.value, c.delta]), [['app', 2, -2], ['proxy', 10, 10]]);
  });

  it('says on the graph when a stripped binary (Debian haproxy) appears, and only then', () => {
    const proxy = parseFolded('haproxy;[haproxy];process_stream;tcp_sendmsg_[k] 5\nhaproxy;run_poll_loop 2');
    assert.deepEqual(strippedBinariesIn(proxy), ['haproxy']);
    assert.deepEqual(strippedBinariesIn(parseFolded('node;uv_run 3')), []);
    assert.equal(strippedNote([]), '');
    const note = strippedNote(['haproxy']);
    assert.match(note, /^haproxy: the Debian binary is stripped, so its frames are named from its dynamic \(exported\) symbols only; the rest show as \[haproxy\]$/);
    assert.match(flameGraphSvg(proxy, { title: 'p', note }), /<text class="note"[^>]*>haproxy: the Debian binary is stripped/);
    assert.doesNotMatch(flameGraphSvg(proxy, { title: 'p' }), /class="note"/);
    const run = syntheticRun({ runId: 'h', dataplanes: ['baseline', 'sidecar'], repetitions: 1, samplesPerStep: 50 });
    const graphs = flameGraphs(run.steps);
    for (const g of graphs) {
      const haproxyInside = g.dataplane === 'sidecar' && (g.kind === 'diff' || g.id.endsWith('-proxy'));
      assert.equal(g.caption.includes('haproxy: the Debian binary is stripped'), haproxyInside, g.id);
      assert.equal(g.svg.includes('class="note"'), haproxyInside, g.id);
      assert.equal(g.tree.value > 0, true, g.id);
    }
  });
});
