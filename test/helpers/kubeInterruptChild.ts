import { describeError } from '../../harness/errors';
import { parseProfile } from '../../harness/profile/profileLoad';
import { openPlatform } from '../../harness/runner/platformFactory';

/*
 * A child process for the Ctrl-C test: opens the kubernetes platform against the stand-in named by argv[2],
 * deploys a data plane whose pod never starts, and reports what happened when SIGINT arrives meanwhile. The
 * platform's own SIGINT listener must end the wait; close() must then delete what was created.
 */
async function main(): Promise<void> {
  const profile = parseProfile(['name: int', 'platform: kubernetes', 'dataplanes: [baseline]', 'duration: 1s', 'probes: {enabled: false}',
    'kubernetes:', `  kubeconfig: ${process.argv[2] ?? ''}`, '  image: registry.example/slow-pull:1', '  readyTimeout: 60s', ''].join('\n'), 'int.yaml');
  const platform = await openPlatform(profile, 'run-interrupt');
  // What `meshbench run` does on the first Ctrl-C, besides the platform's own listener.
  process.on('SIGINT', () => undefined);
  process.stdout.write('deploying\n');
  try {
    await platform.deploy('baseline', 'cross-node', profile);
    process.stdout.write('deployed?!\n');
  } catch (err) {
    process.stdout.write(`stopped: ${describeError(err).line}\n`);
  } finally {
    await platform.close();
    process.stdout.write('closed\n');
  }
}

main().catch((err: unknown) => { process.stdout.write(`error: ${describeError(err).line}\n`); process.exitCode = 1; });
