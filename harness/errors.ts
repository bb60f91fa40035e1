// Typed errors: every failure a user can cause carries the exit code and what to do next.
// The CLI prints `meshbench: <message>` on one line, never a stack trace.

export const ExitCode = {
  ok: 0,
  failure: 1,
  badInput: 2,
  environment: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class MeshbenchError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  constructor(message: string, options: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.hint = options.hint;
  }
  /** The one line the CLI prints. */
  userLine(): string {
    return this.hint === undefined ? this.message : `${this.message} (${this.hint})`;
  }
}

/** Something the user typed or wrote is wrong: a flag, a URL, a profile. */
export class BadInputError extends MeshbenchError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.badInput, ...(hint === undefined ? {} : { hint }) });
  }
}

/** The machine lacks something: root, a package, a kernel feature, a free port. */
export class EnvironmentError extends MeshbenchError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, { exitCode: ExitCode.environment, ...(hint === undefined ? {} : { hint }), cause });
  }
}

export class NotRootError extends EnvironmentError {
  constructor(what: string) {
    super(`run as root: ${what}`, 'sudo meshbench ...');
  }
}

export function describeError(err: unknown): { line: string; exitCode: number } {
  if (err instanceof MeshbenchError) return { line: err.userLine(), exitCode: err.exitCode };
  if (err instanceof Error) return { line: err.message, exitCode: ExitCode.failure };
  return { line: String(err), exitCode: ExitCode.failure };
}
