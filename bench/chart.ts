// The side-by-side result as an SVG bar chart: one group of bars per
// (capture, filter) cell, one bar per engine, Mpps on a log scale (the
// engines differ by up to 10x and the cells by 50x, a linear axis would
// flatten the slow ones). Plain SVG text: no dependency.
import type { PeerCell } from './peers.js';

const COLORS: Record<string, string> = {
  'libpcap': '#8c8c8c', 'pflua': '#f2b134', 'pflua-bpf': '#e07b39', 'pflua-native': '#c0392b', 'luapf': '#2d6fb7',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function peersChart(cells: PeerCell[], engines: string[], title: string): string {
  const bar = 7;
  const gap = 10;
  const groupW = engines.length * bar + gap;
  const left = 56;
  const top = 40;
  const plotH = 300;
  const bottom = 110;
  const width = left + cells.length * groupW + 20;
  const height = top + plotH + bottom;
  const values = cells.flatMap((c) => engines.map((e) => c.engines[e]?.medianMpps ?? 0)).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const y = (v: number) => top + plotH - (Math.log10(v / lo) / Math.log10(hi / lo)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`,
  ];
  // decades and their 2x, 5x lines
  for (let d = lo; d <= hi; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > hi) break;
      parts.push(`<line x1="${left}" x2="${width - 20}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${m === 1 ? '#bbb' : '#eee'}"/>`);
      parts.push(`<text x="${left - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${v}</text>`);
    }
  }
  parts.push(`<text transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">Mpps (log scale)</text>`);
  cells.forEach((c, i) => {
    const x0 = left + i * groupW + gap / 2;
    engines.forEach((e, k) => {
      const v = c.engines[e]?.medianMpps;
      if (!v) return;
      const yt = y(v);
      parts.push(`<rect x="${x0 + k * bar}" y="${yt.toFixed(1)}" width="${bar - 1}" height="${(top + plotH - yt).toFixed(1)}" fill="${COLORS[e] ?? '#444'}"><title>${esc(`${c.filter} × ${c.capture}: ${e} ${v.toFixed(1)} Mpps`)}</title></rect>`);
    });
    const cx = x0 + (engines.length * bar) / 2;
    parts.push(`<text transform="translate(${cx} ${top + plotH + 8}) rotate(60)" fill="#222">${esc(c.filter)}</text>`);
    // the capture's name under the first cell of each capture
    if (i === 0 || cells[i - 1]!.capture !== c.capture) {
      parts.push(`<line x1="${x0 - gap / 2}" x2="${x0 - gap / 2}" y1="${top}" y2="${top + plotH + 100}" stroke="#999" stroke-dasharray="3 3"/>`);
      parts.push(`<text x="${x0}" y="${top + plotH + 100}" font-weight="bold">${esc(c.capture)}</text>`);
    }
  });
  engines.forEach((e, k) => {
    const lx = left + k * 110;
    parts.push(`<rect x="${lx}" y="26" width="10" height="10" fill="${COLORS[e] ?? '#444'}"/><text x="${lx + 14}" y="35">${esc(e)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
