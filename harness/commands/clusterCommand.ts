import type { Command } from 'commander';
import { parseDataPlaneName } from '../dataplanes/dataPlaneFactory';
import { BadInputError, ExitCode, MeshbenchError } from '../errors';
import { parsePositiveInt } from '../cliParse';
import { requireRoot } from '../platforms/netns/cluster';
import { EchoDeployment, type PathCheck } from '../platforms/netns/echoDeployment';
import type { Placement } from '../runner/platformSession';
import { workloadProtocols } from '../profile/profileSchema';
import { registerCleanupCommand } from './cleanupCommand';

interface CheckFlags {
  dataplane: string;
  placement: string;
  mtls?: boolean;
  workers: string;
  balance: string;
  requests: string;
  protocol: string;
  json?: boolean;
}

/** `meshbench cluster check` and `meshbench cleanup` (one registry line for the netns platform's commands). */
export function registerClusterCommands(program: Command): void {
  const cluster = program.command('cluster').description('the local emulated cluster (netns platform)');
  cluster
    .command('check')
    .description('build the cluster with one data plane, send a few requests, print the path they took and the connections on it, tear down')
    .requiredOption('-d, --dataplane <name>', 'baseline, sidecar, ambient, waypoint, kernel or dual')
    .option('--placement <where>', 'same-node or cross-node', 'cross-node')
    .option('--mtls', 'mTLS between proxies')
    .option('--workers <n>', 'proxy worker threads', '2')
    .option('--balance <policy>', 'kernel, dual: how the eBPF program picks a backend (round-robin or random)', 'round-robin')
    .option('--requests <n>', 'requests sent on the one connection', '3')
    .option('--protocol <p>', 'what the workloads and the proxies speak: http, http2, grpc or tcp', 'http')
    .option('--json', 'print the result as JSON (field connectionsOnPath)')
    .action(async (flags: CheckFlags) => {
      const dataplane = parseDataPlaneName(flags.dataplane);
      if (flags.placement !== 'same-node' && flags.placement !== 'cross-node') throw new BadInputError(`--placement ${flags.placement}: expected same-node or cross-node`);
      const placement: Placement = flags.placement;
      const workers = parsePositiveInt('--workers', flags.workers);
      if (workers > 64) throw new BadInputError('--workers: at most 64');
      if (flags.balance !== 'round-robin' && flags.balance !== 'random') throw new BadInputError(`--balance ${flags.balance}: expected round-robin or random`);
      const balance: 'round-robin' | 'random' = flags.balance;
      const protocol = workloadProtocols.find((p) => p === flags.protocol);
      if (protocol === undefined) throw new BadInputError(`--protocol ${flags.protocol}: expected one of ${workloadProtocols.join(', ')}`);
      const requests = parsePositiveInt('--requests', flags.requests);
      if (requests > 1000) throw new BadInputError('--requests: at most 1000');
      requireRoot();
      const check = await withDeployment({ dataplane, placement, protocol, dataPlaneOptions: { workers, mtls: flags.mtls === true, balance } }, (d) => d.checkPath(requests));
      if (flags.json === true) process.stdout.write(`${JSON.stringify(check.result, null, 2)}\n`);
      else process.stdout.write(formatCheck(check.result, check.createMs, check.destroyMs));
      const ok = check.result.connectionsOnPath === check.result.expectedConnections && check.result.statuses.every((s) => s === 200);
      if (!ok) {
        process.stderr.write(`meshbench: ${dataplane} took ${check.result.connectionsOnPath} connections, expected ${check.result.expectedConnections}\n`);
        process.exitCode = ExitCode.failure;
      }
    });
  registerCleanupCommand(program);
}

/** Creates, runs f, destroys, also on Ctrl-C (exit 130) and on failure. */
async function withDeployment<T>(options: Parameters<typeof EchoDeployment.create>[0], f: (d: EchoDeployment) => Promise<T>): Promise<{ result: T; createMs: number; destroyMs: number }> {
  let deployment: EchoDeployment | undefined;
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    const exit = (): never => process.exit(ExitCode.interrupted);
    if (deployment === undefined) return; // create() removes what it built when it fails; the check below exits
    deployment.destroy().then(exit, exit);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const t0 = Date.now();
    deployment = await EchoDeployment.create(options);
    const createMs = Date.now() - t0;
    if (interrupted) throw new MeshbenchError('interrupted', { exitCode: ExitCode.interrupted });
    let result: T;
    let destroyMs = 0;
    try {
      result = await f(deployment);
    } finally {
      const t1 = Date.now();
      await deployment.destroy();
      destroyMs = Date.now() - t1;
    }
    return { result, createMs, destroyMs };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function formatCheck(c: PathCheck, createMs: number, destroyMs: number): string {
  const lines = [
    `cluster check: ${c.dataplane}, ${c.placement}`,
    `design path:  ${c.path}`,
    `path taken:   ${c.hops.join(' → ')}`,
  ];
  for (const h of c.connections) lines.push(`  ${h.from.padEnd(12)} ${h.source.padEnd(21)} dialled ${h.dialled.padEnd(21)} accepted by ${h.to} at ${h.accepted}`);
  const ok = c.statuses.filter((s) => s === 200).length;
  lines.push(
    `connectionsOnPath: ${c.connectionsOnPath} (expected ${c.expectedConnections})`,
    `requests: ${ok}/${c.requests} answered 200 in ${(c.elapsedUs / 1000).toFixed(2)} ms on one connection`,
    `cluster created in ${(createMs / 1000).toFixed(2)} s, removed in ${(destroyMs / 1000).toFixed(2)} s`,
  );
  if (c.dataPlaneCounters !== undefined) {
    lines.splice(-1, 0, `data plane counters: ${Object.entries(c.dataPlaneCounters).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
