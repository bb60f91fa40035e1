import { repetitionVerdictText } from '../harness/results/repetitionVerdict';
import { objectiveText, type RateSearchSummary } from '../harness/results/searchSummary';
import type { SummaryGroup } from '../harness/results/summaryTypes';
import { formatUs, mdCell } from '../harness/results/formatUnits';

/** A probe's latency figure, or — for a probe that recorded no request. */
const usCell = (us: number | null): string => (us === null ? '—' : formatUs(us));
import type { QuietWait } from '../harness/runner/quietGate';
import type { RateSearchConfig, SearchProbe } from '../harness/runner/rateSearch';

/*
 * The report's sections for the rate search (`load.search`) and for repetitions run until the answer is
 * clear (`repetitions: {…, until}`): pure, summary in, Markdown lines out; empty when the run had neither.
 */

const answer = (s: RateSearchSummary): string => (s.maxQps === null ? 'none' : `${s.outcome === 'reached-to' ? '≥ ' : ''}${s.estimateQps ?? s.maxQps}`);

/** "3.0 s (busy 12 %)", or "20.0 s, not quiet (busy 85 %)" when the wait ran out; "—" for a probe that did not wait. */
function waitCell(w: QuietWait | undefined): string {
  if (w === undefined) return '—';
  return `${(w.waitedUs / 1e6).toFixed(1)} s${w.quiet ? '' : ', not quiet'} (busy ${(100 * w.busyShare).toFixed(0)} %)`;
}

/**
 * A figure within ±closeMargin of its limit (judgeProbe's band). The probe's `provisional` flag also holds
 * for an inconclusive fail (it means "probe the rate again"), so the label recomputes the band from the figures.
 */
function withinBand(p: SearchProbe, c: RateSearchConfig): boolean {
  const near = (value: number | null, limit: number | null): boolean => value !== null && limit !== null && limit > 0 && Math.abs(value - limit) <= c.closeMargin * limit;
  return near(p.p99Us, c.objective.p99Us) || near(p.errorShare, c.objective.errorShare);
}

/**
 * "pass", "fail (close)", "fail (noisy, inconclusive)", "fail (after a higher fail, inconclusive)": an
 * inconclusive fail says why, close only within the band.
 */
export function verdictLabel(p: SearchProbe, c: RateSearchConfig): string {
  const marks = [...(withinBand(p, c) ? ['close'] : []), ...(p.noisyFail === true ? ['noisy, inconclusive'] : []), ...(p.afterHigherFail === true && p.noisyFail !== true ? ['after a higher fail, inconclusive'] : [])];
  return `${p.verdict}${marks.length > 0 ? ` (${marks.join('; ')})` : ''}`;
}

