import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomicWrite';
import { BadInputError } from '../errors';
import { resultsSchemaVersion, type RunRecord, type StepRecord } from './resultTypes';
import type { SummaryRecord } from './summaryTypes';

/*
 * A run folder: run.json (rewritten as the run progresses), steps/NNNN-<id>.json (one per finished step,
 * written when the step ends, never rewritten) and summary.json (at the end, also for partial runs).
 * Every write goes through a temp file and a rename, so a killed run leaves only whole files.
 */

export const runFile = 'run.json';
export const summaryFile = 'summary.json';
export const stepsDir = 'steps';

export class ResultsStore {
  private constructor(readonly dir: string) {}

  /** Creates the folder; refuses a non-empty existing one so no earlier results are overwritten. */
  static create(dir: string): ResultsStore {
    if (fs.existsSync(dir)) {
      if (!fs.statSync(dir).isDirectory()) throw new BadInputError(`--output ${dir} exists and is not a folder`);
      if (fs.readdirSync(dir).length > 0) throw new BadInputError(`--output ${dir} is not empty`, 'choose a new folder; meshbench never overwrites results');
    }
    try {
      fs.mkdirSync(path.join(dir, stepsDir), { recursive: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOTDIR' ? 'a part of its path is a file, not a folder' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : (err as Error).message;
      throw new BadInputError(`--output ${dir} cannot be created: ${why}`, 'choose a folder that can be created');
    }
    return new ResultsStore(dir);
  }

  writeRun(run: RunRecord): void {
    writeFileAtomic(path.join(this.dir, runFile), `${JSON.stringify(run, null, 2)}\n`);
  }

  writeStep(step: StepRecord): string {
    const file = path.join(this.dir, stepsDir, `${String(step.index).padStart(4, '0')}-${step.id}.json`);
    writeFileAtomic(file, `${JSON.stringify(step)}\n`);
    return file;
  }

  writeSummary(summary: SummaryRecord): void {
    writeFileAtomic(path.join(this.dir, summaryFile), `${JSON.stringify(summary, null, 2)}\n`);
  }
}

export interface LoadedRun {
  readonly dir: string;
  readonly run: RunRecord;
  readonly steps: StepRecord[];
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new BadInputError(`${file}: missing ${what}`, 'is this a meshbench results folder?');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadInputError(`${file}: truncated or not JSON`, 'the file was cut short; rerun or remove it');
  }
}

function checkVersion(file: string, value: unknown, kind: string): void {
  const v = value as { schemaVersion?: unknown; kind?: unknown } | null;
  if (v === null || typeof v !== 'object' || v.kind !== kind) throw new BadInputError(`${file}: not a ${kind} record`);
  if (v.schemaVersion !== resultsSchemaVersion) {
    throw new BadInputError(`${file}: results schema version ${String(v.schemaVersion)}, this meshbench reads version ${resultsSchemaVersion}`, 'use the meshbench version that wrote it');
  }
}

/** Reads a run folder for reports and compare; every problem is a BadInputError (exit 2). */
export function loadRun(dir: string): LoadedRun {
  if (!fs.existsSync(dir)) throw new BadInputError(`${dir}: no such results folder`);
  if (!fs.statSync(dir).isDirectory()) throw new BadInputError(`${dir}: is a file, not a results folder (give the folder meshbench run -o wrote)`);
  const runPath = path.join(dir, runFile);
  const run = readJson(runPath, 'run.json');
  checkVersion(runPath, run, 'meshbench-run');
  const stepFolder = path.join(dir, stepsDir);
  const names = fs.existsSync(stepFolder) ? fs.readdirSync(stepFolder).filter((n) => n.endsWith('.json')).sort() : [];
  const steps = names.map((n) => {
    const file = path.join(stepFolder, n);
    const s = readJson(file, 'step');
    checkVersion(file, s, 'meshbench-step');
    return s as StepRecord;
  });
  return { dir, run: run as RunRecord, steps };
}
