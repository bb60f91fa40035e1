import assert from 'node:assert/strict';
import { controlPathPhrases, parseEchoControlPaths } from '../../harness/echoStopLine';
import { describeEchoControlPaths, pathControlsUsed, withEchoControlPath } from '../../harness/runner/echoControlPaths';
import type { SummaryRecord } from '../../harness/results/summaryTypes';
import { formatSummaryText } from '../../harness/results/summaryText';
import { summarise } from '../../harness/results/summarise';
import { syntheticRun } from '../helpers/syntheticRun';

describe('echo control paths: from the echo server\'s stop line to the run summary', () => {
  it('reads the paths back from what the stop line writes; no stop line is null', () => {
    const line = `meshbench echo: stopped after 2000 requests on 4 connections; calibration: 4000 connections churned, ${controlPathPhrases({ connects: 'native', switches: 'node' }).join(', ')}`;
    assert.deepEqual(parseEchoControlPaths(`meshbench echo: listening on 10.0.0.2:8080 (http)\n${line}\n`), { connects: 'native', switches: 'node' });
    const copies = `meshbench echo: stopped after 20 requests on 1 connection; calibration: 8320 bytes copied, ${controlPathPhrases({ copies: 'native' }).join(', ')}`;
    assert.deepEqual(parseEchoControlPaths(copies), { copies: 'native' });
    assert.deepEqual(parseEchoControlPaths('meshbench echo: stopped after 5 requests on 1 connection\n'), {});
    assert.equal(parseEchoControlPaths('meshbench echo: listening on 10.0.0.2:8080 (http)\n'), null, 'killed before its stop line');
  });

  it('names the path controls among the echo\'s default controls', () => {
    assert.deepEqual(pathControlsUsed('size=1024&connects=2'), ['connects']);
    assert.deepEqual(pathControlsUsed('switches=10&connects=1'), ['connects', 'switches']);
    assert.deepEqual(pathControlsUsed('size=16384&copies=4'), ['copies']);
    assert.deepEqual(pathControlsUsed('burn=200us'), []);
    assert.deepEqual(pathControlsUsed(''), []);
  });

  it('says one path per control, counts deployments where they differ, and why a path is unknown', () => {
    assert.equal(describeEchoControlPaths([]), undefined);
    assert.equal(describeEchoControlPaths([{ used: ['connects'], paths: { connects: 'native' } }, { used: ['switches'], paths: { switches: 'native' } }]),
      'connects by the native addon, switches by the native addon');
    assert.equal(describeEchoControlPaths([{ used: ['connects'], paths: { connects: 'native' } }, { used: ['connects'], paths: { connects: 'native' } }, { used: ['connects'], paths: { connects: 'node' } }]),
      'connects by the native addon in 2 deployments, by Node in 1 deployment');
    assert.equal(describeEchoControlPaths([{ used: ['connects'], paths: null }]), 'connects not recorded (the echo server printed no stop line)');
    assert.equal(describeEchoControlPaths([{ used: ['switches'], paths: undefined }]), 'switches not recorded (this platform does not read the echo server\'s stop line)');
  });

  it('puts the line in summary.json and the printed summary, and leaves both alone without one', () => {
    // A run with figures: a run with none prints only its 'nothing was measured' line (summaryText).
    const bare: SummaryRecord = summarise('r', 'complete', syntheticRun({ runId: 'r', seed: 3, dataplanes: ['baseline'], repetitions: 1 }).steps);
    assert.equal(withEchoControlPath(bare, undefined), bare);
    const s = withEchoControlPath(bare, 'connects by the native addon');
    assert.equal(s.echoControlPath, 'connects by the native addon');
    assert.match(formatSummaryText(s), /^echo server's calibration controls: connects by the native addon$/m);
    assert.doesNotMatch(formatSummaryText(bare), /echo server's calibration controls/);
  });
});
