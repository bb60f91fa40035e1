import type { Command } from 'commander';
import { registerEchoCommand } from './commands/echoCommand';
import { registerLoadCommand } from './commands/loadCommand';
import { registerClusterCommands } from './commands/clusterCommand';
import { registerRunCommand } from './commands/runCommand';
import { registerDoctorCommand } from './commands/doctorCommand';
import { registerProbeCommand } from './commands/probeCommand';
import { registerProbeAgentCommand } from './commands/probeAgentCommand';
import { registerReportCommand } from './commands/reportCommand';
import { registerCompareCommand } from './commands/compareCommand';
import { registerHistoryCommand } from './commands/historyCommand';
import { registerClaimsCommand } from './commands/claimsCommand';

// One line per subcommand; each module registers its own flags and action.
export const commandRegistry: ReadonlyArray<(program: Command) => void> = [
  registerEchoCommand,
  registerLoadCommand,
  registerClusterCommands,
  registerRunCommand,
  registerDoctorCommand,
  registerProbeCommand,
  registerProbeAgentCommand,
  registerReportCommand,
  registerCompareCommand,
  registerHistoryCommand,
  registerClaimsCommand,
];