/** "Maximum rate under the objective": one row per data plane × placement, then every probe of each search. */
export function searchSection(searches: readonly RateSearchSummary[] | undefined): string[] {
  if (searches === undefined || searches.length === 0) return [];
  const first = searches[0] as RateSearchSummary;
  const lines = [`## Maximum rate under the objective (${objectiveText(first.config)})`, '',
    `Open-loop rates from ${first.config.fromQps} to ${first.config.toQps} qps over ${first.loadPoint.connections} connections, doubled while they pass${first.config.nearLimitFactor === undefined ? '' : ` (×${first.config.nearLimitFactor} once a passing rate is within ±${Math.round(100 * first.config.closeMargin)} % of a limit: the knee is near)`}, then bisected (Nighthawk's exponential search); at most ${first.config.maxProbes} probes, each a short clean step${(first.config.minRequests ?? 0) > 0 ? ` of at least ${first.config.minRequests} requests` : ''}; a verdict whose P99 or error share lies within ±${Math.round(100 * first.config.closeMargin)} % of its limit is provisional (marked close), and a fail (on P99 or on errors) while other work used more than ${Math.round(100 * (first.config.noisyShare ?? 0.1))} % of the machine or the hypervisor stole CPU is inconclusive (marked noisy, inconclusive: left out of its rate's verdict while the rate has other probes); either is, at an end of the bracket, probed again: two probes on the same side decide, a split takes a third and the median of the three decides.${first.config.confirmBounds === true ? ' Before the search ends, the highest passing rate must pass again and the lowest failing rate fail again.' : ''}${first.config.debtRule === true ? ' A fail on P99 alone right after an overload at a higher rate (errors over the limit) is inconclusive too (marked after a higher fail): an overload leaves debt behind.' : ''}${first.config.fit === 'isotonic-median' ? ' Rates are judged by a monotone fit of every conclusive probe (an L1 isotonic regression of ln(figure ÷ limit) against the rate: a rate that disagrees with its neighbours is pooled with them at their median); the max is where that fit crosses the objective, interpolated in ln(rate) between the highest passing and the lowest failing rate of the fit, which bound it.' : ' The maximum lies between the highest passing and the lowest failing rate.'}`, '',
    '| data plane | placement | max qps | known within (qps) | probes | ends confirmed | how it ended |', '| --- | --- | ---: | --- | ---: | --- | --- |'];
  for (const s of searches) {
    lines.push(`| ${s.dataplane} | ${s.placement} | ${answer(s)} | [${s.knownWithin.low ?? '—'}, ${s.knownWithin.high ?? '—'}) | ${s.probes.length} | ${s.config.confirmBounds === true ? (s.confirmed ? 'yes' : 'no') : '—'} | ${mdCell(s.note)} |`);
  }
  lines.push('');
  for (const s of searches) {
    const waits = s.probes.some((p) => p.quietWait !== undefined);
    lines.push(`### Probes: ${s.dataplane}, ${s.placement}`, '', `| # | offered qps | achieved qps | P50 | P99 | max | errors | CPU µs/request |${waits ? ' waited for quiet (machine busy before the probe) |' : ''} verdict (⚠ noisy: the step\'s noise fingerprint flagged other work on the machine) |`, `| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${waits ? ' ---: |' : ''} --- |`);
    for (const p of s.probes) {
      lines.push(`| ${p.probe} | ${p.qps} | ${p.achievedQps === null ? '—' : p.achievedQps.toFixed(0)} | ${usCell(p.p50Us)} | ${usCell(p.p99Us)} | ${usCell(p.maxUs)} | ${p.errors} (${(100 * p.errorShare).toFixed(2)} %) | ${p.cpuUsPerRequest === null ? '—' : p.cpuUsPerRequest.toFixed(1)} |${waits ? ` ${waitCell(p.quietWait)} |` : ''} ${verdictLabel(p, s.config)}: ${mdCell(p.reason.replace(/ \(noisy machine\)$/, '').replace(/ \(right after an overload at a higher rate\)$/, ''))}${p.noisy === true ? ' ⚠ noisy' : ''} |`);
    }
    lines.push('');
  }
  return lines;
}

/** "Repetitions": per point, how many ran and whether its median P99 settled (⚠ when max was reached first). */
export function repetitionSection(groups: readonly SummaryGroup[]): string[] {
  const withVerdict = groups.filter((g) => g.repetitionVerdict !== undefined);
  if (withVerdict.length === 0) return [];
  const v = withVerdict[0]?.repetitionVerdict;
  if (v === undefined) return [];
  const lines = ['## Repetitions until the answer is clear', '',
    `Each point was repeated (interleaved) from ${v.min} up to ${v.max} times until the 95 % interval of its median P99 was within ±${(100 * v.untilShare).toFixed(1)} % of that median.`, '',
    '| data plane | placement | load | result |', '| --- | --- | --- | --- |'];
  for (const g of withVerdict) {
    const p = g.loadPoint;
    lines.push(`| ${g.dataplane} | ${g.placement} | ${p.qps === 0 ? 'max' : `${p.qps} qps`} c${p.connections} ${p.payloadBytes} B | ${g.repetitionVerdict?.reachedMax === true ? '⚠ ' : ''}${mdCell(repetitionVerdictText(g) ?? '')} |`);
  }
  return [...lines, ''];
}
