/*
 * Flame graphs from folded stacks ("root;child;leaf count" lines, as stackcollapse and the probes write
 * them) rendered to a static SVG, in the manner of Brendan Gregg's flamegraph.pl: root at the bottom,
 * width = samples, hover titles. A differential graph takes its widths from one profile and colours each
 * frame by how much it grew (red) or shrank (blue) against another, both normalised per request.
 * Pure and deterministic: the same stacks give the same bytes.
 */

export interface FlameNode {
  readonly name: string;
  value: number;
  readonly children: Map<string, FlameNode>;
}

export function newNode(name: string): FlameNode {
  return { name, value: 0, children: new Map() };
}

/** Adds folded stacks to a tree; `prefix` frames (e.g. the component) go below the stack's own root; counts are multiplied by `scale`. */
export function addFolded(root: FlameNode, folded: string, prefix: readonly string[] = [], scale = 1): FlameNode {
  for (const raw of folded.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const space = line.lastIndexOf(' ');
    if (space <= 0) continue;
    const count = Number(line.slice(space + 1));
    if (!Number.isFinite(count) || count <= 0) continue;
    const v = count * scale;
    let node = root;
    node.value += v;
    for (const frame of [...prefix, ...line.slice(0, space).split(';')]) {
      let child = node.children.get(frame);
      if (child === undefined) {
        child = newNode(frame);
        node.children.set(frame, child);
      }
      child.value += v;
      node = child;
    }
  }
  return root;
}

export function parseFolded(folded: string, rootName = 'all'): FlameNode {
  return addFolded(newNode(rootName), folded);
}

function depthOf(n: FlameNode): number {
  let d = 0;
  for (const c of n.children.values()) d = Math.max(d, depthOf(c));
  return d + 1;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A stable hash so a frame keeps its colour across graphs. */
function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i += 1) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

function warmColor(name: string): string {
  const h = hash(name);
  const kernel = /_\[k\]$|\[kernel\.kallsyms\]$/.test(name);
  // flamegraph.pl's palettes: "hot" for user space, orange-ish for kernel frames.
  const r = kernel ? 225 + (h % 30) : 205 + (h % 50);
  const g = kernel ? 120 + ((h >>> 8) % 60) : (h >>> 8) % 190;
  const b = kernel ? 30 + ((h >>> 16) % 30) : (h >>> 16) % 55;
  return `rgb(${r},${g},${b})`;
}

/** Red for growth, blue for shrinkage, white for none; `delta` in [-1, 1]. */
function diffColor(delta: number): string {
  const d = Math.max(-1, Math.min(1, delta));
  const fade = Math.round(255 * (1 - Math.abs(d)));
  return d >= 0 ? `rgb(255,${fade},${fade})` : `rgb(${fade},${fade},255)`;
}

export interface FlameGraphOptions {
  readonly title: string;
  readonly subtitle?: string;
  /** A line under the subtitle the reader must see (e.g. that a binary is stripped). */
  readonly note?: string;
  readonly widthPx?: number;
  /** Unit of the values in titles ("samples", "samples/request"). */
  readonly unit?: string;
  /** For a differential graph: the tree to compare against (same normalisation as the main tree). */
  readonly versus?: FlameNode;
}

const frameHeightPx = 16;
const padPx = 10;
const headerPx = 44;
const noteHeaderPx = 60;
const charWidthPx = 6.1;

function find(versus: FlameNode | undefined, path: readonly string[]): FlameNode | undefined {
  let n = versus;
  for (const p of path) n = n?.children.get(p);
  return n;
}

/** The SVG text of a flame graph of `root` (root frame drawn at the bottom). */
export function flameGraphSvg(root: FlameNode, o: FlameGraphOptions): string {
  const widthPx = o.widthPx ?? 1200;
  const depth = depthOf(root);
  const header = o.note === undefined ? headerPx : noteHeaderPx;
  const heightPx = header + depth * frameHeightPx + padPx * 2;
  const usable = widthPx - 2 * padPx;
  const unit = o.unit ?? 'samples';
  const total = root.value;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="flamegraph" width="${widthPx}" height="${heightPx}" viewBox="0 0 ${widthPx} ${heightPx}" font-family="Verdana, sans-serif" font-size="11">`);
  out.push(`<rect x="0" y="0" width="${widthPx}" height="${heightPx}" fill="#fafafa"/>`);
  out.push(`<text x="${widthPx / 2}" y="20" text-anchor="middle" font-size="15">${escapeXml(o.title)}</text>`);
  if (o.subtitle !== undefined) out.push(`<text x="${widthPx / 2}" y="36" text-anchor="middle" fill="#555">${escapeXml(o.subtitle)}</text>`);
  if (o.note !== undefined) out.push(`<text class="note" x="${widthPx / 2}" y="52" text-anchor="middle" fill="#a33">${escapeXml(o.note)}</text>`);
  if (total <= 0) {
    out.push(`<text x="${widthPx / 2}" y="${header + 14}" text-anchor="middle" fill="#888">no samples</text></svg>`);
    return out.join('\n');
  }
  const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(3));
  const draw = (n: FlameNode, path: string[], level: number, x: number): void => {
    const w = (n.value / total) * usable;
    if (w < 0.3) return;
    const y = heightPx - padPx - (level + 1) * frameHeightPx;
    let fill = warmColor(n.name);
    let extra = '';
    if (o.versus !== undefined) {
      const other = find(o.versus, path.slice(1));
      const delta = n.value - (other?.value ?? 0);
      // Relative change, so a frame that doubled is as red at the leaf as at the root.
      const larger = Math.max(n.value, other?.value ?? 0);
      fill = diffColor(larger > 0 ? delta / larger : 0);
      extra = `, ${delta >= 0 ? '+' : ''}${fmt(delta)} vs baseline${other === undefined ? ' (new)' : ''}`;
    }
    const pct = ((100 * n.value) / total).toFixed(2);
    const chars = Math.floor((w - 6) / charWidthPx);
    const label = chars < 3 ? '' : n.name.length <= chars ? n.name : `${n.name.slice(0, chars - 2)}..`;
    out.push(`<g class="frame"><title>${escapeXml(`${n.name} (${fmt(n.value)} ${unit}, ${pct}%${extra})`)}</title><rect x="${(padPx + x).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${frameHeightPx - 1}" fill="${fill}" rx="2"/>${label === '' ? '' : `<text x="${(padPx + x + 3).toFixed(1)}" y="${y + 11.5}">${escapeXml(label)}</text>`}</g>`);
    let cx = x;
    const children = [...n.children.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const c of children) {
      draw(c, [...path, c.name], level + 1, cx);
      cx += (c.value / total) * usable;
    }
  };
  draw(root, [root.name], 0, 0);
  out.push('</svg>');
  return out.join('\n');
}
