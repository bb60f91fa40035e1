import fs from 'node:fs';
import path from 'node:path';
import { BadInputError } from '../harness/errors';
import { loadRun, stepsDir, type LoadedRun } from '../harness/results/resultsStore';
import { isHeadlineStep, isInstrumentedStep, type StepRecord } from '../harness/results/resultTypes';
import { summarise } from '../harness/results/summarise';
import { withRunAdditions } from '../harness/results/runAdditions';
import { rateSearchChart } from './charts/rateSearchChart';
import { toFortioJson } from '../workloads/fortioExport';
import { flameGraphs } from './charts/flameGraphs';
import { stepsCsv } from './csvExport';
import { smpConfig, smpResult } from './exports/smpExport';
import { markdownSummary } from './markdownSummary';
import { evaluateClaims } from './claims/claimsEvaluation';
import { claimsSection } from './claims/claimsTable';
import { reportCharts } from './reportCharts';
import { htmlReport } from './render/htmlReport';
import { readInlineLibraries } from './render/inlineLibraries';
import { createSvgRenderer } from './render/svgRenderer';
import { stepRows } from './stepRows';

export interface ReportOptions {
  /** Default: RESULTS_DIR/report. */
  readonly outputDir?: string;
  /** Injected clock for the phase timings. */
  readonly nowMs?: () => number;
}

export interface ReportOutcome {
  readonly dir: string;
  readonly html: string;
  readonly markdown: string;
  readonly csv: string;
  readonly chartFiles: readonly string[];
  readonly flameGraphFiles: readonly string[];
  readonly smpFiles: number;
  readonly fortioFiles: number;
  readonly steps: number;
  readonly timingsMs: Readonly<Record<'load' | 'model' | 'svg' | 'write', number>>;
}

export function stepFileName(s: StepRecord): string {
  return `${String(s.index).padStart(4, '0')}-${s.id}.json`;
}

/** A results folder a report can describe: readable, and holding every step run.json says finished. */
export function loadRunForReport(dir: string): LoadedRun {
  const loaded = loadRun(dir);
  if (loaded.steps.length === 0) throw new BadInputError(`${dir}: no finished steps in ${stepsDir}/`, loaded.run.status === 'running' ? 'the run has not finished a step yet' : 'the run recorded nothing to report');
  if (loaded.steps.length < loaded.run.stepsCompleted) {
    throw new BadInputError(`${dir}: run.json records ${loaded.run.stepsCompleted} finished steps but ${stepsDir}/ holds ${loaded.steps.length}`, 'the folder was copied or cut short; copy it whole');
  }
  return loaded;
}

function probeNote(allSteps: readonly StepRecord[]): string | null {
  // Clean repetitions carry no probes by design: only the steps meant to carry them count.
  const steps = allSteps.filter(isInstrumentedStep);
  const off = steps.filter((s) => !s.probes.available);
  if (off.length === 0) return null;
  const reasons = [...new Set(off.map((s) => s.probes.unavailableReason ?? 'unavailable'))];
  return `off in ${off.length} of ${steps.length} steps (${reasons.join('; ')}): their kernel counters (bytes copied, connections, context switches, syscalls) are missing`;
}

function writeFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** Reads a results folder and writes the report beside it: index.html, summary.md, steps.csv, charts/, flamegraphs/, exports/. */
export async function writeReport(resultsDir: string, o: ReportOptions = {}): Promise<ReportOutcome> {
  const now = o.nowMs ?? (() => performance.now());
  const t0 = now();
  const { run, steps } = loadRunForReport(resultsDir);
  const t1 = now();
  const rows = stepRows(run.runId, steps);
  const summary = withRunAdditions(summarise(run.runId, run.status === 'running' ? 'partial' : run.status, steps), steps, run.profile.resolved);
  const notOwn = new Set(steps.flatMap((s) => s.components.filter((c) => c.role === 'dataplane').map((c) => c.name)));
  // Latency and resource charts from the headline (clean) repetitions; kernel counters from the instrumented ones.
  const headline = new Set(steps.filter(isHeadlineStep).map((s) => s.id));
  const instrumented = new Set(steps.filter(isInstrumentedStep).map((s) => s.id));
  // Calibration variants (profile `calibration:`) are tabled in their own section, not charted beside the data planes.
  const plain = new Set(steps.filter((s) => s.variant === undefined).map((s) => s.id));
  const searchChart = rateSearchChart(summary.searches);
  const charts = [...reportCharts(rows.filter((r) => headline.has(r.stepId) && plain.has(r.stepId)), summary.groups.filter((g) => g.variant === undefined), notOwn, rows.filter((r) => instrumented.has(r.stepId) && plain.has(r.stepId))), ...(searchChart === null ? [] : [searchChart])];
  const flames = flameGraphs(steps.filter((s) => s.variant === undefined));
  const t2 = now();
  const renderer = await createSvgRenderer();
  const svgs = new Map<string, string>();
  for (const c of charts) svgs.set(c.id, await renderer.render(c.spec));
  const t3 = now();

  const out = o.outputDir ?? path.join(resultsDir, 'report');
  fs.mkdirSync(out, { recursive: true });
  const chartFiles: Record<string, string> = {};
  for (const c of charts) {
    chartFiles[c.id] = `charts/${c.id}.svg`;
    writeFile(path.join(out, 'charts', `${c.id}.svg`), svgs.get(c.id) ?? '');
    writeFile(path.join(out, 'charts', `${c.id}.vl.json`), `${JSON.stringify(c.spec, null, 1)}\n`);
  }
  const flameFiles = flames.map((f) => ({ title: f.title, file: `flamegraphs/${f.id}.svg` }));
  for (const f of flames) writeFile(path.join(out, 'flamegraphs', `${f.id}.svg`), f.svg);
  const note = probeNote(steps);
  // The talk's claims are answered for runs that measure a sidecar (profiles/seed-claims.yaml measures all of them).
  const claims = summary.groups.some((g) => g.dataplane === 'sidecar') ? claimsSection(evaluateClaims(summary, steps)) : [];
  const sections = { ...(summary.calibration === undefined ? {} : { calibration: summary.calibration }), extraSections: claims, searches: summary.searches };
  const markdown = markdownSummary({ run, groups: summary.groups, charts, chartFiles, flameGraphFiles: flameFiles, probeNote: note, ...sections });
  writeFile(path.join(out, 'summary.md'), markdown);
  writeFile(path.join(out, 'steps.csv'), stepsCsv(rows));
  const html = htmlReport({
    title: `meshbench: ${run.profile.name} (${run.runId})`,
    summaryMarkdown: markdownSummary({ run, groups: summary.groups, charts: [], chartFiles: {}, flameGraphFiles: [], probeNote: note, ...sections }),
    charts,
    flameGraphs: flames,
    libraries: readInlineLibraries(),
  });
  writeFile(path.join(out, 'index.html'), html);
  const relResults = path.relative(path.join(out, 'exports', 'smp'), path.join(resultsDir, stepsDir));
  writeFile(path.join(out, 'exports', 'smp', 'test-config.json'), `${JSON.stringify(smpConfig(run, steps), null, 2)}\n`);
  for (const s of steps) {
    writeFile(path.join(out, 'exports', 'smp', stepFileName(s)), `${JSON.stringify(smpResult(run, s, `${relResults}/${stepFileName(s)}`), null, 2)}\n`);
    writeFile(path.join(out, 'exports', 'fortio', stepFileName(s)), `${JSON.stringify(toFortioJson(s.load), null, 2)}\n`);
  }
  const t4 = now();
  return {
    dir: out,
    html: path.join(out, 'index.html'),
    markdown: path.join(out, 'summary.md'),
    csv: path.join(out, 'steps.csv'),
    chartFiles: Object.values(chartFiles).map((f) => path.join(out, f)),
    flameGraphFiles: flameFiles.map((f) => path.join(out, f.file)),
    smpFiles: steps.length + 1,
    fortioFiles: steps.length,
    steps: steps.length,
    timingsMs: { load: t1 - t0, model: t2 - t1, svg: t3 - t2, write: t4 - t3 },
  };
}
