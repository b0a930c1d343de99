// The flow graph as a static SVG for the default card: steps in layers by their longest distance
// from `start`, edges as curves, foreach edges dashed and labelled with the field they iterate.
import { escapeHtml } from '../html.js';

export interface CardGraph {
  order: string[];
  nodes: Record<string, { type: string; out: string[]; foreach?: string; condition?: string }>;
}

const BOX_W = 150, BOX_H = 34, GAP_X = 30, GAP_Y = 56, PAD = 16;

export function graphSvg(graph: CardGraph, highlight?: string): string {
  const depth = new Map<string, number>();
  for (const name of graph.order) {
    const d = depth.get(name) ?? 0;
    depth.set(name, d);
    for (const next of graph.nodes[name]?.out ?? []) if ((depth.get(next) ?? -1) < d + 1) depth.set(next, d + 1);
  }
  const layers: string[][] = [];
  for (const name of graph.order) (layers[depth.get(name)!] ??= []).push(name);
  const widest = Math.max(...layers.map((l) => l.length));
  const width = PAD * 2 + widest * BOX_W + (widest - 1) * GAP_X;
  const height = PAD * 2 + layers.length * BOX_H + (layers.length - 1) * GAP_Y;
  const pos = new Map<string, { x: number; y: number }>();
  layers.forEach((layer, i) => {
    const lw = layer.length * BOX_W + (layer.length - 1) * GAP_X;
    layer.forEach((name, j) => pos.set(name, { x: (width - lw) / 2 + j * (BOX_W + GAP_X), y: PAD + i * (BOX_H + GAP_Y) }));
  });
  const edges: string[] = [];
  for (const name of graph.order) {
    const node = graph.nodes[name];
    const a = pos.get(name)!;
    for (const next of node.out) {
      const b = pos.get(next);
      if (!b) continue;
      const x1 = a.x + BOX_W / 2, y1 = a.y + BOX_H, x2 = b.x + BOX_W / 2, y2 = b.y;
      const my = (y1 + y2) / 2;
      const foreach = node.type === 'split-foreach';
      edges.push(`<path class="edge" d="M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2 - 4}" fill="none" stroke="#8a94a6" stroke-width="1.4"${foreach ? ' stroke-dasharray="5 3"' : ''} marker-end="url(#arrow)"/>`);
      if (foreach && node.foreach) edges.push(`<text x="${(x1 + x2) / 2 + 6}" y="${my}" font-size="11" fill="#5c6573">foreach ${escapeHtml(node.foreach)}</text>`);
    }
  }
  const boxes = graph.order.map((name) => {
    const p = pos.get(name)!;
    const on = name === highlight;
    return `<g class="step"><rect x="${p.x}" y="${p.y}" width="${BOX_W}" height="${BOX_H}" rx="6" fill="${on ? '#3b6fd8' : '#f6f7f9'}" stroke="${on ? '#1f4e9c' : '#b8c4d9'}"/><text x="${p.x + BOX_W / 2}" y="${p.y + BOX_H / 2 + 4}" text-anchor="middle" font-size="13" fill="${on ? '#fff' : '#1d2330'}">${escapeHtml(name)}</text></g>`;
  });
  return `<svg class="flow-graph" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="flow graph" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#8a94a6"/></marker></defs>${edges.join('')}${boxes.join('')}</svg>`;
}
