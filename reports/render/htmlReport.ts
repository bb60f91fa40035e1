import type { Chart } from '../charts/chartTypes';
import type { FlameGraph } from '../charts/flameGraphs';
import { escapeHtml, markdownToHtml } from './markdownHtml';

/** The JavaScript the page needs, inlined so the report opens offline (no CDN). */
export interface InlineLibraries {
  readonly vega: string;
  readonly vegaLite: string;
  readonly vegaEmbed: string;
  /** The d3 modules d3-flame-graph needs, each a UMD build adding to the global `d3`, in dependency order. */
  readonly d3: string;
  /** d3-flame-graph's UMD build (global `flamegraph`; it injects its own CSS). */
  readonly d3FlameGraph: string;
}

export interface HtmlReportInputs {
  readonly title: string;
  /** The Markdown summary without chart images (the page draws the charts itself). */
  readonly summaryMarkdown: string;
  readonly charts: readonly Chart[];
  readonly flameGraphs: readonly FlameGraph[];
  readonly libraries: InlineLibraries;
  /** The closing line of the page. */
  readonly footer?: string;
}

/** Keeps inlined text from closing its <script> element early. */
function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/\/\/# sourceMappingURL=\S+/g, '');
}

const style = `
body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #222; background: #fff; }
main { max-width: 1400px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 24px; } h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; } h3 { font-size: 16px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; } th { background: #f4f4f4; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #f4f4f4; padding: 0 3px; border-radius: 3px; }
figure { margin: 16px 0 28px; } figcaption { font-weight: bold; margin-bottom: 6px; } .caption { color: #555; font-size: 13px; max-width: 900px; }
.chart { overflow-x: auto; }
.flame-controls { margin: 4px 0; font-size: 13px; } .flame-controls input { width: 280px; } .flame-search-result { color: #555; margin-left: 8px; }
.flame-note { color: #a33; }
details { margin: 8px 0; } summary { cursor: pointer; }
`;

/**
 * A self-contained HTML report: summary tables, every chart embedded with vega-embed (SVG renderer), and
 * the flame graphs drawn by d3-flame-graph (search, click-to-zoom) from inlined frame trees.
 */
