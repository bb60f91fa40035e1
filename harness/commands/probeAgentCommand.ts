import os from 'node:os';
import type { Command } from 'commander';
import { parsePort } from '../cliParse';
import { BadInputError } from '../errors';
import { withPerfStacks } from '../attribution/stackProbes';
import type { Profile } from '../profile/profileSchema';
import { openProbeProvider } from '../probes/probeProvider';
import { ProbeAgent, probeAgentPort } from '../platforms/kubernetes/probeAgent';

/** The same probes as a local run: the probe provider, with perf stack sampling where it has none. */
async function openProvider(profile: Profile): Promise<ReturnType<typeof withPerfStacks>['provider']> {
  return withPerfStacks(await openProbeProvider(profile), profile).provider;
}

/** `meshbench probe-agent`: what the pods of the meshbench-probes DaemonSet run (see README, kubernetes platform). */
export function registerProbeAgentCommand(program: Command): void {
  program
    .command('probe-agent')
    .description('serve this node\'s probes to a kubernetes run (the meshbench-probes DaemonSet runs it)')
    .option('-p, --port <port>', 'port to listen on', String(probeAgentPort))
    .option('--cgroup-root <dir>', 'the node\'s cgroup v2 mount', '/sys/fs/cgroup')
    .option('--node <name>', 'this node\'s name (default $NODE_NAME, then the host name)')
    .action(async (flags: { port: string; cgroupRoot: string; node?: string }) => {
      const node = flags.node ?? process.env.NODE_NAME ?? os.hostname();
      const token = process.env.MESHBENCH_PROBE_TOKEN;
      if (token === undefined || token.length < 16) throw new BadInputError('MESHBENCH_PROBE_TOKEN must hold the run\'s token (16 characters or more)', 'the probes DaemonSet meshbench creates sets it');
      const agent = new ProbeAgent({ port: parsePort('--port', flags.port), node, cgroupRoot: flags.cgroupRoot, openProvider, token });
      const port = await agent.listen();
      process.stderr.write(`meshbench probe-agent: node ${node}, listening on port ${port}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await agent.close();
    });
}
