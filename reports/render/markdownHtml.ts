/*
 * Just enough Markdown → HTML for the summaries meshbench itself writes (headings, lists, pipe tables,
 * paragraphs, **bold**, `code`, links): the HTML report shows the same text as summary.md without a
 * Markdown dependency. Not a general Markdown renderer.
 */

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function inline(s: string): string {
  return escapeHtml(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>');
}

function cells(row: string): string[] {
  return row.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

export function markdownToHtml(md: string): string {
  const out: string[] = [];
  const lines = md.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    const heading = /^(#{1,4}) (.*)$/.exec(line);
    if (heading !== null) {
      const level = (heading[1] as string).length;
      out.push(`<h${level}>${inline(heading[2] as string)}</h${level}>`);
      i += 1;
    } else if (line.startsWith('- ')) {
      out.push('<ul>');
      while (i < lines.length && (lines[i] as string).startsWith('- ')) out.push(`<li>${inline((lines[i++] as string).slice(2))}</li>`);
      out.push('</ul>');
    } else if (line.startsWith('|')) {
      const head = cells(line);
      const align = cells(lines[i + 1] ?? '').map((c) => (c.endsWith(':') ? ' class="num"' : ''));
      out.push('<table>', `<thead><tr>${head.map((c, k) => `<th${align[k] ?? ''}>${inline(c)}</th>`).join('')}</tr></thead>`, '<tbody>');
      i += 2;
      while (i < lines.length && (lines[i] as string).startsWith('|')) out.push(`<tr>${cells(lines[i++] as string).map((c, k) => `<td${align[k] ?? ''}>${inline(c)}</td>`).join('')}</tr>`);
      out.push('</tbody></table>');
    } else if (line.trim() === '') {
      i += 1;
    } else {
      const para: string[] = [];
      while (i < lines.length && (lines[i] as string).trim() !== '' && !/^(#|- |\|)/.test(lines[i] as string)) para.push(lines[i++] as string);
      out.push(`<p>${inline(para.join(' '))}</p>`);
    }
  }
  return out.join('\n');
}