export function htmlReport(i: HtmlReportInputs): string {
  const specs = Object.fromEntries(i.charts.map((c) => [c.id, c.spec]));
  const figures = i.charts.map((c) => `<figure class="chart-figure" aria-label="${escapeHtml(c.title)}"><div class="chart" id="chart-${c.id}" data-chart-id="${c.id}"></div><p class="caption">${escapeHtml(c.caption)}</p></figure>`);
  const diffs = i.flameGraphs.filter((f) => f.kind === 'diff');
  const perComponent = i.flameGraphs.filter((f) => f.kind === 'component');
  const flame = (f: FlameGraph): string => [
    `<figure class="flame" data-flame-id="${f.id}" data-kind="${f.kind}">`,
    `<figcaption>${escapeHtml(f.title)}</figcaption>`,
    `<div class="flame-controls"><input type="search" class="flame-search" placeholder="search frames (regular expression)" aria-label="search frames of ${escapeHtml(f.title)}"> <button type="button" class="flame-reset">reset zoom</button><span class="flame-search-result"></span></div>`,
    `<div class="flame-chart" data-rendered="false"></div>`,
    `<p class="caption">${escapeHtml(f.caption)}</p>`,
    '</figure>',
  ].join('');
  const flameData = Object.fromEntries(i.flameGraphs.map((f) => [f.id, { kind: f.kind, unit: f.unit, tree: f.tree }]));
  const flameSection = i.flameGraphs.length === 0 ? '' : [
    '<h2>Flame graphs</h2>',
    '<p class="caption">From cpu-clock stack samples of each component\'s cgroup. Click a frame to zoom into it, "reset zoom" to go back; the search box highlights the frames whose names match and says what share of the samples they hold. Differential graphs take their widths from the data plane and colour each frame red where it costs more per request than in the baseline, blue where it costs less, and orange where the baseline has no such frame. JS frames are named from V8\'s perf map; a run of frames no symbol names is one "[unknown]" frame; "[file]" is code in that file that no symbol covers.</p>',
    ...diffs.map(flame),
    ...[...new Set(perComponent.map((f) => f.dataplane))].map((dp) => `<details><summary>${escapeHtml(dp)}: per component</summary>${perComponent.filter((f) => f.dataplane === dp).map(flame).join('\n')}</details>`),
  ].join('\n');
  const boot = `
(function () {
  var specs = JSON.parse(document.getElementById('meshbench-specs').textContent);
  var done = Object.keys(specs).map(function (id) {
    var el = document.getElementById('chart-' + id);
    return vegaEmbed(el, specs[id], { renderer: 'svg', actions: false }).then(function () { el.setAttribute('data-rendered', 'true'); })
      .catch(function (err) { el.setAttribute('data-rendered', 'error'); console.error('chart ' + id + ': ' + err); });
  });
  var flames = JSON.parse(document.getElementById('meshbench-flames').textContent);
  var widthPx = Math.max(600, document.querySelector('main').clientWidth - 8);
  var fmt = function (v) { return Number.isInteger(v) ? String(v) : v.toPrecision(3); };
  // d3-flame-graph's UMD build exports its factory as flamegraph.default (v5).
  // d3-flame-graph compiles the term as a RegExp; a term that is not one is matched as plain text.
  var matcher = function (d, term) {
    if (!term) return false;
    var name = d.data.name;
    try { return new RegExp(term).test(name); } catch (e) { return name.indexOf(term) !== -1; }
  };
  Array.prototype.forEach.call(document.querySelectorAll('figure.flame'), function (fig) {
    var f = flames[fig.getAttribute('data-flame-id')];
    var el = fig.querySelector('.flame-chart');
    var result = fig.querySelector('.flame-search-result');
    try {
      var total = f.tree.value;
      var chart = flamegraph.default().width(widthPx).cellHeight(18).minFrameSize(1).transitionDuration(250).sort(false)
        .setSearchMatch(matcher)
        .setSearchHandler(function (found, sum, all) {
          result.textContent = found.length === 0 ? '' : found.length + ' frames, ' + fmt(sum) + ' of ' + fmt(all) + ' ' + f.unit + ' (' + (100 * sum / all).toFixed(1) + '%)';
        })
        .tooltip(flamegraph.tooltip.defaultFlamegraphTooltip().text(function (d) {
          var delta = d.data.delta === undefined ? '' : ', ' + (d.data.delta >= 0 ? '+' : '') + fmt(d.data.delta) + ' vs baseline';
          return d.data.name + ' (' + fmt(d.value) + ' ' + f.unit + ', ' + (100 * d.value / total).toFixed(2) + '%' + delta + ')';
        }));
      if (f.kind === 'diff') chart.setColorMapper(flamegraph.colorMapper.differentialColorMapper);
      d3.select(el).datum(f.tree).call(chart);
      fig.querySelector('.flame-search').addEventListener('input', function (ev) {
        var term = ev.target.value;
        if (term === '') { chart.clear(); result.textContent = ''; } else chart.search(term);
      });
      fig.querySelector('.flame-reset').addEventListener('click', function () { chart.resetZoom(); });
      el.meshbenchFlameGraph = chart;
      el.setAttribute('data-rendered', 'true');
    } catch (err) {
      el.setAttribute('data-rendered', 'error');
      console.error('flame graph ' + fig.getAttribute('data-flame-id') + ': ' + err);
    }
  });
  window.meshbenchChartsReady = Promise.all(done);
})();`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(i.title)}</title>
<link rel="icon" href="data:,">
<style>${style}</style>
<script>${scriptSafe(i.libraries.vega)}</script>
<script>${scriptSafe(i.libraries.vegaLite)}</script>
<script>${scriptSafe(i.libraries.vegaEmbed)}</script>
${i.flameGraphs.length === 0 ? '' : `<script>${scriptSafe(i.libraries.d3)}</script>\n<script>${scriptSafe(i.libraries.d3FlameGraph)}</script>`}
</head>
<body>
<main>
${markdownToHtml(i.summaryMarkdown)}
${i.charts.length === 0 ? '' : '<h2>Charts</h2>'}
${figures.join('\n')}
${flameSection}
<p class="caption">${escapeHtml(i.footer ?? 'Generated by meshbench report. Data: steps.csv beside this file; one SVG and one Vega-Lite spec per chart in charts/.')}</p>
</main>
<script type="application/json" id="meshbench-specs">${JSON.stringify(specs).replace(/</g, '\\u003c')}</script>
<script type="application/json" id="meshbench-flames">${JSON.stringify(flameData).replace(/</g, '\\u003c')}</script>
<script>${boot}</script>
</body>
</html>
`;
}
